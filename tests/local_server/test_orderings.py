"""The response ladders of realtime-protocol.md §3.6 (A–H), event by event, with usage (§4.6)."""

from __future__ import annotations

import json

import numpy as np

from desktop_app.local_server.speech.tts import synthesize
from tests.local_server.client import Client, audio_of, user_text

DELTAS = {"response.output_audio.delta", "response.output_audio_transcript.delta", "response.output_text.delta",
          "response.function_call_arguments.delta"}

AUDIO_TAIL = [
    "response.created", "response.output_item.added", "conversation.item.added", "response.content_part.added",
    "response.output_audio.done", "response.output_audio_transcript.done", "response.content_part.done",
    "conversation.item.done", "response.output_item.done", "response.done", "rate_limits.updated",
]


def steps(client: Client, events: list[dict]) -> list[str]:
    """Event types without the repeated deltas."""
    return [t for t in client.types(events) if t not in DELTAS]


def spoken(text: str, silence_ms: int = 800) -> np.ndarray:
    pcm, _ = synthesize(text, "alloy", "espeak")
    gap = np.zeros(24 * silence_ms, np.int16)
    return np.concatenate([gap, pcm, gap])


def ptt(**extra) -> dict:
    return {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}, **extra}}


async def test_A_connect_then_update(server):
    async with await Client.open(server.url) as client:
        await client.send(ptt())
        await client.wait_for("session.updated")
        assert client.types() == ["session.created", "session.updated"]


async def test_B_server_vad_audio_turn(server):
    async with await Client.open(server.url) as client:
        await client.append_audio(spoken("What is two plus three?"))
        events, response = await client.response()
        assert steps(client, events) == [
            "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed",
            "conversation.item.added", "conversation.item.done", *AUDIO_TAIL]
        started, stopped, committed = events[0], events[1], events[2]
        assert started["item_id"] == stopped["item_id"] == committed["item_id"]
        assert 0 <= started["audio_start_ms"] < stopped["audio_end_ms"]
        user = events[3]["item"]
        assert user["role"] == "user" and user["content"] == [{"type": "input_audio", "transcript": None}]
        part = next(e for e in events if e["type"] == "response.content_part.added")["part"]
        assert part == {"type": "audio", "transcript": ""}
        item = response["output"][0]
        assert item["content"][0]["type"] == "output_audio" and item["status"] == "completed"
        transcript = "".join(e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta")
        assert transcript == item["content"][0]["transcript"] and transcript
        assert response["conversation_id"].startswith("conv_") and response["status"] == "completed"
        # Deltas sit between content_part.added and output_audio.done, audio chunks 20–100 ms.
        kinds = client.types(events)
        first, last = kinds.index("response.content_part.added"), kinds.index("response.output_audio.done")
        assert all(first < i < last for i, t in enumerate(kinds) if t in DELTAS)
        sizes = [len(audio_of([e])) for e in events if e["type"] == "response.output_audio.delta"]
        assert all(960 <= s <= 4800 for s in sizes[:-1])


async def test_C_push_to_talk_turn(server):
    async with await Client.open(server.url) as client:
        await client.send(ptt())
        await client.wait_for("session.updated")
        await client.append_audio(spoken("hello", 200))
        await client.send({"type": "input_audio_buffer.commit"})
        await client.send({"type": "response.create"})
        events, response = await client.response()
        assert steps(client, events) == [
            "input_audio_buffer.committed", "conversation.item.added", "conversation.item.done", *AUDIO_TAIL]
        assert response["status"] == "completed"
        # Input usage counts the committed audio at ~10 tokens/s.
        ms = len(spoken("hello", 200)) / 24
        assert response["usage"]["input_token_details"]["audio_tokens"] == round(ms / 100)


async def test_D_text_turn_in_text_mode(server):
    async with await Client.open(server.url) as client:
        await client.send(user_text("What is seven times six?"))
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        events, response = await client.response()
        assert steps(client, events) == [
            "conversation.item.added", "conversation.item.done", "response.created", "response.output_item.added",
            "conversation.item.added", "response.content_part.added", "response.output_text.done",
            "response.content_part.done", "conversation.item.done", "response.output_item.done", "response.done",
            "rate_limits.updated"]
        text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        assert text == "Seven times six is forty two."
        assert response["output"][0]["content"] == [{"type": "output_text", "text": text}]
        usage = response["usage"]
        assert usage["output_token_details"] == {"text_tokens": 7, "audio_tokens": 0}
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert usage["input_token_details"]["text_tokens"] > 5  # instructions + the question


async def test_D_input_grows_turn_by_turn(server):
    async with await Client.open(server.url) as client:
        totals = []
        for question in ("hello", "what is one plus one"):
            await client.send(user_text(question))
            await client.send({"type": "response.create"})
            _, response = await client.response()
            totals.append(response["usage"]["input_tokens"])
        assert totals[1] > totals[0]
        assert response["usage"]["output_token_details"]["audio_tokens"] > 0


async def test_E_function_call_then_spoken_result(server):
    tool = {"type": "function", "name": "add_numbers", "description": "Add two numbers.",
            "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}
    async with await Client.open(server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "tools": [tool]}})
        await client.wait_for("session.updated")
        await client.send(user_text("What is two plus three?"))
        await client.send({"type": "response.create"})
        events, response = await client.response()
        assert steps(client, events)[2:] == [
            "response.created", "response.output_item.added", "conversation.item.added",
            "response.function_call_arguments.done", "conversation.item.done", "response.output_item.done",
            "response.done", "rate_limits.updated"]
        done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
        assert done["name"] == "add_numbers" and json.loads(done["arguments"]) == {"a": 2, "b": 3}
        assert done["call_id"].startswith("call_") and len(done["call_id"]) == 21
        deltas = "".join(e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta")
        assert deltas == done["arguments"]
        assert response["output"][0]["type"] == "function_call" and response["output"][0]["status"] == "completed"
        await client.send({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": done["call_id"], "output": json.dumps({"sum": 5})}})
        added = await client.wait_for("conversation.item.added")
        assert added["item"]["type"] == "function_call_output"
        await client.wait_for("conversation.item.done")
        await client.send({"type": "response.create"})
        _, response = await client.response()
        assert response["output"][0]["content"][0]["transcript"] == "The result is five."


async def test_E_time_tool_and_tool_choice_none(server):
    tool = {"type": "function", "name": "get_local_time", "parameters": {"type": "object", "properties": {}}}
    async with await Client.open(server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "tools": [tool]}})
        await client.send(user_text("What time is it?"))
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        _, response = await client.response()
        assert response["output"][0]["type"] == "function_call" and response["output"][0]["arguments"] == "{}"
        await client.send(user_text("What time is it now?"))
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"], "tool_choice": "none"}})
        _, response = await client.response()
        assert response["output"][0]["content"][0]["text"].startswith("It is ")


async def test_F2_cancel_closes_open_parts_then_done_cancelled(paced_server):
    async with await Client.open(paced_server.url) as client:
        await client.send(user_text("tell me a long story"))
        await client.send({"type": "response.create"})
        await client.wait_for("response.output_audio.delta")
        await client.send({"type": "response.cancel"})
        events, response = await client.response()
        tail = steps(client, events)
        assert tail == ["response.output_audio.done", "response.output_audio_transcript.done", "response.content_part.done",
                        "conversation.item.done", "response.output_item.done", "response.done", "rate_limits.updated"]
        assert response["status"] == "cancelled"
        assert response["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
        assert response["output"][0]["status"] == "incomplete"
        assert 0 < response["usage"]["output_token_details"]["audio_tokens"] < 200  # partial, not the whole story
        await client.send({"type": "response.cancel", "event_id": "again"})
        assert (await client.wait_for("error"))["error"]["code"] == "response_cancel_not_active"


async def test_H_out_of_band_response_runs_beside_the_default_one(paced_server):
    async with await Client.open(paced_server.url) as client:
        await client.send(user_text("tell me a story"))
        await client.send({"type": "response.create"})
        default_id = (await client.wait_for("response.created"))["response"]["id"]
        await client.send({"type": "response.create", "response": {
            "conversation": "none", "metadata": {"purpose": "title"}, "output_modalities": ["text"],
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}]}})
        oob = await client.wait_for(lambda e: e["type"] == "response.done" and e["response"]["id"] != default_id)
        assert oob["response"]["conversation_id"] is None and oob["response"]["metadata"] == {"purpose": "title"}
        assert oob["response"]["status"] == "completed"
        start = client.events.index(oob) - 12
        window = [e for e in client.events[start:] if e.get("response_id") != default_id]
        assert "conversation.item.added" not in client.types(window[-6:])
        await client.send({"type": "response.cancel", "response_id": default_id})
        done = await client.wait_for(lambda e: e["type"] == "response.done" and e["response"]["id"] == default_id)
        assert done["response"]["status"] == "cancelled"


