"""The "Desktop" tab: global hotkeys (with what the platform allows and any conflict in one
sentence each), close-to-tray, the mini window, and the offline voice pack (download with
progress, cancel, and what is installed)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QKeySequenceEdit, QLabel, QProgressBar, QPushButton, QWidget,
)

from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.parts import panel_column, settings_form, text_label


class HotkeyEdit(QWidget):
    """A key editor with a Clear button; ``chosen(name)`` ('' when cleared)."""

    chosen = Signal(str)

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QKeySequenceEdit(self)
        self.edit.setMaximumSequenceLength(1)
        self.edit.setAccessibleName(label)
        self.edit.editingFinished.connect(self._finished)
        self.clear = QPushButton("Clear", self)
        self.clear.setAccessibleName(f"Clear the {label.lower()}")
        self.clear.clicked.connect(self._cleared)
        row.addWidget(self.edit, 1)
        row.addWidget(self.clear)

    def _finished(self) -> None:
        self.chosen.emit(self.edit.keySequence().toString(QKeySequence.SequenceFormat.PortableText))

    def _cleared(self) -> None:
        self.edit.clear()
        self.chosen.emit("")

    def set_key(self, name: str) -> None:
        self.edit.blockSignals(True)
        self.edit.setKeySequence(QKeySequence(name))
        self.edit.blockSignals(False)


class DesktopPanel(QWidget):
    """Signals: ``talk_key_chosen(str)``, ``mute_key_chosen(str)``, ``close_to_tray_toggled(bool)``,
    ``mini_requested``, ``download_requested``, ``cancel_requested``."""

    talk_key_chosen = Signal(str)
    mute_key_chosen = Signal(str)
    close_to_tray_toggled = Signal(bool)
    mini_requested = Signal()
    download_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = panel_column(self)
        column.addWidget(text_label("GLOBAL HOTKEYS", self, "section"))
        form = settings_form()
        self.talk_key = HotkeyEdit("Global push-to-talk key", self)
        self.mute_key = HotkeyEdit("Global mute key", self)
        self.talk_key.chosen.connect(self.talk_key_chosen)
        self.mute_key.chosen.connect(self.mute_key_chosen)
        form.addRow("Hold to talk", self.talk_key)
        form.addRow("Mute", self.mute_key)
        column.addLayout(form)
        self.hotkey_status = text_label("", self, "hint", wrap=True)
        self.hotkey_status.setAccessibleName("Global hotkey status")
        column.addWidget(self.hotkey_status)

        column.addWidget(text_label("WINDOW", self, "section"))
        self.close_to_tray = QCheckBox("Closing the window keeps Parley in the tray", self)
        self.close_to_tray.toggled.connect(self.close_to_tray_toggled)
        column.addWidget(self.close_to_tray)
        self.tray_note = text_label("", self, "hint", wrap=True)
        column.addWidget(self.tray_note)
        mini_row = QHBoxLayout()
        self.mini = QPushButton("Open the mini window", self)
        self.mini.setToolTip("A small window that stays on top: levels, who speaks, the last lines, a talk button")
        self.mini.clicked.connect(self.mini_requested)
        mini_row.addWidget(self.mini)
        mini_row.addStretch(1)
        column.addLayout(mini_row)

        column.addWidget(text_label("OFFLINE VOICE PACK", self, "section"))
        self.pack_status = QLabel("", self)
        self.pack_status.setWordWrap(True)
        self.pack_status.setTextFormat(Qt.TextFormat.PlainText)
        self.pack_status.setAccessibleName("Voice pack status")
        column.addWidget(self.pack_status)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Voice pack download progress")
        self.progress.hide()
        column.addWidget(self.progress)
        pack_row = QHBoxLayout()
        self.download = QPushButton("Download voice pack", self)
        self.download.setToolTip("Speech recognition and a voice for the offline demo, downloaded once")
        self.download.clicked.connect(self.download_requested)
        self.cancel = QPushButton("Cancel download", self)
        self.cancel.clicked.connect(self.cancel_requested)
        self.cancel.hide()
        pack_row.addWidget(self.download)
        pack_row.addWidget(self.cancel)
        pack_row.addStretch(1)
        column.addLayout(pack_row)
        column.addStretch(1)

    def set_hotkeys(self, talk: str, mute: str, status: str) -> None:
        self.talk_key.set_key(talk)
        self.mute_key.set_key(mute)
        self.hotkey_status.setText(status)

    def set_close_to_tray(self, on: bool, tray_available: bool) -> None:
        self.close_to_tray.blockSignals(True)
        self.close_to_tray.setChecked(on and tray_available)
        self.close_to_tray.blockSignals(False)
        self.close_to_tray.setEnabled(tray_available)
        self.tray_note.setText("" if tray_available else
                               "This desktop shows no tray icons, so closing the window quits Parley.")

    def show_pack(self, status: str, *, downloading: bool = False, can_download: bool = True,
                  done: int = 0, total: int = 0) -> None:
        self.pack_status.setText(status)
        self.progress.setVisible(downloading)
        if downloading:
            self.progress.setRange(0, max(1, total // 1024))
            self.progress.setValue(done // 1024)
            self.progress.setFormat(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else "Starting…")
        self.download.setVisible(not downloading)
        self.download.setEnabled(can_download)
        self.cancel.setVisible(downloading)
