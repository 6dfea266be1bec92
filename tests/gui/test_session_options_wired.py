"""Issue #20 items 1–3 through the real window: the Session tab's live options reach the server per
their locks, a picture reaches the conversation as ``input_image`` (SDK-validated by the peer) and
shows as a thumbnail, an unknown model is priced "unknown", and ``--url``/``--model`` open the window
at an endpoint for this run without saving it."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtGui import QImage

from desktop_app.controller.states import Conn
from desktop_app.settings.launch import run_override
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until
from tests.realtime import frames as F

pytestmark = pytest.mark.gui


def session_of(update: dict) -> dict:
    return update["session"]


async def test_reasoning_noise_and_speed_from_the_session_tab_reach_the_server(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        panel = gui.window.session_panel
        panel.noise_reduction_chosen.emit("far_field")
        update = await gui.accept_update()
        assert session_of(update)["audio"]["input"]["noise_reduction"] == {"type": "far_field"}
        panel.reasoning_chosen.emit("low")
        update = await gui.accept_update()
        assert session_of(update)["reasoning"] == {"effort": "low"}
        assert gui.store.settings.noise_reduction == "far_field" and gui.store.settings.reasoning_effort == "low"


async def test_a_new_speed_waits_for_the_answer_to_end(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        await peer.send(F.response_created("resp_1"), F.item_added(F.assistant_item("item_A1")),
                        F.part_added("resp_1", "item_A1"), F.audio_delta("resp_1", "item_A1", 600))
        await wait_until(lambda: gui.port.is_playing)
        gui.window.session_panel.speed_chosen.emit(1.25)
        await asyncio.sleep(0.5)  # past the debounce: while the answer plays the speed is held back
        sent = [f for f in peer.all_frames if f["type"] == "session.update"][1:]
        assert all("speed" not in f["session"].get("audio", {}).get("output", {}) for f in sent)
        await peer.send(F.audio_done("resp_1", "item_A1"), F.response_done("resp_1"))
        update = await peer.next("session.update", timeout=10)
        assert session_of(update)["audio"]["output"]["speed"] == 1.25


async def test_a_picture_goes_in_as_input_image_and_shows_as_a_thumbnail(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        images = gui.window.session_tab.images
        picture = QImage(320, 200, QImage.Format.Format_RGB32)
        picture.fill(0x3366CC)
        dialog = images.offer(picture, "paste")
        assert dialog is not None
        dialog.question_edit.setText("What colour is this?")
        dialog.send_button.click()
        create = await peer.next("conversation.item.create")  # the peer validated it with the SDK
        content = create["item"]["content"]
        assert [part["type"] for part in content] == ["input_text", "input_image"]
        assert content[1]["image_url"].startswith("data:image/png;base64,")
        await peer.next("response.create")  # asked with words: answered now
        item_id = create["item"]["id"]
        await peer.send(F.item_added(create["item"]))
        await wait_until(lambda: gui.window.transcript.bubble(item_id) is not None)
        assert not gui.window.transcript.bubble(item_id).image.isHidden()


async def test_an_unknown_model_is_priced_unknown_in_the_header(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"model": "gpt-realtime-9"}) as gui:
        gui.window.bar.set_free(False)  # as for a paid endpoint: the demo's header says "free"
        await gui.connect()
        await peer.send(F.response_created("resp_1"), F.response_done("resp_1"))
        await wait_until(lambda: gui.view.total_tokens > 0)
        await gui.rendered()
        assert gui.view.cost_usd is None
        assert gui.window.bar.usage.text().endswith("price unknown")


async def test_url_and_model_open_the_window_at_that_endpoint_without_saving_it(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer:
        override = run_override(peer.url.split("?")[0], "gpt-realtime-2.1-mini")
        async with Gui(tmp_path, peer, override=override) as gui:
            saved_profiles = [p.name for p in gui.store.settings.profiles]
            assert gui.session.profile.temporary and gui.session.settings.model == "gpt-realtime-2.1-mini"
            gui.window.bar.connect_button.click()
            await peer.connected()
            await peer.send(F.session_created())
            await gui.accept_update()
            await wait_until(lambda: gui.view.connection is Conn.CONNECTED)
            assert gui.peer.connections == 1
            gui.session.persist()
            assert [p.name for p in gui.store.settings.profiles] == saved_profiles  # nothing saved
            assert gui.store.settings.model != "gpt-realtime-2.1-mini"
