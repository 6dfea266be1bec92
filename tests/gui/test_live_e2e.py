"""The real window over GPT-Live against the embedded server: synthesized speech as the microphone,
the server's own VAD, recognition and synthesis — a sum delegated to the backend and run by the
window's calculator tool, then the user talking over a long answer (the server's model stops by
itself; nothing is truncated), with the window saying what GPT-Live does differently (turn detection,
billing by the second). Every frame both ways is checked against the SDK's ``openai.types.live`` unions.

The microphone here is a recording (``FilePort``): it has no echo guard and no onset detector, so the
client has no local onset, and the local server's model stops 250 ms after it is talked over — before the
recogniser's transcript of the interruption reaches the client. This barge-in is therefore the model's
own, and the test asserts exactly that: the story had fallen silent at the client before the client heard
of the interruption, and the client sent nothing about it. The client's own cut (on the user's words, while
the server still sends the story) is shown headless: ``tests/e2e/test_live_headless.py::
test_talking_over_a_gpt_live_answer_stops_it_at_the_client_and_sends_nothing``; the echo guard's onset on
real devices is Realtime's room tests' (no Live variant exists yet)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from desktop_app.controller.states import Conn
from desktop_app.local_server import LocalServer
from desktop_app.local_server.brain import STORY
from desktop_app.ui.widgets import dialect_notes
from tests.gui.harness import Gui, wait_until
from tests.gui.test_local_server_e2e import ANSWER, question_heard, said, warm, words
from tests.helpers.speech import read_wav, speech_wav
from tests.live.oracle import validate_live_client_event, validate_live_server_event

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def local_server() -> LocalServer:
    return LocalServer(port=0, pace=1.0, asr="whisper", tts="auto", seed=5)


async def test_a_spoken_conversation_with_a_tool_call_and_a_barge_in_over_gpt_live_in_the_window(qloop, qtbot, tmp_path):
    server = local_server()
    wav = speech_wav("What is two plus three?")
    settings = {"turn_mode": "hands_free", "model": "gpt-live-1"}
    frames: list[tuple[str, dict[str, Any], bool]] = []  # direction, frame, the speaker playing when it passed
    async with Gui(tmp_path, None, server=server, wav=wav, settings=settings) as gui:
        observatory = gui.session.conversations.observatory
        observe = observatory.frame_observer

        def spy(direction: str, text: str) -> None:  # every frame as it passes the transport, untouched
            frames.append((direction, json.loads(text), gui.port.is_playing))
            observe(direction, text)

        observatory.frame_observer = spy  # type: ignore[method-assign]
        await warm(server)
        gui.window.bar.connect_button.click()
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED, 10)
        assert gui.view.traits.name == "live"
        # The sum is delegated: the voice acknowledges, the backend calls the calculator (the window's
        # ToolBox runs it), and the voice says the result.
        await wait_until(lambda: question_heard(gui) and any(
            e.role == "tool" and e.tool_name == "calculate" and e.tool_status == "done" for e in gui.view.transcript)
            and any(e.role == "assistant" and ANSWER in e.text for e in gui.view.transcript), 60)
        await wait_until(lambda: gui.window.indicators.phase == "Listening", 15)
        assert gui.phases[gui.phases.index("You are speaking"):][-3:] == [
            "Thinking…", "Assistant is speaking", "Listening"]
        assert gui.port.played_blocks > 20  # the answer really "played"
        # The window says what has no Live meaning, from the traits.
        assert gui.window.vad_panel.dialect_note.text() == dialect_notes.VAD
        assert not gui.window.vad_panel.threshold.slider.isEnabled()
        assert gui.window.session_panel.answers.dialect_note.text() == dialect_notes.ANSWER_OPTIONS
        assert gui.window.talk.interrupt.toolTip() == dialect_notes.INTERRUPT

        # A long answer, talked over.
        story, _ = read_wav(speech_wav("Tell me a long story."))
        gui.port.say(story.tobytes())
        await wait_until(lambda: any(e.role == "assistant" and "lighthouse" in e.text for e in gui.view.transcript), 60)
        story_from = len(frames)
        question, _ = read_wav(speech_wav("What time is it?"))
        gui.port.say(question.tobytes())
        await wait_until(lambda: any(e.role == "user" and "time" in words(e.text) for e in gui.view.transcript), 40)
        def answered_after_the_interruption() -> bool:
            entries = gui.view.transcript
            asked = max(i for i, e in enumerate(entries) if e.role == "user")
            return any(e.role == "assistant" and e.final and e.text for e in entries[asked + 1:])
        await wait_until(answered_after_the_interruption, 40)
        told = next(e for e in gui.view.transcript if e.role == "assistant" and "lighthouse" in e.text)
        assert len(told.text) < len(STORY) / 2, told.text  # it stopped when talked over
        assert not told.truncated  # Live has no truncation: the words are what it said
        await wait_until(lambda: gui.view.usage_seconds > 0, 30)  # the server reports usage every 15 s
        assert gui.window.bar.usage.text().endswith(" · free")  # the offline demo costs nothing
        # The barge-in: the model fell silent by itself — when the first words of the interruption reached the
        # client, the story was no longer playing — and the client sent nothing about it (Live has no truncate
        # or cancel, and nobody pressed Interrupt: no "stop speaking" instruction).
        after = frames[story_from:]
        heard = [playing for direction, f, playing in after
                 if direction == "received" and f["type"] == "session.input_transcript.delta"]
        assert heard and not heard[0], "the story was still playing when the interruption was heard"
        sent = {f["type"] for direction, f, _ in after if direction == "sent"}
        assert sent <= {"session.input_audio.append", "response.item.create", "response.create"}, sent
    assert frames and frames[0][1]["type"] == "session.start"
    for direction, frame, _ in frames:  # both ways, the SDK's own unions (no undeclared client field)
        (validate_live_client_event if direction == "sent" else validate_live_server_event)(frame)
    assert frames[-1][1]["type"] == "session.closed"  # the window closed the session politely
