"""The talk key and the talk button as a person uses them (issue #16 items 7 and 14): Space never
presses a focused button, a press interrupted by the window losing the focus ends cleanly, and the
auto-repeat that resumes afterwards is not a second press; taps get a hint, not a turn."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.controller.states import Conn, Mic
from desktop_app.ui import keyboard
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until

pytestmark = pytest.mark.gui


def space(widget: QWidget, kind: QEvent.Type, auto_repeat: bool = False) -> None:
    QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, " ",
                                             auto_repeat))


def counter(signal) -> list[int]:  # noqa: ANN001
    hits: list[int] = []
    signal.connect(lambda *_: hits.append(1))
    return hits


async def test_space_in_hands_free_presses_no_focused_button_and_enter_does(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "hands_free"}) as gui:
        await gui.connect()
        bar, talk = gui.window.bar, gui.window.talk
        disconnects = counter(bar.connect_button.clicked)
        bar.connect_button.setFocus()
        qtbot.keyClick(bar.connect_button, Qt.Key.Key_Space)
        assert disconnects == [] and gui.view.connection is Conn.CONNECTED
        for button in (talk.mute, talk.push_to_talk, gui.window.bar.panel):
            clicks = counter(button.clicked)
            button.setFocus()
            qtbot.keyClick(button, Qt.Key.Key_Space)
            assert clicks == [], button.accessibleName()
        assert gui.view.mic is Mic.HANDS_FREE and gui.window.side.isVisible()
        talk.mute.setFocus()  # the keyboard still works: Enter presses the focused button
        qtbot.keyClick(talk.mute, Qt.Key.Key_Return)
        await wait_until(lambda: gui.view.mic is Mic.MUTED)
        talk.text.setFocus()  # and Space still types
        qtbot.keyClick(talk.text, Qt.Key.Key_Space)
        assert talk.text.text() == " "


async def test_a_key_press_cut_by_focus_loss_ends_and_the_resumed_auto_repeat_is_no_new_press(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
        await gui.connect()
        window = gui.window
        window.transcript.setFocus()
        space(window.transcript, QEvent.Type.KeyPress)
        assert gui.view.mic is Mic.PTT_HELD
        await peer.next("input_audio_buffer.clear")
        QApplication.sendEvent(QApplication.instance(), QEvent(QEvent.Type.ApplicationDeactivate))
        assert gui.view.mic is Mic.PTT_RELEASED
        # Focus back, key still down: X resumes auto-repeat (and Qt may not flag the first one).
        space(window.transcript, QEvent.Type.KeyPress, auto_repeat=True)
        space(window.transcript, QEvent.Type.KeyPress)
        assert gui.view.mic is Mic.PTT_RELEASED
        space(window.transcript, QEvent.Type.KeyRelease)
        assert gui.view.mic is Mic.PTT_RELEASED and not window.ptt_key.awaiting_key_up
        space(window.transcript, QEvent.Type.KeyPress)  # a fresh press talks again
        assert gui.view.mic is Mic.PTT_HELD
        space(window.transcript, QEvent.Type.KeyRelease)
        assert gui.view.mic is Mic.PTT_RELEASED


async def test_a_mouse_press_on_the_talk_button_ends_when_another_window_takes_the_focus(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
        await gui.connect()
        window, talk = gui.window, gui.window.talk.talk
        window.activateWindow()
        await wait_until(window.isActiveWindow)
        released = counter(gui.window.talk.talk_released)
        qtbot.mousePress(talk, Qt.MouseButton.LeftButton)
        assert gui.view.mic is Mic.PTT_HELD and talk.hasFocus()
        other = QWidget()
        other.setWindowTitle("Screen capture")
        other.show()
        other.activateWindow()
        try:
            await wait_until(lambda: not window.isActiveWindow())
            await wait_until(lambda: gui.view.mic is Mic.PTT_RELEASED)
            assert released == [1] and not talk.isDown()
            qtbot.mouseRelease(talk, Qt.MouseButton.LeftButton)  # the late release changes nothing
            assert released == [1] and gui.view.mic is Mic.PTT_RELEASED
        finally:
            other.close()
            other.deleteLater()


async def test_a_mouse_press_whose_release_went_to_another_program_ends_at_the_next_move(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
        await gui.connect()
        talk = gui.window.talk.talk
        qtbot.mousePress(talk, Qt.MouseButton.LeftButton)
        assert gui.view.mic is Mic.PTT_HELD
        # A grab took the release; the next event Qt gets says no button is down any more.
        QApplication.sendEvent(talk, QMouseEvent(QEvent.Type.MouseMove, QPointF(5, 5), QPointF(5, 5),
                                                 Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                                 Qt.KeyboardModifier.NoModifier))
        assert gui.view.mic is Mic.PTT_RELEASED and not talk.isDown()


async def test_taps_on_the_talk_key_show_how_to_hold_it(qloop, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(keyboard, "TAP_MS", 60_000.0)  # every press here counts as a tap, however slow the run
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
        await gui.connect()
        window = gui.window
        window.transcript.setFocus()
        for _ in range(5):
            space(window.transcript, QEvent.Type.KeyPress)
            space(window.transcript, QEvent.Type.KeyRelease)
        await gui.rendered()
        assert window.talk.talk.text() == "Keep Space held while you speak"
