"""Banners and the header as a new user meets them (issue #16 items 8, 10, 12, 13): a banner goes
when its time is up or its cause is gone, the header status ends in "…" when it does not fit, the
endpoint menu works while connected, and the key button says why it is off for the demo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import QApplication

from desktop_app.controller.states import Conn, Mic, Turn
from desktop_app.settings.profiles import CustomProfile, LocalProfile
from desktop_app.ui import notices
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until
from tests.gui.test_conversation import assistant_turn
from tests.realtime import frames as F

pytestmark = pytest.mark.gui


def company(peer: ScriptedPeer) -> dict:
    return {"profiles": (CustomProfile(name="Company", url=peer.url), LocalProfile(name="Local server"))}


async def warn(gui: Gui) -> None:
    """A warning about the turn from the server (its commit found the buffer empty). (A tap of the
    talk key no longer warns: under 150 ms it is a slip, shown on the button, and nothing is sent.)"""
    await gui.peer.send(F.error("input_audio_buffer_commit_empty",
                                "Error committing input audio buffer: buffer too small."))


async def test_a_warning_about_a_turn_goes_when_the_next_turn_reaches_the_assistant(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
        await gui.connect()
        banner = gui.window.banner
        await warn(gui)
        await wait_until(lambda: banner.isVisible() and "Too little audio" in banner.sentence.text())
        target = gui.window.transcript
        QApplication.sendEvent(target, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Space,
                                                 Qt.KeyboardModifier.NoModifier, " "))
        appends = len(peer.all_frames)
        await wait_until(lambda: len(peer.all_frames) >= appends + 10)  # 200 ms spoken
        await wait_until(lambda: gui.view.turn is Turn.USER_SPEAKING)  # held past a slip of the finger
        QApplication.sendEvent(target, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Space,
                                                 Qt.KeyboardModifier.NoModifier, " "))
        await peer.next("input_audio_buffer.commit", skip=("input_audio_buffer.append", "input_audio_buffer.clear"))
        await peer.next("response.create")
        await peer.send(F.committed("item_U1"), F.item_added(F.user_audio_item("item_U1")))
        await assistant_turn(gui, "resp_1", "item_A1")
        await wait_until(lambda: not banner.isVisible() and gui.view.notice is None)


async def test_a_warning_leaves_after_its_lifetime_unless_the_person_is_reading_it(qloop, qtbot, tmp_path, monkeypatch):
    monkeypatch.setitem(notices.LIFETIME_S, "warning", 0.3)
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
        await gui.connect()
        banner, keeper = gui.window.banner, gui.window.notices
        await warn(gui)
        await wait_until(banner.isVisible)
        banner.reading.emit(True)  # the pointer rests on it
        assert not keeper._timer.isActive() and keeper._remaining_ms > 0
        banner.reading.emit(False)
        await wait_until(lambda: not banner.isVisible() and gui.view.notice is None, 5)


async def test_a_credential_failure_leaves_banner_and_header_when_another_endpoint_is_chosen(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, profile="Company", settings=company(peer)) as gui:
        window = gui.window
        window.resize(window.minimumWidth(), 700)
        gui.keys.set_key(gui.store.settings.profile(), "sk-wrong-key-0123456789abcdef")
        await gui.connect()
        await peer.send(F.error("invalid_api_key", "Incorrect API key provided: sk-wron*****cdef."))
        await peer.close(3000, "invalid_request_error.invalid_api_key")
        await wait_until(lambda: gui.view.connection is Conn.FAILED and window.banner.isVisible())
        await gui.rendered()
        state = window.bar.state
        full = state.full_text()
        assert full == "Failed: The API key was refused; enter a valid key."
        shown = state.text()
        assert shown != full and shown.endswith("…") and full.startswith(shown[:-1])  # elided, not cut
        assert state.toolTip() == full
        assert state.fontMetrics().horizontalAdvance(shown) <= state.contentsRect().width()
        window.bar.profile.setCurrentText("Local server")
        window.bar.profile.activated.emit(window.bar.profile.currentIndex())
        await gui.rendered()
        assert not window.banner.isVisible() and gui.view.notice is None
        assert state.full_text() == "Disconnected"


async def test_the_endpoint_menu_switches_while_connected_and_the_demo_key_button_says_why_it_is_off(
        qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings=company(peer)) as gui:
        bar = gui.window.bar
        assert not bar.key.isEnabled() and "needs no API key" in bar.key.toolTip()
        disabled = bar.key.icon().pixmap(18, 18, bar.key.icon().Mode.Disabled).toImage()
        enabled = bar.key.icon().pixmap(18, 18).toImage()
        assert alpha_sum(disabled) < 0.5 * alpha_sum(enabled)  # it looks off, too
        await gui.connect()
        await peer.send(F.response_done("resp_0"))
        await wait_until(lambda: gui.view.total_tokens > 0)
        await gui.rendered()
        assert "$" not in bar.usage.text() and "free" in bar.usage.text()  # the offline demo costs nothing
        assert bar.profile.isEnabled() and "ends this conversation" in bar.profile.toolTip()
        bar.profile.setCurrentText("Company")
        bar.profile.activated.emit(bar.profile.currentIndex())
        await peer.connected(2)  # the first connection closed, the chosen endpoint connected
        await peer.send(F.session_created())
        await gui.accept_update()
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED and gui.view.endpoint_label == "Company")
        assert gui.store.settings.active_profile == "Company" and bar.key.isEnabled()
        await gui.rendered()
        assert "$" in bar.usage.text() or bar.usage.text() == ""
        assert gui.view.mic is Mic.HANDS_FREE


def alpha_sum(image: QImage) -> int:
    return sum(image.pixelColor(x, y).alpha() for x in range(image.width()) for y in range(image.height()))
