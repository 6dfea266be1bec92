"""A spoken turn through the whole window: the WAV microphone, both transcripts as bubbles, and the
indicators walking through their states — held push-to-talk and hands-free."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt

from desktop_app.controller.states import Conn
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until
from tests.realtime import frames as F

pytestmark = pytest.mark.gui

QUESTION, ANSWER = "What is two plus three?", "Two plus three is five."


async def user_turn(gui: Gui, item: str) -> None:
    """The server takes the user's audio as an item and starts transcribing it (interim text)."""
    await gui.peer.send(F.committed(item), F.item_added(F.user_audio_item(item)), F.item_done(F.user_audio_item(item)),
                        F.transcription_delta(item, "What is two"))
    await wait_until(lambda: gui.window.transcript.bubble(item) is not None
                     and "transcribing" in gui.window.transcript.bubble(item).caption.text())
    bubble = gui.window.transcript.bubble(item)
    assert "<i>" in bubble.label.text()  # interim text is styled apart from final text


async def assistant_turn(gui: Gui, rid: str, item: str, audio_ms: int = 600, window_shown: bool = True) -> None:
    """A spoken answer: transcript words and audio in two halves, then done; the user's transcript
    completes after the answer started (as it does live). ``window_shown=False``: the main window is
    hidden (it renders nothing then), so the first half is awaited in the session's view."""
    it = F.assistant_item(item)
    await gui.peer.send(F.response_created(rid), F.output_item_added(rid, it), F.item_added(it),
                        F.part_added(rid, item), F.transcript_delta(rid, item, "Two plus three "),
                        F.audio_delta(rid, item, audio_ms // 2))
    if window_shown:
        await wait_until(lambda: gui.window.transcript.bubble(item) is not None)
        assert "speaking" in gui.window.transcript.bubble(item).caption.text()
    else:
        await wait_until(lambda: any(entry.item_id == item for entry in gui.view.transcript))
    done = F.assistant_item(item, "completed", transcript=ANSWER)
    await gui.peer.send(F.transcript_delta(rid, item, "is five."), F.audio_delta(rid, item, audio_ms // 2),
                        F.audio_done(rid, item), F.transcript_done(rid, item, ANSWER), F.item_done(done),
                        F.output_item_done(rid, done), F.response_done(rid, output=[done]))


def shown(gui: Gui) -> list[tuple[str, str, bool]]:
    return [(e.role, e.text, e.final) for e in gui.window.transcript.entries()]


async def test_push_to_talk_with_a_wav_microphone_shows_both_transcripts_and_walks_the_indicators(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer:
        async with Gui(tmp_path, peer, settings={"turn_mode": "push_to_talk"}) as gui:
            await push_to_talk_turn(gui, qtbot)


async def push_to_talk_turn(gui: Gui, qtbot) -> None:  # noqa: ANN001
    peer = gui.peer
    if True:
        await gui.connect()
        window = gui.window
        assert window.indicators.phase == "Hold to talk"
        assert window.talk.talk.isEnabled()
        levels = []
        window.meters.levels_shown.connect(lambda mic, out: levels.append(window.indicators.mic_meter.level_dbfs))
        qtbot.mousePress(window.talk.talk, Qt.MouseButton.LeftButton)
        await peer.next("input_audio_buffer.clear")
        await gui.rendered()
        assert window.indicators.phase == "You are speaking" and window.indicators.user_pill.active
        await asyncio.wait_for(gui.port.input_done, 5)  # the whole recording went in while held
        qtbot.mouseRelease(window.talk.talk, Qt.MouseButton.LeftButton)
        await peer.next("input_audio_buffer.commit")
        await peer.next("response.create")
        appended = [f for f in peer.all_frames if f["type"] == "input_audio_buffer.append"]
        assert len(appended) >= 50  # ≥ 1 s of the 1.2 s voice (pre-roll included)
        assert max(levels) > -40  # the mic meter moved with the voice
        await wait_until(lambda: window.indicators.phase == "Thinking…")
        await user_turn(gui, "item_U1")
        await assistant_turn(gui, "resp_1", "item_A1")
        await peer.send(F.transcription_completed("item_U1", QUESTION))
        await wait_until(lambda: gui.port.played_blocks > 0)
        await wait_until(lambda: window.indicators.phase == "Hold to talk", timeout=5)
        assert shown(gui) == [("user", QUESTION, True), ("assistant", ANSWER, True)]
        assert gui.phases[gui.phases.index("You are speaking"):] == [
            "You are speaking", "Thinking…", "Assistant is speaking", "Hold to talk"]
        assert any(v.assistant_speaking for v in gui.views) and not gui.view.assistant_speaking
        await gui.close()
        assert gui.view.connection is Conn.CLOSED


async def test_hands_free_turn_follows_server_vad_from_listening_to_answer_and_back(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer:
        async with Gui(tmp_path, peer, settings={"turn_mode": "hands_free"}) as gui:
            await hands_free_turn(gui)


async def hands_free_turn(gui: Gui) -> None:
    peer = gui.peer
    if True:
        await gui.connect()
        window = gui.window
        assert window.indicators.phase == "Listening"
        assert not window.talk.talk.isEnabled()  # nothing to hold in hands-free mode
        await peer.next("input_audio_buffer.append", skip=())  # the microphone streams by itself
        await peer.send(F.speech_started("item_U1", 0))
        await wait_until(lambda: window.indicators.phase == "You are speaking")
        assert window.indicators.user_pill.text() == "Speaking"
        await asyncio.wait_for(gui.port.input_done, 5)
        await peer.send(F.speech_stopped("item_U1", 1200))
        await wait_until(lambda: window.indicators.phase == "Thinking…")
        await user_turn(gui, "item_U1")
        await assistant_turn(gui, "resp_1", "item_A1")
        await peer.send(F.transcription_completed("item_U1", QUESTION))
        await wait_until(lambda: window.indicators.phase == "Listening", timeout=5)
        assert shown(gui) == [("user", QUESTION, True), ("assistant", ANSWER, True)]
        assert gui.phases[gui.phases.index("You are speaking"):] == [
            "You are speaking", "Thinking…", "Assistant is speaking", "Listening"]
        assert "response.create" not in peer.sent_types()  # the server answers by itself in VAD mode
        await gui.close()


async def test_a_tool_call_shows_inline_with_its_status(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        call = F.function_call_item("item_F1", "call_1", "get_weather", '{"city":"Lisbon"}', status="completed")
        await peer.send(F.response_created("resp_1"), F.output_item_added("resp_1", call), F.item_added(call),
                        F.item_done(call), F.output_item_done("resp_1", call), F.response_done("resp_1", output=[call]))
        output = await peer.next("conversation.item.create")  # Parley has no such tool: the model is told so
        await peer.send(F.item_added(F.function_output_item("item_O1", "call_1", output["item"]["output"]),
                                     prev="item_F1"))
        await wait_until(lambda: gui.window.transcript.bubble("item_F1") is not None
                         and "failed" in gui.window.transcript.bubble("item_F1").label.text())
        shown = gui.window.transcript.bubble("item_F1").label.text()
        assert "get_weather" in shown and "Lisbon" in shown and "no tool named" in shown
