"""The local server speaks GPT-Live at ``/v1/live/sessions``: every frame both ways checked against the
``openai`` SDK's ``openai.types.live`` unions (and the nested Responses events against its
``ResponseStreamEvent``). The session clock runs on the audio the test sends, so the timings asserted
here are session time, not luck."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from desktop_app.local_server import LocalServer
from desktop_app.local_server.live.assistant import ACKNOWLEDGEMENT
from desktop_app.local_server.speech.tts import synthesize
from tests.local_server.live_client import LiveClient, voiced_ms

ADD = {"type": "function", "name": "add_numbers", "description": "Add two numbers.",
       "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                      "required": ["a", "b"]}}
RESPONSES = {"type": "responses", "responses": {"model": "gpt-5.4-mini", "tools": [ADD]}}


@pytest.fixture(scope="module")
def live():
    with LocalServer(port=0, tts="espeak", asr="none", seed=3, live_usage_s=1.0, live_barge_ms=250) as srv:
        yield srv


def speech(text: str) -> np.ndarray:
    pcm, _ = synthesize(text, "alloy", "espeak")
    return pcm


async def test_session_start_comes_first_and_is_checked_strictly(live):
    client = await LiveClient.open(live.live_url)
    early = await client.send({"type": "session.input_audio.mute"})
    error = await client.wait("error")
    assert error["error"]["code"] == "session_not_started" and error["error"]["client_event_id"] == early
    await client.send({"type": "session.start", "session": {"model": "gpt-realtime-2"}})
    assert (await client.wait("error", 2))["error"]["param"] == "session.model"
    await client.ws.send('{"type": "session.start", "session": {"model": "gpt-live-1", "voice": "cedar"}}')
    unknown = (await client.wait("error", 3))["error"]
    assert (unknown["code"], unknown["param"]) == ("unknown_parameter", "session.voice")
    await client.ws.send('{"type": "response.cancel"}')  # a Realtime event: refused, the session goes on
    assert (await client.wait("error", 4))["error"]["param"] == "type"
    assert not client.of("session.started")
    started = (await client.start(instructions="Be brief."))["session"]
    assert started["id"].startswith("live_") and started["status"] == "active" and started["expires_at"] > 0
    assert started["audio"] == {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "marin"}}
    assert started["delegation"] == {"type": "client"} and started["instructions"] == "Be brief."
    await client.send({"type": "session.start", "session": {"model": "gpt-live-1"}})
    assert (await client.wait("error", 5))["error"]["code"] == "session_already_started"
    await client.close()


async def test_a_spoken_turn_is_answered_after_the_pause_with_timed_fragments_on_a_continuous_track(live):
    client = await LiveClient.open(live.live_url)
    await client.start()
    question = speech("Hello there.")
    await client.silence(300, real_time=4)
    await client.stream(question, real_time=4)
    end_of_question = client.sent_ms
    said = await client.await_while_talking("session.input_transcript.delta")
    assert said["delta"].startswith(" ") and said["start_ms"] >= 200 and said["end_ms"] <= client.sent_ms
    await client.await_while_talking("session.output_transcript.delta")
    await client.silence(4000, real_time=4)
    answer = client.transcript("output")
    assert answer.startswith(" You asked:"), answer
    # One continuous track as long as the input (to within a chunk), silent until the answer.
    await client.caught_up()
    assert abs(len(client.output) / 48 - client.sent_ms) <= 100
    voiced = voiced_ms(bytes(client.output))
    assert voiced and voiced[0] > end_of_question + 500  # answered after the user's pause
    assert all("event_id" not in e for e in client.of("session.output_audio.delta"))
    first = client.of("session.output_transcript.delta")[0]
    assert abs(first["start_ms"] - voiced[0]) < 200  # the words are timed with the audio they come with
    await client.close()


async def test_talked_over_the_assistant_stops_within_a_few_hundred_ms_and_nothing_is_truncated(live):
    client = await LiveClient.open(live.live_url)
    await client.start()
    await client.stream(speech("Hello there."), real_time=4)
    await client.await_while_talking("session.output_transcript.delta")
    await client.silence(1500, real_time=4)  # the answer is well under way (it lasts about eight seconds)
    onset = client.sent_ms
    await client.stream(speech("Stop, please wait."), real_time=4)
    await client.silence(1000, real_time=4)
    await client.caught_up()
    voiced = [t for t in voiced_ms(bytes(client.output)) if t >= onset]
    assert voiced and voiced[0] - onset <= 20, "the assistant was speaking when the user started"
    last = voiced[0]
    for t in voiced[1:]:  # the run of voice under way (the answer to the interruption comes after a gap)
        if t - last > 200:
            break
        last = t
    stopped_after = last + 20 - onset
    assert stopped_after <= 600, f"the assistant went on {stopped_after:.0f} ms into the user's speech"
    spoken = client.transcript("output")
    assert "small offline demo" not in spoken  # the rest of the answer was never said
    await client.close()


async def test_a_delegated_tool_call_waits_for_every_output_then_the_voice_speaks_the_result(live):
    client = await LiveClient.open(live.live_url)
    await client.start(delegation=RESPONSES)
    typed = await client.send({"type": "session.instructions.append", "delegation_id": None,
                               "content": "The user typed this message instead of speaking; answer it: "
                                          "What is two plus three?"})
    # The append is placed when the clock reaches it.
    assert (await client.await_while_talking("session.instructions.appended"))["client_event_id"] == typed
    created = await client.await_while_talking("session.delegation.created")
    assert created["delegation"]["target"] == "responses" and created["delegation"]["response_id"]
    done = await client.wait("response.event", 4)  # created, item added, item done, completed
    assert done["event"]["type"] == "response.completed" and done["event"]["response"]["output"] == []
    call = client.of("response.event")[2]["event"]["item"]
    assert call["type"] == "function_call" and call["name"] == "add_numbers"
    assert call["arguments"] == '{"a": 2, "b": 3}'
    await client.send({"type": "response.create"})
    assert (await client.wait("error"))["error"]["code"] == "tool_output_missing"  # a partial batch is refused
    await client.send({"type": "response.item.create",
                       "item": {"type": "function_call_output", "call_id": call["call_id"], "output": '{"sum": 5}'}})
    await client.send({"type": "response.create"})
    text_done = await client.await_while_talking("response.event", 9)
    nested = [e["event"]["type"] for e in client.of("response.event")[4:]]
    assert nested[:3] == ["response.created", "response.output_item.added", "response.output_text.delta"]
    await client.silence(3000, real_time=4)
    spoken = client.transcript("output")
    assert ACKNOWLEDGEMENT.rstrip(".") in spoken and "The result is five." in spoken.replace("  ", " "), spoken
    assert text_done["delegation_id"] == created["delegation"]["id"]
    await client.close()


async def test_appends_are_acknowledged_on_the_timeline_and_fail_if_the_session_closes_first(live):
    client = await LiveClient.open(live.live_url)
    await client.start(delegation=RESPONSES)
    await client.ws.send('{"type": "session.thinking.append", "content": "The user is in a hurry."}')
    assert (await client.wait("error"))["error"]["code"] == "missing_required_parameter"
    await client.send({"type": "session.commentary.append", "content": "x", "delegation_id": "item_nope"})
    assert (await client.wait("error", 2))["error"]["param"] == "delegation_id"  # non-null under responses
    pending = await client.send({"type": "session.thinking.append", "content": "The user is in a hurry.",
                                 "delegation_id": None})
    await asyncio.sleep(0.2)
    assert not client.of("session.thinking.appended")  # no audio, no timeline: still pending
    await client.send({"type": "session.close"})
    closed = await client.wait("session.closed")
    lost = client.of("error")[-1]["error"]
    assert (lost["code"], lost["client_event_id"]) == ("context_injection_incomplete", pending)
    assert closed["reason"] == "close_requested" and closed["usage"] == {"seconds": 0}
    await asyncio.wait_for(client.closed.wait(), 5)  # the server closes the socket after session.closed
    await client.close()


async def test_session_update_changes_only_the_delegation_and_usage_is_cumulative(live):
    client = await LiveClient.open(live.live_url)
    await client.start(delegation=RESPONSES)
    await client.ws.send('{"type": "session.update", "session": {"instructions": "Something else."}}')  # not in the SDK
    assert (await client.wait("error"))["error"]["code"] == "immutable_field_update"
    await client.send({"type": "session.update", "session": {"delegation": {"type": "client"}}})
    error = (await client.wait("error", 2))["error"]
    assert (error["code"], error["param"]) == ("immutable_field_update", "session.delegation.type")
    update = await client.send({"type": "session.update", "session": {"delegation": {
        "type": "responses", "responses": {"tools": [ADD, dict(ADD, name="get_time")]}}}})
    updated = await client.wait("session.updated")
    assert updated["client_event_id"] == update
    assert [t["name"] for t in updated["session"]["delegation"]["responses"]["tools"]] == ["add_numbers", "get_time"]
    assert updated["session"]["delegation"]["responses"]["model"] == "gpt-5.4-mini"  # the rest kept
    await client.silence(2100)
    await client.wait("session.usage.updated", 2)
    usage = [e["usage"]["seconds"] for e in client.of("session.usage.updated")]
    assert usage == [1, 2]
    await client.send({"type": "session.input_audio.append", "audio": "AAAA"})  # three bytes: not pcm16
    assert (await client.wait("error", 3))["error"]["code"] == "invalid_audio"
    await client.close()


async def test_the_sdks_own_live_client_holds_a_session(live):
    openai = pytest.importorskip("openai")
    client = openai.AsyncOpenAI(api_key="sk-unused-by-the-local-server", websocket_base_url=live.url_base)
    async with client.live.connect() as conn:
        await conn.session.start(session={"model": "gpt-live-1", "instructions": "Be brief."})
        started = await conn.recv()
        assert started.type == "session.started" and started.session.model == "gpt-live-1"
        await conn.session.instructions.append(content="Speak slowly.", delegation_id=None)
        await conn.session.input_audio.append(audio="AAAAAA==")
        appended = await conn.recv()
        assert appended.type == "session.instructions.appended"
        await conn.session.close()
        closed = await conn.recv()
        assert closed.type == "session.closed" and closed.reason == "close_requested"


async def test_a_model_slow_to_stop_still_answers_the_interruption_once_it_has_stopped():
    """The model goes on for 3 s after being talked over; meanwhile the user's turn has ended and its
    answer is queued on the track behind the rest of the story. The stop drops the story only: the
    answer to the interruption is then said (it was cancelled with the story, unsaid)."""
    with LocalServer(port=0, tts="espeak", asr="none", seed=3, live_barge_ms=3000) as slow:
        client = await LiveClient.open(slow.live_url)
        await client.start()
        await client.stream(speech("Hello there."), real_time=4)
        await client.await_while_talking("session.output_transcript.delta")
        await client.silence(1500, real_time=4)  # the answer is well under way (about eight seconds)
        await client.stream(speech("Stop, please wait."), real_time=4)
        await client.silence(7000, real_time=4)
        spoken = client.transcript("output")
        assert "tell a story" not in spoken.split("You asked:")[1], spoken  # the first answer's end was never said
        assert spoken.count("You asked:") == 2, spoken  # the interruption was answered, after the stop
        assert "(speech," in spoken.split("You asked:")[2]
        await client.close()


def test_stopping_one_reply_moves_the_next_one_up_with_its_words():
    from desktop_app.local_server.live.track import OutputTrack

    track = OutputTrack()
    track.add(b"\x01\x00" * 2400, [(" story", 50.0, 90.0)], 0.0, reply=1)  # 100 ms
    track.add(b"\x02\x00" * 2400, [(" answer", 20.0, 60.0)], 0.0, reply=2)  # 100 ms, words at 120 ms
    pcm, words = track.pull(30)
    assert set(pcm[::2]) == {1} and words == []
    track.stop(1)  # talked over: the story's other 70 ms go, the answer moves up to now
    assert track.queued_until_ms == 130
    pcm, words = track.pull(100)
    assert set(pcm[::2]) == {2} and [(w.text, w.start_ms, w.reply) for w in words] == [(" answer", 50, 2)]
    track.stop()
    assert not track.sounding
