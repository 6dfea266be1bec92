"""What a new user met in the window (issue #16 items 11 and 13): a narrow window reflows instead
of clipping, and the small things — the strip's words when muted, the empty conversation's
invitation, the demo's price and instructions, discoverable shortcuts, an endpoint editor like the
rest of the app, and a Delete key button that looks off when there is no key."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialogButtonBox, QPushButton, QWidget

from desktop_app.controller.states import Mic
from desktop_app.settings.profiles import CustomProfile, LocalProfile
from desktop_app.ui.dialogs.shortcuts_sheet import ShortcutsSheet
from desktop_app.ui.shortcuts import SHORTCUTS
from desktop_app.ui.widgets.talk_controls import TALK_MIN_WIDTH
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until

pytestmark = pytest.mark.gui


def on_window(widget: QWidget) -> QRect:
    return QRect(widget.mapTo(widget.window(), widget.rect().topLeft()), widget.size())


def unclipped(button: QPushButton) -> bool:
    return button.width() >= button.sizeHint().width()


def colour_pixels(widget: QWidget, colour: str) -> int:
    want, image = QColor(colour), widget.grab().toImage()
    return sum(1 for x in range(image.width()) for y in range(image.height())
               if abs(image.pixelColor(x, y).red() - want.red()) + abs(image.pixelColor(x, y).green() - want.green())
               + abs(image.pixelColor(x, y).blue() - want.blue()) < 50)


async def test_a_narrow_window_reflows_and_never_clips_the_controls(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        window, talk, bar = gui.window, gui.window.talk, gui.window.bar
        await gui.connect()
        for width in (760, 700, 300):
            window.resize(width, 760)
            await wait_until(lambda w=width: window.width() == max(w, window.minimumWidth()))
            assert window.width() <= 760 and window.minimumWidth() <= 700  # a sensible minimum
            assert unclipped(talk.hands_free) and unclipped(talk.push_to_talk), width  # not "ıds-f"
            assert talk.talk.width() >= TALK_MIN_WIDTH
            parts = [w for w in (bar.profile, bar.key, bar.state, bar.connect_button, bar.panel, bar.help)
                     if w.isVisible()]
            for i, a in enumerate(parts):  # the header never overlaps itself
                assert all(not on_window(a).intersects(on_window(b)) for b in parts[i + 1:]), width
                assert on_window(a).right() < window.width()
            assert not window.side.isVisible() and not bar.panel.isChecked()  # the side panel stepped aside
        window.fit.show_side_panel(True)  # asked for in a narrow window: the window makes room
        assert window.side.isVisible() and window.width() >= window.fit.widths()[1]
        window.fit.show_side_panel(False)
        window.resize(700, 760)
        window.resize(1240, 820)
        assert not window.side.isVisible()  # hidden by hand stays hidden
        window.fit.show_side_panel(True)
        window.resize(700, 760)
        window.resize(1240, 820)
        assert window.side.isVisible()  # stepped aside by itself, it comes back with the room


async def test_muted_and_connected_the_strip_and_the_empty_conversation_say_what_is_true(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "hands_free"}) as gui:
        window = gui.window
        assert "Connect" in window.transcript.empty_hint
        await gui.connect()
        assert "connected" not in window.transcript.empty_hint and "start talking" in window.transcript.empty_hint
        window.talk.mute.click()
        await wait_until(lambda: gui.view.mic is Mic.MUTED)
        await gui.rendered()
        assert window.talk.talk.full_text() == "Microphone muted — Ctrl+M to unmute"
        assert "muted" in window.transcript.empty_hint


async def test_the_demo_says_how_it_treats_instructions_and_a_real_endpoint_does_not(qloop, qtbot, tmp_path):
    settings = {"profiles": (CustomProfile(name="Company", url="ws://127.0.0.1:9/v1/realtime"),
                             LocalProfile(name="Local server"))}
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings=settings) as gui:
        note = gui.window.session_panel.demo_note
        assert not note.isHidden() and "offline demo" in note.text()
        gui.window.dialogs.choose_profile("Company")
        assert note.isHidden()


async def test_shortcuts_are_in_tooltips_and_on_a_sheet_opened_with_f1_or_question_mark(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"ptt_key": "F8"}) as gui:
        window = gui.window
        window.activateWindow()
        await wait_until(window.isActiveWindow)
        for widget, keys in ((window.talk.mute, "Ctrl+M"), (window.talk.interrupt, "Esc"),
                             (window.copy_button, "Ctrl+Shift+C"), (window.bar.panel, "F9"),
                             (window.talk.text, "Ctrl+L"), (window.bar.help, "F1")):
            assert keys in widget.toolTip(), widget.accessibleName()
        for key in (Qt.Key.Key_F1, Qt.Key.Key_Question):
            window.transcript.setFocus()
            qtbot.keyClick(window.transcript, key)
            sheet = window.dialogs.shortcuts_sheet
            assert isinstance(sheet, ShortcutsSheet) and sheet.isVisible()
            listed = " ".join(f"{keys} {what}" for keys, what in sheet.entries)
            assert "Hold F8" in listed and all(s.what in listed for s in SHORTCUTS)
            sheet.accept()


async def test_the_endpoint_editor_looks_like_the_rest_and_keeps_edits_without_apply(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        dialog = gui.window.dialogs.open_endpoint_dialog()
        buttons = [b.text() for b in dialog.findChildren(QPushButton)]
        assert not dialog.findChildren(QDialogButtonBox)  # no stock icons
        assert all(b.icon().isNull() for b in dialog.findChildren(QPushButton))
        assert "Apply" not in buttons and buttons.count("Save") == 1
        assert "wss://" in dialog.inputs["url"].placeholderText()
        dialog._add()
        dialog.name.setText("Staging")
        dialog.kind.setCurrentIndex(dialog.kind.findData("custom"))
        dialog.inputs["url"].setText("wss://staging.example.com/v1/realtime")
        dialog.list.setCurrentRow(0)  # another endpoint: the edit is kept, no Apply needed
        assert [p.name for p in dialog.profiles][-1] == "Staging"
        dialog.save_button.click()
        assert any(p.name == "Staging" and isinstance(p, CustomProfile) for p in gui.store.settings.profiles)


async def test_delete_key_is_off_and_looks_off_when_there_is_no_key(qloop, qtbot, tmp_path):
    settings = {"profiles": (CustomProfile(name="Company", url="ws://127.0.0.1:9/v1/realtime"),
                             LocalProfile(name="Local server"))}
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, profile="Company", settings=settings) as gui:
        dialog = gui.window.dialogs.open_key_dialog()
        assert not dialog.delete_button.isEnabled()
        assert colour_pixels(dialog.delete_button, gui.window.theme.danger) < 5  # not drawn in red
        dialog.reject()
