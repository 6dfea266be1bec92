"""The window as a person uses it: the push-to-talk key, following the conversation, copy and clear,
and a clean shutdown that saves what was chosen — from closing the window and from SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop_app.controller.states import Mic, Turn
from desktop_app.controller.view_state import TranscriptEntry
from desktop_app.settings.store import SettingsStore
from desktop_app.ui.theme import LIGHT
from desktop_app.ui.widgets.transcript_view import TranscriptView
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until

pytestmark = pytest.mark.gui


def appended(peer: ScriptedPeer) -> int:
    return sum(1 for f in peer.all_frames if f["type"] == "input_audio_buffer.append")


async def test_holding_space_talks_unless_the_text_box_has_the_focus(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
        await gui.connect()
        window = gui.window
        window.transcript.setFocus()
        qtbot.keyPress(window.transcript, Qt.Key.Key_Space)
        assert gui.view.mic is Mic.PTT_HELD
        await gui.rendered()
        assert window.indicators.phase == "You are speaking"
        await peer.next("input_audio_buffer.clear")
        before = appended(peer)
        await wait_until(lambda: appended(peer) >= before + 8)  # ≥ 160 ms spoken while the key is down
        await wait_until(lambda: gui.view.turn is Turn.USER_SPEAKING)  # held past a slip of the finger
        qtbot.keyRelease(window.transcript, Qt.Key.Key_Space)
        assert gui.view.mic is Mic.PTT_RELEASED
        await peer.next("input_audio_buffer.commit")
        await peer.next("response.create")
        window.talk.text.setFocus()
        qtbot.keyClick(window.talk.text, Qt.Key.Key_Space)
        assert window.talk.text.text() == " " and gui.view.mic is Mic.PTT_RELEASED


async def test_closing_the_window_closes_the_session_and_saves_geometry_mode_and_vad(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        gui.window.talk.push_to_talk.click()
        await gui.accept_update()
        gui.window.vad_panel.silence.slider.setValue(750)
        gui.window.resize(1100, 760)
        await gui.close()
        assert gui.session.controller.connection.link is None and gui.port.played_blocks == 0
        await wait_until(lambda: peer._ws.close_code is not None)
        saved = SettingsStore(tmp_path / "settings.ini").settings
        assert saved.turn_mode == "push_to_talk"
        assert saved.vad_silence_duration_ms == 750
        assert saved.window_geometry  # restored at the next start


def entries(n: int) -> tuple[TranscriptEntry, ...]:
    return tuple(TranscriptEntry(f"item_{i}", "user" if i % 2 else "assistant",
                                 f"Message number {i} with a few words in it.", True) for i in range(n))


def test_the_conversation_follows_new_text_until_the_user_scrolls_up(qtbot):
    view = TranscriptView(LIGHT)
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    bar = view.verticalScrollBar()
    view.set_entries(entries(30))
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    bar.setValue(0)  # the person scrolls up to read
    assert not view.following
    view.set_entries(entries(31))
    qtbot.waitUntil(lambda: view.latest.isVisible())
    assert bar.value() == 0
    view.latest.click()
    assert view.following and bar.value() == bar.maximum() and not view.latest.isVisible()
    view.set_entries(entries(34))
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())


def test_copy_takes_the_visible_conversation_and_clear_empties_the_window(qtbot):
    view = TranscriptView(LIGHT)
    qtbot.addWidget(view)
    heard = TranscriptEntry("item_A", "assistant", "Once upon a time there was", True, truncated=True,
                            heard="Once upon")
    view.set_entries((TranscriptEntry("item_U", "user", "Tell me a story", True), heard))
    assert view.copy_text() == "You: Tell me a story\n\nAssistant: Once upon […]"
    assert "<s" in view.bubble("item_A").label.text() and "interrupted" in view.bubble("item_A").caption.text()
    QGuiApplication.clipboard().setText("")
    view.clear()
    assert view.entries() == [] and view.placeholder.isVisibleTo(view)
    view.set_entries((TranscriptEntry("item_U", "user", "Tell me a story", True), heard,
                      TranscriptEntry("item_U2", "user", "Another one", True)))
    assert [e.item_id for e in view.entries()] == ["item_U2"]  # only what came after the clear


def test_sigint_shuts_the_app_down_cleanly(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PARLEY_HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "desktop_app"], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "window shown" in line or not line:
            break
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=30)[1]
    log = "".join(lines) + rest
    assert proc.returncode == 0, log
    assert "shut down cleanly" in log and "Traceback" not in log
    assert (tmp_path / "config" / "settings.ini").exists()  # the window's geometry was saved


async def test_a_dropped_connection_shows_reconnecting_with_the_attempt_and_recovers(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        assert gui.window.bar.state.text() == "Connected" and gui.window.bar.clock.text().endswith("left")
        await peer.drop()
        await wait_until(lambda: gui.window.bar.state.text() == "Reconnecting 1/5…")
        assert gui.window.indicators.phase == "Reconnecting…"
        await gui.connect(click=False)
        assert gui.window.bar.state.text() == "Connected"


def test_the_session_clock_counts_down_to_the_60_minute_limit():
    from desktop_app.ui.widgets.connection_bar import time_left_text

    assert time_left_text(None, 0) == ""
    assert time_left_text(3600, 0) == "60 min left"
    assert time_left_text(1000 + 245, 1000) == "4:05 left"
    assert time_left_text(10, 20) == "0:00 left"


async def test_choosing_a_device_is_saved_by_name_and_a_missing_one_stays_visible(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        panel = gui.window.devices_panel
        panel.set_devices([("USB Mic (ALSA)", "ALSA:USB Mic")], [("Speakers (ALSA)", "ALSA:Speakers")], "", "")
        panel.inputs.setCurrentIndex(1)
        panel.inputs.activated.emit(1)
        assert gui.store.settings.input_device == "ALSA:USB Mic"
        panel.set_devices([], [("Speakers (ALSA)", "ALSA:Speakers")], "ALSA:USB Mic", "")
        assert panel.inputs.currentText() == "USB Mic (not connected)"
        assert not panel.mic_test.isEnabled() and panel.tone.isEnabled()
