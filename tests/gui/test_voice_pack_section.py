"""The Desktop tab's voice-pack section (issue #22), the real widget and its control offscreen,
against a local HTTP server serving a small pack: Download shows progress then the installed pack;
Cancel mid-download answers at once, keeps the part, and the next Download resumes it; a wrong
checksum is one sentence and Download is offered again."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from desktop_app.settings.schema import Settings
from desktop_app.ui.theme import LIGHT
from desktop_app.ui.voice_pack import PAUSED, STOPPING, VoicePackControl
from desktop_app.ui.widgets.desktop_panel import DesktopPanel
from desktop_app.voicepack.store import installed, pack_root
from tests.helpers.wait import wait_until
from tests.voicepack.packserver import PROBE_MODULE, PackServer, build_pack, manifest_for

pytestmark = pytest.mark.gui

PACK = build_pack()
CHUNK = 65536  # what the gated server sends before it waits (and the downloader's read size)


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The pack goes to this test's data folder; its activation leaves sys.path as it was."""
    monkeypatch.setenv("PARLEY_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield


def section(qtbot, server: PackServer) -> tuple[DesktopPanel, VoicePackControl]:  # noqa: ANN001
    panel = DesktopPanel(LIGHT)
    qtbot.addWidget(panel)
    control = VoicePackControl(panel, lambda: Settings(voicepack_url=server.url("manifest.json")), panel)
    panel.show()
    return panel, control


def shown(panel: DesktopPanel) -> dict[str, bool]:
    return {"progress": panel.progress.isVisible(), "download": panel.download.isVisible(),
            "cancel": panel.cancel.isVisible()}


async def test_download_shows_progress_then_the_installed_pack(qloop, qtbot) -> None:  # noqa: ANN001
    gate = threading.Event()  # the server sends one chunk, then waits: the download is caught mid-way
    server = PackServer({"manifest.json": manifest_for(PACK), "pack.zip": PACK}, gate=gate)
    try:
        panel, control = section(qtbot, server)
        assert panel.pack_status.text().startswith("Not installed:") and panel.download.isEnabled()
        assert panel.download.text() == "Download voice pack" and shown(panel)["progress"] is False
        panel.download.click()
        await wait_until(lambda: panel.progress.value() > 0, 10, "the first bytes on the bar")
        assert panel.pack_status.text() == "Downloading the voice pack…"
        assert shown(panel) == {"progress": True, "download": False, "cancel": True}
        assert panel.progress.maximum() == len(PACK) // 1024 and panel.progress.value() == CHUNK // 1024
        assert panel.progress.format() == f"0.1 of {len(PACK) / 1e6:.1f} MB"
        gate.set()
        await wait_until(lambda: control.task is not None and control.task.done(), 20, "the install")
    finally:
        server.close()
    pack = installed()
    assert pack is not None and pack.version == "7" and str(pack.site) in sys.path  # active at once
    assert panel.pack_status.text() == ("Installed: version 7, probe (recognition) and probe (voice). "
                                        "The offline demo speaks from its next answer.")
    assert shown(panel) == {"progress": False, "download": True, "cancel": False}
    assert panel.download.text() == "Download again" and panel.download.isEnabled()
    assert (pack.site / PROBE_MODULE / "model.bin").is_file()


async def test_cancel_keeps_the_part_and_the_next_download_resumes(qloop, qtbot) -> None:  # noqa: ANN001
    gate = threading.Event()
    server = PackServer({"manifest.json": manifest_for(PACK), "pack.zip": PACK}, gate=gate)
    part = pack_root() / "downloads" / "pack.zip.part"
    try:
        panel, control = section(qtbot, server)
        panel.download.click()
        await wait_until(lambda: panel.progress.value() > 0, 10, "the first bytes on the bar")
        panel.cancel.click()
        # answered at once, though the worker is stuck in a read until the server sends more
        assert panel.pack_status.text() == STOPPING and not panel.cancel.isEnabled()
        assert not control.task.done()
        gate.set()  # the next chunk arrives: the worker sees the cancel and stops there
        await wait_until(lambda: control.task.done(), 20, "the download to stop")
        assert panel.pack_status.text() == PAUSED
        assert shown(panel) == {"progress": False, "download": True, "cancel": False}
        assert panel.download.text() == "Download voice pack" and panel.download.isEnabled()
        kept = part.stat().st_size
        assert 0 < kept < len(PACK) and installed() is None
        server.gate = None
        panel.download.click()
        assert panel.cancel.isEnabled()  # a new download can be cancelled again
        await wait_until(lambda: control.task.done(), 20, "the resumed download")
    finally:
        server.close()
    zips = [r for r in server.requests if r[0] == "pack.zip"]
    assert zips == [("pack.zip", None), ("pack.zip", f"bytes={kept}-")]  # the rest only
    pack = installed()
    assert pack is not None and panel.pack_status.text().startswith("Installed: version 7")
    assert not part.exists()


async def test_a_wrong_checksum_is_one_sentence_and_download_is_offered_again(qloop, qtbot) -> None:  # noqa: ANN001
    damaged = PACK[:-1] + bytes([PACK[-1] ^ 0xFF])
    server = PackServer({"manifest.json": manifest_for(PACK), "pack.zip": damaged})
    try:
        panel, control = section(qtbot, server)
        panel.download.click()
        await wait_until(lambda: control.task is not None and control.task.done(), 20, "the refusal")
    finally:
        server.close()
    sentence = panel.pack_status.text()
    assert sentence == ("The downloaded voice pack is damaged (its checksum is wrong); press Download to fetch "
                        "it again.")
    assert sentence.count(".") == 1 and "sha256" not in sentence  # the digests are for the log
    assert shown(panel) == {"progress": False, "download": True, "cancel": False} and panel.download.isEnabled()
    assert installed() is None and not (pack_root() / "downloads" / "pack.zip.part").exists()