async def test_per_response_instructions_are_obeyed(server):
    async with await Client.open(server.url) as client:
        await client.send(user_text("tell me a story"))
        await client.send({"type": "response.create", "response": {
            "output_modalities": ["text"], "instructions": "Answer in one sentence."}})
        _, response = await client.response()
        text = response["output"][0]["content"][0]["text"]
        assert text.count(".") == 1 and text.startswith("Once upon a time")


async def test_max_output_tokens_makes_an_incomplete_response(server):
    async with await Client.open(server.url) as client:
        await client.send(user_text("tell me a story"))
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"], "max_output_tokens": 5}})
        _, response = await client.response()
        assert response["status"] == "incomplete"
        assert response["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
        assert response["usage"]["output_tokens"] <= 5


async def test_g711_output_when_the_session_asks_for_pcmu(server):
    async with await Client.open(server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {
            "output": {"format": {"type": "audio/pcmu"}}}}})
        await client.send(user_text("hello"))
        await client.send({"type": "response.create"})
        events, response = await client.response()
        audio = audio_of(events)
        ms = response["usage"]["output_token_details"]["audio_tokens"] * 50  # 20 tokens per second
        assert abs(len(audio) / 8 - ms) < 120  # 8 bytes per ms at 8 kHz
        assert response["audio"]["output"]["format"] == {"type": "audio/pcmu"}


async def test_output_audio_buffer_clear_stops_the_answer_and_says_cleared(paced_server):
    async with await Client.open(paced_server.url) as client:
        await client.send(user_text("tell me a story"))
        await client.send({"type": "response.create"})
        created = await client.wait_for("response.created")
        await client.wait_for("response.output_audio.delta")
        await client.send({"type": "output_audio_buffer.clear"})
        events = await client.collect_until("output_audio_buffer.cleared")
        done = next(e for e in events if e["type"] == "response.done")["response"]
        assert done["status"] == "cancelled" and done["id"] == created["response"]["id"]
        assert events[-1]["response_id"] == created["response"]["id"]
