"""Issue #22 through the window users run (offscreen): the tray menu drives the conversation and
its icon follows it, close-to-tray with its one-time notice, the mini window standing in for the
main one, global hotkeys wired to push-to-talk and mute, and screen-reader announcements."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtWidgets import QSystemTrayIcon

from desktop_app.controller.states import Conn, Mic, Turn
from desktop_app.controller.view_state import TranscriptEntry, ViewState
from desktop_app.platform.hotkeys import MUTE, TALK
from desktop_app.ui.desktop import TRAY_NOTICE, DesktopShell, reading_order
from desktop_app.ui.presence import last_lines, presence
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until
from tests.gui.test_conversation import assistant_turn

pytestmark = pytest.mark.gui


def shell_of(gui: Gui) -> DesktopShell:
    shell = gui.window.findChild(DesktopShell)
    assert shell is not None
    return shell


async def test_the_tray_menu_drives_the_conversation_and_the_icon_follows(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        tray = shell_of(gui).tray
        assert tray.state == "offline" and tray.connection.text() == "Connect"
        tray.connection.trigger()
        await gui.connect(click=False)
        await wait_until(lambda: tray.state == "listening" and tray.connection.text() == "Disconnect")
        assert tray.icon.toolTip() == "Parley — listening" and tray.hands_free.isChecked()
        await assistant_turn(gui, "resp_1", "item_A1", audio_ms=2000)
        await wait_until(lambda: tray.state == "speaking")
        tray.mute.trigger()
        await wait_until(lambda: gui.view.mic is Mic.MUTED and tray.state == "muted")
        assert gui.window.talk.mute.isChecked() and tray.mute.isChecked()
        tray.mute.trigger()
        await wait_until(lambda: gui.view.mic is not Mic.MUTED)
        tray.push_to_talk.trigger()
        await wait_until(lambda: gui.view.mic is Mic.PTT_RELEASED)
        assert gui.window.talk.mode == "push_to_talk" and gui.store.settings.turn_mode == "push_to_talk"
        tray.connection.trigger()
        await wait_until(lambda: gui.view.connection is not Conn.CONNECTED and tray.state == "offline")
        tray.menu.actions()[-1].trigger()  # Quit Parley
        await wait_until(gui.quit_requested.is_set)


async def test_the_tray_menu_outlives_a_tools_tab_relayout(qloop, qtbot, tmp_path):
    """A relayout deletes the Tools tab's old page; the tray's menu (and every wrapper outside that
    page) must live on. Walking ``nextInFocusChain()`` once tied them together in PySide6."""
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        tray = shell_of(gui).tray
        actions = (tray.status, tray.connection, tray.mute, tray.hands_free)
        old_page = gui.window.tools.tab.widget()
        gui.window.tools.tab.rebuild()  # a tools change: the old page goes with deleteLater()
        await wait_until(lambda: not shiboken6.isValid(old_page))
        assert all(shiboken6.isValid(a) for a in actions)
        await gui.connect()
        await wait_until(lambda: tray.state == "listening" and tray.status.text() == "Listening")
        assert tray.connection.text() == "Disconnect"


def test_each_state_has_its_own_icon(qapp):
    from desktop_app.ui.theme import LIGHT
    from desktop_app.ui.tray import BADGES, state_icon

    images = {state: state_icon(LIGHT, state).pixmap(64, 64).toImage() for state in BADGES}
    assert all(not image.isNull() for image in images.values())
    corner = {state: image.pixelColor(34, 47).name() for state, image in images.items()}  # badge, beside its glyph
    assert corner["listening"] == LIGHT.success and corner["muted"] == LIGHT.danger
    assert corner["speaking"] == LIGHT.assistant


async def test_close_to_tray_hides_tells_once_and_quit_still_quits(qloop, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        shell = shell_of(gui)
        assert shell.panel.close_to_tray.isChecked() and shell.panel.close_to_tray.isEnabled()
        assert shell.hide_to_tray()
        assert not gui.window.isVisible() and not gui.quit_requested.is_set()
        assert shell.tray.told == [TRAY_NOTICE] and gui.store.settings.close_to_tray_told
        assert gui.store.settings.window_geometry  # where it was, kept for when it comes back
        shell.tray.show_requested.emit()
        assert gui.window.isVisible()
        assert shell.hide_to_tray() and shell.tray.told == [TRAY_NOTICE]  # the notice is said once
        shell.bring_to_front()
        shell.panel.close_to_tray.setChecked(False)
        assert not gui.store.settings.close_to_tray and not shell.hide_to_tray()
        gui.window.close()  # Ctrl+Q and the tray's Quit close the window from inside: that quits
        await wait_until(gui.quit_requested.is_set)


async def test_without_a_tray_closing_quits_and_the_setting_says_why(qloop, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        shell = shell_of(gui)
        assert not shell.hide_to_tray() and gui.window.isVisible()
        assert not shell.panel.close_to_tray.isEnabled()
        assert "shows no tray icons" in shell.panel.tray_note.text()


async def test_the_mini_window_stands_in_for_the_main_one(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
        shell = shell_of(gui)
        await gui.connect()
        shell.panel.mini.click()
        mini = shell.mini
        assert mini.isVisible() and not gui.window.isVisible()
        await assistant_turn(gui, "resp_1", "item_A1", window_shown=False)
        await wait_until(lambda: "is five." in mini.assistant.toolTip())
        assert gui.window.transcript.bubble("item_A1") is None  # hidden, the main window renders nothing (#23)
        levels: list[tuple[float, float]] = []
        gui.window.meters.levels_shown.connect(lambda mic, out: levels.append((mic, out)))
        await wait_until(lambda: len(levels) >= 2)  # the meter clock runs for the mini window's meters
        assert mini.mic_meter.level_dbfs == levels[-1][0]
        assert mini.talk.isEnabled() and mini.talk.text() == "Hold to talk"
        mini.talk.pressed.emit()
        await wait_until(lambda: gui.view.mic is Mic.PTT_HELD and mini.talk.text() == "Talking…")
        await wait_until(lambda: "input_audio_buffer.append" in [f["type"] for f in peer.all_frames[-3:]])
        mini.talk.released.emit()
        await wait_until(lambda: gui.view.mic is Mic.PTT_RELEASED)
        mini.mute.click()
        await wait_until(lambda: gui.view.mic is Mic.MUTED and gui.window.talk.mute.isChecked())
        mini.expand.click()
        assert gui.window.isVisible() and not mini.isVisible()
        # back on screen, it shows what happened meanwhile
        await wait_until(lambda: gui.window.transcript.bubble("item_A1") is not None
                         and gui.window.talk.mute.isChecked())
        assert "is five." in gui.window.transcript.bubble("item_A1").label.text()


def test_presence_and_last_lines():
    view = ViewState(connection=Conn.CONNECTED, mic=Mic.HANDS_FREE, turn=Turn.LISTENING, transcript=(
        TranscriptEntry("u1", "user", "What is two plus three?", final=True),
        TranscriptEntry("a1", "assistant", "Two plus three is five, and", heard="Two plus three is five"),
        TranscriptEntry("u2", "user", "", final=False)))
    assert presence(view) == "listening" and presence(None) == "offline"
    assert last_lines(view) == ("What is two plus three?", "Two plus three is five")
    assert presence(ViewState(connection=Conn.CONNECTED, mic=Mic.MUTED, assistant_speaking=True)) == "muted"
    assert presence(ViewState(connection=Conn.CONNECTED, assistant_speaking=True)) == "speaking"
    assert presence(ViewState(connection=Conn.CONNECTED, mic=Mic.PTT_HELD)) == "you"


async def test_global_hotkeys_press_and_release_push_to_talk_and_toggle_mute(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
        shell = shell_of(gui)
        # Offscreen there is no desktop to grab keys from: the Desktop tab says so in one sentence.
        shell.panel.talk_key.chosen.emit("F8")
        assert gui.store.settings.hotkey_talk == "F8"
        assert shell.panel.hotkey_status.text() == shell.hotkeys.status() != ""
        await gui.connect()
        shell.router.raw(TALK, True, 10)  # what a platform module reports
        await wait_until(lambda: gui.view.mic is Mic.PTT_HELD)
        await wait_until(lambda: gui.view.turn is Turn.USER_SPEAKING)  # confirmed, not a slip
        shell.router.raw(TALK, False, 900)
        shell.router.flush()
        await peer.next("input_audio_buffer.commit", skip=("input_audio_buffer.append", "input_audio_buffer.clear"))
        shell.router.raw(MUTE, True)
        shell.router.raw(MUTE, False)
        await wait_until(lambda: gui.view.mic is Mic.MUTED and gui.window.talk.mute.isChecked())


async def test_the_talk_hotkey_does_nothing_hands_free(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        shell = shell_of(gui)
        await gui.connect()
        shell.router.raw(TALK, True)
        shell.router.raw(TALK, False)
        assert gui.view.mic is Mic.HANDS_FREE and "input_audio_buffer.commit" not in peer.sent_types()


async def test_screen_readers_hear_the_state_change(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        announcer = shell_of(gui).announcer
        await gui.connect()
        await wait_until(lambda: announcer.said[-1:] == ["Listening"])
        await assistant_turn(gui, "resp_1", "item_A1", audio_ms=2000)
        await wait_until(lambda: "The assistant is speaking" in announcer.said)
        gui.window.talk.mute.click()
        await wait_until(lambda: announcer.said[-1] == "Microphone muted")
        assert gui.window.indicators.turn.accessibleDescription() == "Microphone muted"
        assert len(announcer.said) == len(set(announcer.said)) or announcer.said.count("Listening") <= 2


async def test_the_reading_order_touches_only_the_main_windows_own_widgets(qloop, qtbot, qtlog, tmp_path):
    """The widget tree also holds other top-level windows (the mini window, the event log dock, the
    dialogs); chaining their widgets into the main window's tab order made Qt warn at every pair."""
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        reading_order(gui.window)
        await gui.rendered()
    warnings = [r.message for r in qtlog.records if "setTabOrder" in r.message]
    assert warnings == []
