"""Render ``resources/icons/parley.svg`` into every icon file the platforms want.

    .venv/bin/python packaging/make_icons.py          # rewrite the generated files
    .venv/bin/python packaging/make_icons.py --check  # exit 1 if a generated file is stale

Outputs (all committed, so a build needs no image tools):

* ``resources/icons/hicolor/<N>x<N>/apps/parley.png`` for N in 16…512 — the freedesktop icon theme
  layout, copied as-is into ``/usr/share/icons`` or an AppDir;
* ``resources/icons/parley.png`` (256 px) — the window icon and the AppImage's top-level icon;
* ``resources/icons/parley.ico`` — Windows (16…256, PNG-compressed entries, Vista+);
* ``resources/icons/parley.icns`` — macOS (16…1024, PNG-compressed entries, 10.7+).

* ``resources/icons/generated.json`` — the SHA-256 of the SVG they were rendered from.

Rendering uses Qt's own SVG renderer (QtSvg, part of PySide6-Essentials) on a QGuiApplication
running offscreen. ICO and ICNS are written here by hand: both are a small header plus the PNGs.

``--check`` never compares PNG bytes: Qt's rasteriser picks CPU-specific blending code, so the same
SVG renders ±1 apart in a few edge pixels on another machine (64 px and up), and the PNG bytes
differ. It checks instead that (1) the SVG's hash is the one recorded when the icons were made —
an SVG edited without regenerating fails here, on every machine; (2) every generated file is
there, and each ICO/ICNS has exactly the layout this script writes; (3) every image, ICO/ICNS
entries included, matches a fresh render within ``PIXEL_TOLERANCE`` per channel — a changed
renderer setting or a hand-edited PNG fails here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SOURCE = ICONS / "parley.svg"
THEME_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (the @2x types share a size with a 1x one).
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512),
    (b"ic10", 1024), (b"ic11", 32), (b"ic12", 64), (b"ic13", 256), (b"ic14", 512),
)
MANIFEST = "generated.json"
# Largest per-channel difference (of 255) tolerated between a committed image and a fresh render.
# Measured across machines: at most 1, in ≤ 15 edge pixels of 512 px; any drawing change is far above.
PIXEL_TOLERANCE = 8


def render_png(svg: Path, size: int) -> bytes:
    """The SVG rendered antialiased onto a transparent ``size``×``size`` canvas, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 6.11 stubs type the format as bytes; the binding accepts only str.
    image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico whose entries are PNGs (a 256 px entry is stored as width/height 0)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        png = pngs[size]
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns made of PNG elements."""
    body = b"".join(struct.pack(">4sI", kind, 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES)
    return struct.pack(">4sI", b"icns", 8 + len(body)) + body


def ico_entries(data: bytes) -> dict[int, bytes]:
    """The PNG entries of an .ico written by :func:`ico_bytes`, by pixel size."""
    _reserved, _kind, count = struct.unpack_from("<HHH", data, 0)
    entries = {}
    for index in range(count):
        dim, _, _, _, _, _, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * index)
        entries[dim or 256] = data[offset:offset + length]
    return entries


def icns_entries(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (element type, PNG) pairs of an .icns, in file order."""
    elements, position = [], 8
    while position + 8 <= len(data):
        kind, length = struct.unpack_from(">4sI", data, position)
        if length < 8:
            break
        elements.append((kind, data[position + 8:position + length]))
        position += length
    return elements


def _app() -> object:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # QPainter on QImage wants one


def outputs(icons: Path = ICONS) -> dict[Path, bytes]:
    """Every file rendered from ``icons/parley.svg`` and its contents (the manifest not included)."""
    _app()
    svg = icons / SOURCE.name
    pngs = render_all(svg)
    files = {icons / "hicolor" / f"{n}x{n}" / "apps" / "parley.png": pngs[n] for n in THEME_SIZES}
    files[icons / "parley.png"] = pngs[256]
    files[icons / "parley.ico"] = ico_bytes({n: pngs[n] for n in ICO_SIZES})
    files[icons / "parley.icns"] = icns_bytes(pngs)
    return files


def render_all(svg: Path) -> dict[int, bytes]:
    """The SVG rendered at every size any output needs."""
    _app()
    sizes = sorted(set(THEME_SIZES) | set(ICO_SIZES) | {size for _, size in ICNS_TYPES})
    return {size: render_png(svg, size) for size in sizes}


def source_hash(svg: Path) -> str:
    """The SHA-256 of the SVG's bytes, as recorded in the manifest."""
    return hashlib.sha256(svg.read_bytes()).hexdigest()


def manifest_bytes(icons: Path, files: dict[Path, bytes]) -> bytes:
    """The manifest for ``files``: the source's hash and the generated files' paths."""
    record = {
        "source": SOURCE.name,
        "sha256": source_hash(icons / SOURCE.name),
        "generator": "packaging/make_icons.py",
        "files": sorted(path.relative_to(icons).as_posix() for path in files),
    }
    return (json.dumps(record, indent=2) + "\n").encode()


