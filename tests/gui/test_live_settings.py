"""Settings changed while talking: VAD sliders send one debounced update, a refusal rolls the slider
back with a sentence in the banner, and the voice locks once the assistant has spoken."""

from __future__ import annotations

import asyncio

import pytest

from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until
from tests.realtime import frames as F

pytestmark = pytest.mark.gui


def td(update: dict) -> dict:
    return update["session"]["audio"]["input"]["turn_detection"]


async def test_dragging_vad_sliders_sends_one_debounced_update_that_session_updated_confirms(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        panel = gui.window.vad_panel
        for position in (55, 60, 65, 70):  # a drag: many value changes in a row
            panel.threshold.slider.setValue(position)
        panel.silence.slider.setValue(800)
        assert panel.threshold.value.text() == "0.70" and panel.silence.value.text() == "800 ms"
        assert gui.view.vad.threshold == 0.7  # shown at once, sent later
        update = await gui.accept_update()
        assert td(update)["threshold"] == 0.7 and td(update)["silence_duration_ms"] == 800
        await wait_until(lambda: gui.session.controller.effective_session.turn_detection.threshold == 0.7)
        assert panel.threshold.slider.value() == 70 and panel.silence.slider.value() == 800
        await asyncio.sleep(0.5)  # longer than the debounce: nothing more may follow
        assert peer.sent_types().count("session.update") == 2  # the initial one and exactly one more
        gui.session.persist()
        assert gui.store.settings.vad_threshold == 0.7 and gui.store.settings.vad_silence_duration_ms == 800


async def test_a_refused_vad_update_rolls_the_slider_back_and_says_why(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        panel = gui.window.vad_panel
        assert panel.prefix.slider.value() == 300
        panel.prefix.slider.setValue(900)
        rejected = await peer.next("session.update")
        assert td(rejected)["prefix_padding_ms"] == 900
        await peer.send(F.error("integer_above_max_value", "Invalid value for prefix_padding_ms.",
                                caused_by=rejected["event_id"]))
        await wait_until(lambda: gui.window.banner.isVisible())
        assert "refused the new settings" in gui.window.banner.sentence.text()
        assert panel.prefix.slider.value() == 300 and panel.prefix.value.text() == "300 ms"
        gui.window.banner.close_button.click()
        await gui.rendered()
        assert not gui.window.banner.isVisible() and gui.view.notice is None


async def test_choosing_turn_detection_off_switches_to_push_to_talk_and_back_is_offered(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        gui.window.vad_panel.type_buttons["off"].click()
        update = await gui.accept_update()
        assert td(update) is None
        await wait_until(lambda: gui.window.talk.mode == "push_to_talk")
        assert not gui.window.talk.hands_free.isEnabled()
        assert not gui.window.vad_panel.threshold.slider.isVisible()
        gui.window.vad_panel.type_buttons["semantic_vad"].click()
        await gui.rendered()
        assert gui.window.talk.hands_free.isEnabled() and gui.window.vad_panel.eagerness.isVisible()


async def test_the_voice_locks_after_the_first_assistant_audio(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        panel = gui.window.session_panel
        gui.window.fit.open_side_panel(panel)
        assert panel.voice.isEnabled() and not panel.voice_note.isVisible()
        panel.voice.setCurrentText("cedar")
        panel.voice_chosen.emit("cedar")
        update = await gui.accept_update()
        assert update["session"]["audio"]["output"]["voice"] == "cedar"
        it = F.assistant_item("item_A1")
        await peer.send(F.response_created("resp_1"), F.output_item_added("resp_1", it), F.item_added(it),
                        F.part_added("resp_1", "item_A1"), F.audio_delta("resp_1", "item_A1", 100))
        await wait_until(lambda: not panel.voice.isEnabled())
        assert panel.voice_note.isVisible() and "fixed" in panel.voice_note.text()
        assert panel.voice.currentText() == "cedar"
        gui.session.set_voice("ash")  # even if asked directly, the change is refused with a notice
        await gui.rendered()
        assert gui.view.voice == "cedar" and "cannot change" in gui.window.banner.sentence.text()
        gui.session.persist()
        assert gui.store.settings.voice == "cedar"  # the chosen voice is what the next start offers
