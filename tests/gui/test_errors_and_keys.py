"""Errors reach the person as one sentence with an action; the first run offers a key or the demo;
the key dialog saves, tests and deletes keys, and falls back to a session-only key without a keyring."""

from __future__ import annotations

import pytest
from keyring.backends import fail

from desktop_app.controller.states import Conn
from desktop_app.settings.profiles import CustomProfile, LocalProfile
from desktop_app.ui.audio_guard import NoAudioPort
from desktop_app.ui.dialogs.key_dialog import KeyDialog
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until
from tests.realtime import frames as F

pytestmark = pytest.mark.gui


def company(peer: ScriptedPeer) -> dict:
    """Settings for a custom endpoint (the peer) that sends a key when one is stored."""
    return {"profiles": (CustomProfile(name="Company", url=peer.url), LocalProfile(name="Local server"))}


async def test_an_invalid_key_shows_one_sentence_in_the_banner_whose_action_opens_the_key_dialog(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, profile="Company", settings=company(peer)) as gui:
        gui.keys.set_key(gui.store.settings.profile(), "sk-wrong-key-0123456789abcdef")
        await gui.connect()
        await peer.send(F.error("invalid_api_key", "Incorrect API key provided: sk-wron*****cdef."))
        await peer.close(3000, "invalid_request_error.invalid_api_key")
        banner = gui.window.banner
        await wait_until(lambda: gui.view.connection is Conn.FAILED and banner.isVisible())
        sentence = banner.sentence.text()
        assert "API key" in sentence and "Traceback" not in sentence and "sk-wrong" not in sentence
        assert sentence.count(".") <= 2  # one readable sentence, not a dump
        assert "Settings" not in sentence  # the window has no Settings menu (issue #16 item 10)
        assert banner.action.isVisible() and banner.action.text() == "Enter key"  # named after where it leads
        assert gui.window.bar.state.text().startswith("Failed")
        banner.action.click()
        dialog = gui.window.dialogs.key_dialog
        assert isinstance(dialog, KeyDialog) and dialog.isVisible()
        assert "sk-…cdef" in dialog.current.text()  # the stored key, only ever masked
        dialog.reject()


async def test_without_audio_devices_a_banner_says_so_and_typed_messages_still_work(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, audio=NoAudioPort()) as gui:
        await gui.connect()
        banner = gui.window.banner
        assert banner.isVisible() and banner.sentence.text().startswith("No microphone")
        assert "type" in banner.sentence.text() and banner.action.text() == "Audio settings"
        banner.action.click()
        assert gui.window.tabs.currentWidget() is gui.window.devices_panel
        await gui.rendered()
        assert gui.window.indicators.phase == "Type a message" and not gui.window.talk.talk.isEnabled()
        assert gui.window.talk.talk.text().startswith("No microphone")
        text = gui.window.talk.text
        qtbot.keyClicks(text, "Hello there")
        qtbot.keyClick(text, "\r")
        created = await peer.next("conversation.item.create")
        assert created["item"]["content"][0]["text"] == "Hello there"
        await peer.next("response.create")
        assert text.text() == ""
        done = F.assistant_item("item_A1", "completed", text="Hi! How can I help?")
        await peer.send(F.item_added(F.user_text_item("item_T1", "Hello there")),
                        F.response_created("resp_1"), F.output_item_added("resp_1", done), F.item_added(done),
                        F.item_done(done), F.output_item_done("resp_1", done), F.response_done("resp_1", output=[done]))
        await wait_until(lambda: [e.text for e in gui.window.transcript.entries()] == ["Hello there", "Hi! How can I help?"])


async def test_first_run_without_a_key_offers_the_demo_which_connects_at_once(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, profile="OpenAI") as gui:
        window = gui.window
        assert window.stack.currentWidget() is window.first_run
        window.first_run.key_button.click()
        assert window.dialogs.key_dialog.isVisible() and "No key" in window.dialogs.key_dialog.current.text()
        window.dialogs.key_dialog.reject()
        window.first_run.demo_button.click()
        await gui.connect(click=False)  # no further click: choosing the demo connected
        assert window.stack.currentWidget() is window.conversation
        assert gui.store.settings.active_profile == "Local server" and gui.server.entered == 1
        assert window.bar.profile.currentText() == "Local server"
        await gui.close()
        assert gui.server.exited == 1  # the embedded server stops with the app


async def test_key_dialog_saves_tests_and_deletes_a_key(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, profile="Company", settings=company(peer)) as gui:
        profile = gui.store.settings.profile()
        dialog = gui.window.dialogs.open_key_dialog()
        assert not dialog.save_button.isEnabled()
        dialog.key.setText("sk-good-key-0123456789abcdef")
        assert dialog.key.echoMode() == dialog.key.EchoMode.Password
        dialog.reveal.trigger()
        assert dialog.key.echoMode() == dialog.key.EchoMode.Normal
        dialog.test_button.click()
        await peer.connected(1)
        await peer.send(F.session_created())
        await wait_until(lambda: "works" in dialog.outcome.text())
        dialog.save_button.click()
        assert gui.backend.data[("parley", "Company")] == "sk-good-key-0123456789abcdef"
        assert not dialog.isVisible()
        await gui.connect(click=False)  # a new key connects at once
        dialog = gui.window.dialogs.open_key_dialog()
        assert "system keyring" in dialog.current.text() and dialog.save_button.text() == "Replace"
        dialog.delete_button.click()
        assert ("parley", "Company") not in gui.backend.data and gui.keys.source(profile) is None
        dialog.reject()


async def test_without_a_usable_keyring_the_key_is_held_for_this_session_only(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, profile="Company", settings=company(peer),
                                           keyring_backend=fail.Keyring()) as gui:
        dialog = gui.window.dialogs.open_key_dialog()
        assert dialog.backend_note.isVisible() and "session only" in dialog.backend_note.text()
        assert dialog.session_only.isChecked() and not dialog.session_only.isEnabled()
        dialog.key.setText("sk-session-key-0123456789ab")
        dialog.save_button.click()
        assert gui.keys.source(gui.store.settings.profile()) == "session"
        await gui.connect(click=False)