def pixels(png: bytes) -> npt.NDArray[np.uint8]:
    """A PNG decoded to a height × width × 4 array of straight-alpha RGBA bytes."""
    from PySide6.QtGui import QImage

    image = QImage.fromData(png, "PNG")  # type: ignore[arg-type]  # as for save() above: str at run time
    if image.isNull():
        raise ValueError("not a PNG")
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    rows = np.frombuffer(bytes(image.constBits()), dtype=np.uint8)[:stride * height].reshape(height, stride)
    return rows[:, :width * 4].reshape(height, width, 4)


def pixel_difference(committed: bytes, fresh: bytes) -> int | None:
    """The largest per-channel difference between two PNGs, or None if they differ in size or can't be read."""
    try:
        old, new = pixels(committed), pixels(fresh)
    except ValueError:
        return None
    if old.shape != new.shape:
        return None
    return int(np.abs(old.astype(np.int16) - new.astype(np.int16)).max())


def _images_in(path: Path, data: bytes) -> tuple[dict[str, bytes], bytes | None]:
    """The PNG images a generated file holds, by label, and the container rebuilt from them (None for a PNG)."""
    if path.suffix == ".ico":
        entries = ico_entries(data)
        return {f"{size} px": png for size, png in entries.items()}, ico_bytes(entries)
    if path.suffix == ".icns":
        elements = icns_entries(data)
        body = b"".join(struct.pack(">4sI", kind, 8 + len(png)) + png for kind, png in elements)
        return ({kind.decode("latin-1"): png for kind, png in elements},
                struct.pack(">4sI", b"icns", 8 + len(body)) + body)
    return {"": data}, None


def file_problems(icons: Path, path: Path, new: bytes) -> list[str]:
    """Why the committed ``path`` is not ``new``, a fresh render of it, up to rendering noise."""
    name = path.relative_to(icons).as_posix()
    if not path.is_file():
        return [f"{name} is missing"]
    old = path.read_bytes()
    if old == new:
        return []
    problems = []
    old_images, rebuilt = _images_in(path, old)
    new_images, _ = _images_in(path, new)
    if rebuilt is not None and rebuilt != old:
        problems.append(f"{name} is not laid out as make_icons.py writes it")
    if sorted(old_images) != sorted(new_images):
        return [*problems, f"{name} holds {sorted(old_images)}, make_icons.py writes {sorted(new_images)}"]
    for label, png in new_images.items():
        difference = pixel_difference(old_images[label], png)
        where = f"{name} {label}".strip()
        if difference is None:
            problems.append(f"{where}: not a PNG of the size the SVG renders to")
        elif difference > PIXEL_TOLERANCE:
            problems.append(f"{where}: pixels differ from a fresh render by up to {difference}/255 "
                            f"(tolerance {PIXEL_TOLERANCE})")
    return problems


def check(icons: Path = ICONS) -> list[str]:
    """Why the committed icons in ``icons`` are not those of its SVG; empty when they are current."""
    svg, manifest_path = icons / SOURCE.name, icons / MANIFEST
    try:
        recorded = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{manifest_path.name} is missing or unreadable ({exc}); run packaging/make_icons.py"]
    problems = []
    if recorded.get("sha256") != source_hash(svg):
        problems.append(f"{svg.name} changed since the icons were generated (its SHA-256 is not the one "
                        f"in {manifest_path.name}); run packaging/make_icons.py and commit the result")
    fresh = outputs(icons)
    if sorted(recorded.get("files", [])) != sorted(p.relative_to(icons).as_posix() for p in fresh):
        problems.append(f"{manifest_path.name} lists other files than make_icons.py generates")
    for path, new in fresh.items():
        problems += file_problems(icons, path, new)
    return problems


def generate(icons: Path = ICONS) -> list[Path]:
    """Rewrite the generated files and the manifest in ``icons``; the paths written.

    With the SVG unchanged, a file that matches a fresh render up to rendering noise is kept, so
    regenerating on another machine does not churn the committed binaries.
    """
    files = outputs(icons)
    manifest = icons / MANIFEST
    unchanged_source = manifest.is_file() and manifest.read_bytes() == manifest_bytes(icons, files)
    files[manifest] = manifest_bytes(icons, files)
    written = []
    for path, data in files.items():
        if path.is_file() and (path.read_bytes() == data
                               or (unchanged_source and path != manifest and not file_problems(icons, path, data))):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only verify the committed files are current")
    parser.add_argument("--icons", type=Path, default=ICONS,
                        help="the folder holding parley.svg and the generated files (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.icons)
        for problem in problems:
            print(f"stale: {problem}")
        return 1 if problems else 0
    for path in generate(args.icons):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
