"""Images for the conversation: from the clipboard, a dropped file or a screen capture to the encoded
PNG/JPEG that goes into an ``input_image`` part.

Sizes follow the protocol core (:mod:`desktop_app.realtime.commands`): fit into 2048×2048, then the
short side at most 768 px (what the model sees at high detail; more pixels cost bandwidth and nothing
else), never enlarged. PNG keeps screenshots' text crisp; when the PNG is large (photos) a JPEG at
quality 85 is sent instead, on white where the image was transparent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QSize, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QImageWriter, QPainter

from desktop_app.realtime.commands import IMAGE_FIT_PX, IMAGE_SHORT_SIDE_PX, image_data_url

#: Above this many bytes of PNG the image is sent as JPEG (a screenshot of text is ~100–400 kB).
PNG_BUDGET_BYTES = 1_500_000
JPEG_QUALITY = 85
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """An image ready to send: encoded bytes, their MIME type, the sent and the original size."""

    data: bytes
    mime: str
    size: QSize
    original: QSize

    @property
    def summary(self) -> str:
        """"1280×768 · PNG · 412 kB (from 2560×1536)" for the preview dialog."""
        kind = "PNG" if self.mime == "image/png" else "JPEG"
        kb = max(1, round(len(self.data) / 1000))
        text = f"{self.size.width()}×{self.size.height()} · {kind} · {kb} kB"
        if self.original != self.size:
            text += f" (from {self.original.width()}×{self.original.height()})"
        return text


def target_size(width: int, height: int) -> QSize:
    """The size to send an image of ``width``×``height`` at (never larger than it is)."""
    scale = min(1.0, IMAGE_FIT_PX / max(width, height))
    short = min(width, height) * scale
    if short > IMAGE_SHORT_SIDE_PX:
        scale *= IMAGE_SHORT_SIDE_PX / short
    return QSize(max(1, round(width * scale)), max(1, round(height * scale)))


def _encode(image: QImage, fmt: str, quality: int = -1) -> bytes:
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(fmt.encode("ascii")))
    writer.setQuality(quality)
    if not writer.write(image):
        raise ValueError(f"the image could not be encoded as {fmt} ({writer.errorString()})")
    buffer.close()
    return bytes(array.data())


def prepare_image(image: QImage) -> PreparedImage:
    """Scale and encode ``image`` for sending; ``ValueError`` with a reason when that is impossible."""
    if image.isNull() or image.width() < 1 or image.height() < 1:
        raise ValueError("there is no picture in it")
    original = image.size()
    size = target_size(image.width(), image.height())
    if size != original:
        image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    data, mime = _encode(image, "PNG"), "image/png"
    if len(data) > PNG_BUDGET_BYTES:
        flat = QImage(image.size(), QImage.Format.Format_RGB32)
        flat.fill(QColor("white"))
        painter = QPainter(flat)
        painter.drawImage(0, 0, image)
        painter.end()
        data, mime = _encode(flat, "JPEG", JPEG_QUALITY), "image/jpeg"
    image_data_url(data, mime)  # the same checks the send path makes: type and size limit
    return PreparedImage(data, mime, image.size(), original)


def load_image_file(path: Path) -> QImage:
    """The picture in the file at ``path``; ``ValueError`` with one reason for the user."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)  # camera photos carry their rotation in EXIF
    image = reader.read()
    if image.isNull():
        raise ValueError(f"{path.name} is not a picture Parley can read ({reader.errorString()})")
    return image


def image_from_mime(mime: QMimeData) -> QImage | None:
    """The picture in pasted or dropped data: image data first, else the first local image file."""
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            return image
    for url in mime.urls() if mime.hasUrls() else ():
        if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES:
            try:
                return load_image_file(Path(url.toLocalFile()))
            except ValueError:
                return None
    return None


def has_image(mime: QMimeData) -> bool:
    """Cheap check for drag-enter: does the data look like it carries a picture?"""
    if mime.hasImage():
        return True
    return mime.hasUrls() and any(url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES
                                  for url in mime.urls())
