"""The local GPT-Live server takes ``session.start.session.input`` and uses it (live-protocol.md §1 "Limits", §2):
the demo brain answers "what did I say before?" from it, a developer message steers like instructions, more than
128 messages or 8,192 tokens are refused; an appended instruction asking it to stop speaking silences it, and one
asking it to answer now answers the seeded question. Every frame is SDK-checked both ways (:class:`LiveClient`)."""

from __future__ import annotations

import pytest

from desktop_app.live.context import ANSWER_NOW, STOP_SPEAKING
from desktop_app.local_server import LocalServer
from desktop_app.local_server.brain import STORY
from tests.local_server.live_client import LiveClient, voiced_ms


@pytest.fixture(scope="module")
def live():
    with LocalServer(port=0, tts="espeak", asr="none", seed=4, live_usage_s=1.0) as srv:
        yield srv


def message(role: str, text: str) -> dict:
    kind = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}


def typed(text: str) -> dict:
    """A typed message as Parley's Live core appends it."""
    return {"type": "session.instructions.append", "delegation_id": None,
            "content": f"The user typed this message instead of speaking; answer it: {text}"}


async def test_the_seeded_conversation_is_what_the_assistant_remembers(live):
    client = await LiveClient.open(live.live_url)
    await client.start(input=[message("user", "My favourite colour is green."), message("assistant", "Noted."),
                              message("developer", "Answer in one sentence.")])
    await client.send(typed("What did I say before?"))
    await client.await_while_talking("session.output_transcript.delta", count=4)
    await client.silence(2000, real_time=4)
    assert "You said: My favourite colour is green" in client.transcript("output").strip()
    await client.close()


async def test_without_input_the_same_question_finds_nothing():
    with LocalServer(port=0, tts="espeak", asr="none", seed=4) as srv:
        client = await LiveClient.open(srv.live_url)
        await client.start()
        await client.send(typed("What did I say before?"))
        await client.await_while_talking("session.output_transcript.delta", count=3)
        await client.silence(1500, real_time=4)
        assert "nothing yet" in client.transcript("output")
        await client.close()


async def test_input_beyond_the_limits_is_refused(live):
    client = await LiveClient.open(live.live_url)
    await client.send({"type": "session.start", "session": {"model": "gpt-live-1",
                                                            "input": [message("user", "hi")] * 129}})
    error = (await client.wait("error"))["error"]
    assert (error["code"], error["param"]) == ("array_above_max_length", "session.input")
    words = " ".join(["word"] * 5000)
    await client.send({"type": "session.start", "session": {"model": "gpt-live-1",
                                                            "input": [message("user", words)] * 2}})
    error = (await client.wait("error", 2))["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "session.input")
    assert not client.of("session.started")
    await client.start(input=[message("user", "hi")] * 128)  # at the limit: accepted
    await client.close()


async def test_asked_to_stop_speaking_it_falls_silent_and_answers_the_next_question(live):
    client = await LiveClient.open(live.live_url)
    await client.start()
    await client.send(typed("Tell me a story."))
    await client.await_while_talking("session.output_transcript.delta", count=3)
    await client.silence(1000, real_time=4)
    asked = client.sent_ms
    event_id = await client.send({"type": "session.instructions.append", "content": STOP_SPEAKING,
                                  "delegation_id": None})
    await client.silence(2000, real_time=4)
    await client.caught_up()
    ack = client.of("session.instructions.appended")[-1]
    assert ack["client_event_id"] == event_id
    voiced = [t for t in voiced_ms(bytes(client.output)) if t >= asked]
    assert not voiced or voiced[-1] < ack["end_ms"] + 300, "it went on speaking after the stop was placed"
    assert len(client.transcript("output")) < len(STORY) / 2
    await client.send(typed("What is two plus two?"))
    before = len(client.of("session.output_transcript.delta"))
    await client.await_while_talking("session.output_transcript.delta", count=before + 3)
    await client.silence(1500, real_time=4)
    assert "Two plus two is four." in client.transcript("output")
    await client.close()


async def test_asked_to_answer_now_it_answers_the_seeded_question(live):
    client = await LiveClient.open(live.live_url)
    await client.start(input=[message("user", "What is two plus three?")])
    await client.send({"type": "session.instructions.append", "content": ANSWER_NOW, "delegation_id": None})
    await client.await_while_talking("session.output_transcript.delta", count=3)
    await client.silence(1500, real_time=4)
    assert "Two plus three is five." in client.transcript("output")
    await client.close()
