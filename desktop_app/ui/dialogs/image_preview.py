"""The look before an image is sent: the picture as it will go out, its size and format, and a line
to ask something about it. Send puts it in the conversation; Cancel (or Esc) sends nothing."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop_app.ui.images import PreparedImage

PREVIEW_BOX = QSize(560, 380)


class ImagePreviewDialog(QDialog):
    """Shows ``prepared``; after ``exec()`` returns Accepted, :attr:`question` is the typed line."""

    def __init__(self, prepared: PreparedImage, parent: QWidget | None = None, *, source: str = "") -> None:
        super().__init__(parent)
        self.prepared = prepared
        self.setWindowTitle("Send this image?")
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 18, 20, 16)
        column.setSpacing(10)
        title = QLabel("Send this image to the assistant?", self)
        title.setStyleSheet("font-size: 12pt; font-weight: 700;")
        column.addWidget(title)
        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setAccessibleName("Image preview")
        image = QImage.fromData(prepared.data)
        pixmap = QPixmap.fromImage(image)
        if pixmap.width() > PREVIEW_BOX.width() or pixmap.height() > PREVIEW_BOX.height():
            pixmap = pixmap.scaled(PREVIEW_BOX, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
        self.picture.setPixmap(pixmap)
        self.picture.setStyleSheet("border: 1px solid palette(mid); border-radius: 6px; padding: 4px;")
        column.addWidget(self.picture, 1)
        self.details = QLabel((f"{source} · " if source else "") + prepared.summary, self)
        self.details.setProperty("role", "hint")
        column.addWidget(self.details)
        self.question_edit = QLineEdit(self)
        self.question_edit.setPlaceholderText("Ask about it (optional) — or just talk after sending")
        self.question_edit.setAccessibleName("Question about the image")
        column.addWidget(self.question_edit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.reject)
        self.send_button = QPushButton("Send image", self)
        self.send_button.setProperty("role", "primary")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.accept)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)
        column.addLayout(buttons)
        self.question_edit.setFocus()

    @property
    def question(self) -> str:
        """The line typed to go with the image (stripped; may be empty)."""
        return self.question_edit.text().strip()
