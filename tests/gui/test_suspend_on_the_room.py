"""Issue #16 item 4, on real devices (the private PipeWire room) and the window users run: while the
microphone test or the room-tuning wizard runs, nothing is sent to the assistant, and the
conversation goes on exactly as before once they end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desktop_app.audio.engine import AudioEngine
from desktop_app.settings.secrets import KeyStore
from desktop_app.settings.store import SettingsStore
from desktop_app.ui.bootstrap import build_window
from desktop_app.ui.dialogs.calibration_wizard import CalibrationWizard
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import MemoryKeyring, PeerServer, merged, wait_until
from tests.realtime import frames as F

pytestmark = [pytest.mark.gui, pytest.mark.audio]


class RoomWindow:
    """The real window with the real audio engine on the PipeWire room, against a scripted peer."""

    def __init__(self, tmp: Path, peer: ScriptedPeer) -> None:
        self.peer = peer
        self.engine = AudioEngine(asyncio.get_running_loop())
        store = SettingsStore(tmp / "settings.ini")
        store.update(active_profile="Local server", audio_mode="headset")
        self.quit = asyncio.Event()
        self.window = build_window(self.quit.set, engine=self.engine, store=store,
                                   keys=KeyStore(MemoryKeyring(), environ={}),
                                   local_server=lambda: PeerServer(peer), dark=False)
        self.session = self.window.session
        self.window.show()

    async def connect(self) -> None:
        self.window.bar.connect_button.click()
        await self.peer.connected()
        await self.peer.send(F.session_created())
        update = await self.peer.next("session.update")
        await self.peer.send(F.session_updated(merged(F.session_obj(), update["session"])))
        await wait_until(lambda: self.session.view.connection.value == "connected", 10)

    def appends(self) -> int:
        return sum(1 for f in self.peer.all_frames if f["type"] == "input_audio_buffer.append")

    async def close(self) -> None:
        self.window.close()
        await asyncio.wait_for(self.quit.wait(), 5)
        await asyncio.wait_for(self.window.shutdown(), 10)


async def appends_resume(room: RoomWindow) -> None:
    before = room.appends()
    await wait_until(lambda: room.appends() >= before + 5, 5)


async def test_the_microphone_test_sends_nothing_to_the_assistant(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer:
        room = RoomWindow(tmp_path, peer)
        try:
            await room.connect()
            await appends_resume(room)  # hands-free: the microphone streams
            room.window.devices_panel.mic_test.setChecked(True)
            # Whatever was half said is dropped (peer.next would wait forever: appends keep coming).
            await wait_until(lambda: "input_audio_buffer.clear" in peer.sent_types(), 5)
            during = room.appends()
            await asyncio.sleep(0.6)  # 30 frames' worth: none may go out
            assert room.appends() == during
            room.window.devices_panel.mic_test.setChecked(False)
            await appends_resume(room)
        finally:
            await room.close()


async def test_the_tuning_wizard_sends_nothing_to_the_assistant_while_open(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer:
        room = RoomWindow(tmp_path, peer)
        try:
            await room.connect()
            await appends_resume(room)
            room.window.devices_panel.tune.click()
            await wait_until(lambda: "input_audio_buffer.clear" in peer.sent_types(), 5)
            during = room.appends()
            await asyncio.sleep(0.6)
            assert room.appends() == during
            (wizard,) = room.window.findChildren(CalibrationWizard)
            wizard.reject()
            await appends_resume(room)
        finally:
            await room.close()
