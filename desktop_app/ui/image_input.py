"""Image input for the window: paste, drop, choose a file or capture the screen; look at it; send it.

:class:`ImageInput` is the one path every source takes: picture → :func:`~desktop_app.ui.images.prepare_image`
(scaled, encoded, checked) → :class:`~desktop_app.ui.dialogs.image_preview.ImagePreviewDialog` →
``send(data, mime, question)``, the controller's ``send_image`` intent, which returns the id of the
user message it created (None when there is no conversation to put it in). ``sent(item_id, data)``
then lets the transcript show the thumbnail. Problems are one sentence on ``problem``.

Drops and Ctrl+V reach it through :meth:`watch`, an event filter on the widgets that should take
pictures (the conversation and the text box): a paste with text on the clipboard stays a text paste.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_app.log import get_logger
from desktop_app.ui.dialogs.image_preview import ImagePreviewDialog
from desktop_app.ui.dialogs.screen_capture import ScreenPicker, WindowRect, grab_desktop, x11_windows
from desktop_app.ui.images import has_image, image_from_mime, load_image_file, prepare_image

log = get_logger("ui")

ImageSender = Callable[[bytes, str, str], "str | None"]
"""``send(data, mime, question) -> item id | None`` — the controller's ``send_image`` intent."""
#: Time for the compositor to take Parley's window off the screen before the desktop is grabbed.
HIDE_BEFORE_GRAB_MS = 300
FILE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff)"


class ImageInput(QObject):
    """Takes pictures from every source to the conversation (see the module docstring)."""

    sent = Signal(str, bytes)  # item id, the encoded image as sent
    problem = Signal(str)

    def __init__(self, window: QWidget, send: ImageSender, *,
                 list_windows: Callable[[], list[WindowRect]] = x11_windows) -> None:
        super().__init__(window)
        self._window = window
        self._send = send
        self._list_windows = list_windows
        self.dialog: ImagePreviewDialog | None = None
        self.picker: ScreenPicker | None = None

    # --- sources ---------------------------------------------------------------------------------

    def paste(self) -> bool:
        """Offer the clipboard's picture; False (and a sentence) when it holds none."""
        image = image_from_mime(QGuiApplication.clipboard().mimeData())
        if image is None:
            self.problem.emit("The clipboard holds no picture; copy an image or a screenshot first.")
            return False
        self.offer(image, "From the clipboard")
        return True

    def choose_file(self) -> None:
        """Ask for an image file and offer it."""
        name, _ = QFileDialog.getOpenFileName(self._window, "Send an image", str(Path.home()), FILE_FILTER)
        if name:
            self.offer_file(Path(name))

    def offer_file(self, path: Path) -> None:
        try:
            image = load_image_file(path)
        except ValueError as exc:
            self.problem.emit(f"That file cannot be sent: {exc}.")
            return
        self.offer(image, path.name)

    def capture_screen(self) -> None:
        """Hide the window, grab the desktop, and let the user pick a region or a window."""
        self._window.hide()
        QTimer.singleShot(HIDE_BEFORE_GRAB_MS, self._grab)

    def _grab(self) -> None:
        desktop = grab_desktop()
        if desktop is None:
            self._window.show()
            self.problem.emit("This desktop does not let Parley capture the screen; take a screenshot with "
                              "your system's tool and paste it instead.")
            return
        self.pick_from(desktop.toImage(), self._list_windows())

    def pick_from(self, desktop: QImage, windows: list[WindowRect]) -> ScreenPicker:
        """Show the picker over a grab of the desktop (separate from the grab so it can be tested)."""
        from PySide6.QtGui import QPixmap

        picker = ScreenPicker(QPixmap.fromImage(desktop), windows)
        picker.picked.connect(self._picked)
        picker.cancelled.connect(self._window.show)
        self.picker = picker
        picker.showFullScreen()
        picker.activateWindow()
        return picker

    def _picked(self, image: QImage) -> None:
        self._window.show()
        self.offer(image, "Screen capture")

    # --- preview and send ------------------------------------------------------------------------

    def offer(self, image: QImage, source: str) -> ImagePreviewDialog | None:
        """Prepare ``image`` and show the preview; Send sends it. Returns the dialog (None on failure)."""
        try:
            prepared = prepare_image(image)
        except ValueError as exc:
            self.problem.emit(f"That image cannot be sent: {exc}.")
            return None
        dialog = ImagePreviewDialog(prepared, self._window, source=source)
        dialog.accepted.connect(lambda: self._send_prepared(dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()  # window-modal, no nested event loop (qasync keeps running)
        return dialog

    def _send_prepared(self, dialog: ImagePreviewDialog) -> None:
        prepared = dialog.prepared
        item_id = self._send(prepared.data, prepared.mime, dialog.question)
        if item_id is None:
            self.problem.emit("Connect first: an image goes into a conversation.")
            return
        log.info("> image %s sent as %s (%s)", prepared.summary, item_id, prepared.mime)
        self.sent.emit(item_id, prepared.data)

    # --- drops and paste -------------------------------------------------------------------------

    def watch(self, widget: QWidget) -> None:
        """Let ``widget`` take dropped and pasted pictures."""
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(event, QDropEvent):
            if has_image(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
            image = image_from_mime(event.mimeData())
            if image is not None:
                event.acceptProposedAction()
                self.offer(image, "Dropped")
                return True
        elif kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.matches(QKeySequence.StandardKey.Paste):
            mime = QGuiApplication.clipboard().mimeData()
            if not mime.hasText() and has_image(mime):
                return self.paste()
        return super().eventFilter(watched, event)
