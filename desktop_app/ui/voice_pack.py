"""The Desktop tab's voice-pack section: what is installed, Download (with progress) and Cancel.

The pack's address is the ``desktop/voicepack_url`` setting, else ``PARLEY_VOICEPACK_URL``; with
neither, the section says so and Download is off. Once installed, the pack is activated at once
(its engines import lazily, so the offline demo's next answer uses them) and at every start.

Cancel is answered at once ("Stopping the download…", Cancel greyed): the worker thread notices
it at its next chunk, which on a stalled connection may take until the read times out, and only
then does the section offer Download again (resuming from the kept part).
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable

from PySide6.QtCore import QObject

from desktop_app.log import get_logger
from desktop_app.settings.schema import Settings
from desktop_app.tasks import spawn
from desktop_app.ui.widgets.desktop_panel import DesktopPanel
from desktop_app.voicepack.download import Cancelled, PackDownload, VoicePackError
from desktop_app.voicepack.store import activate, installed, pack_root

log = get_logger("ui")

URL_ENV = "PARLEY_VOICEPACK_URL"
NOT_INSTALLED = ("Not installed: the offline demo understands typed messages and answers with a tone. The pack "
                 "adds speech recognition and a voice.")
NO_SOURCE = " This build has no address for the pack (setting desktop/voicepack_url)."
DOWNLOADING = "Downloading the voice pack…"
STOPPING = "Stopping the download…"
PAUSED = "Download paused; press Download to continue where it stopped."


class VoicePackControl(QObject):
    """Runs one download at a time for ``panel``; ``status`` is the sentence shown."""

    def __init__(self, panel: DesktopPanel, settings: Callable[[], Settings], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self._settings = settings
        self._download: PackDownload | None = None
        self._stopping = False  # Cancel pressed; the worker has not stopped yet
        self.task: asyncio.Task[None] | None = None
        self.status = ""
        panel.download_requested.connect(self.start)
        panel.cancel_requested.connect(self.cancel)
        self.refresh()

    def manifest_url(self) -> str:
        return self._settings().voicepack_url or os.environ.get(URL_ENV, "")

    def refresh(self, sentence: str = "") -> None:
        pack = installed()
        url = self.manifest_url()
        self.status = sentence or (pack.describe() if pack is not None else NOT_INSTALLED + ("" if url else NO_SOURCE))
        self.panel.show_pack(self.status, can_download=bool(url))
        # An installed pack can be fetched again, whatever the sentence (a new install's, an error's).
        self.panel.download.setText("Download again" if pack is not None else "Download voice pack")

    def start(self) -> None:
        if self.task is not None and not self.task.done():
            return
        url = self.manifest_url()
        if not url:
            return
        self._download = PackDownload(url, pack_root(), self._progress)
        self._stopping = False
        self.panel.cancel.setEnabled(True)
        self.panel.show_pack(DOWNLOADING, downloading=True)
        self.task = spawn(self._run(self._download), name="voice pack download", on_crash=self._crashed)

    async def _run(self, download: PackDownload) -> None:
        try:
            pack = await download.run()
        except Cancelled:
            self.refresh(PAUSED)
            return
        except VoicePackError as exc:
            log.warning("! voice pack: %s (%s)", exc.user_message, exc.detail)
            self.refresh(exc.user_message)
            return
        activate()
        importlib.invalidate_caches()
        self.refresh(f"{pack.describe()} The offline demo speaks from its next answer.")

    def _crashed(self, exc: BaseException) -> None:
        self.refresh("The voice pack download failed; the details are in the log.")

    def _progress(self, done: int, total: int) -> None:
        if self._download is not None and self.task is not None and not self.task.done() and not self._stopping:
            self.panel.show_pack(DOWNLOADING, downloading=True, done=done, total=total)

    def cancel(self) -> None:
        if self._download is None or self.task is None or self.task.done():
            return
        self._download.cancel()
        self._stopping = True
        self.panel.pack_status.setText(STOPPING)  # the bar keeps what was fetched
        self.panel.cancel.setEnabled(False)
