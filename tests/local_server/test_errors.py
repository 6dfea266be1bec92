"""The error catalog (realtime-protocol.md §4.2): every code the server produces from a client event,
each with the client's ``event_id`` echoed and the session still open afterwards."""

from __future__ import annotations

import base64

import pytest

from tests.local_server.client import Client, user_text

SILENCE_50MS = base64.b64encode(bytes(2400)).decode()
PTT = {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}

# (case id, frames to send first, the failing frame, code, param, message fragment)
CASES = [
    ("binary", [], b"\x00\x01", "invalid_event", None, "binary frames are not supported"),
    ("bad json", [], "{not json", "invalid_json", None, "failed to parse JSON"),
    ("not an object", [], "[1, 2]", "invalid_event", None, "JSON object"),
    ("no type", [], {"event_id": "e1"}, "invalid_event", "type", "'type'"),
    ("unknown type", [], {"type": "ping", "event_id": "e1"}, "invalid_value", "type", "Supported values are"),
    ("beta event name", [], {"type": "transcription_session.update", "event_id": "e1"}, "invalid_value", "type",
     "'transcription_session.update'"),
    ("unknown top field", [], {"type": "response.cancel", "event_id": "e1", "foo": 1}, "unknown_parameter",
     "foo", "Unknown parameter: 'foo'."),
    ("beta session field", [], {"type": "session.update", "event_id": "e1",
                                "session": {"type": "realtime", "input_audio_format": "pcm16"}},
     "unknown_parameter", "session.input_audio_format", "Unknown parameter: 'session.input_audio_format'."),
    ("temperature", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "temperature": 0.8}},
     "unknown_parameter", "session.temperature", "session.temperature"),
    ("nested unknown", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {
        "input": {"turn_detection": {"type": "semantic_vad", "threshold": 0.5}}}}},
     "unknown_parameter", "session.audio.input.turn_detection.threshold", "threshold"),
    ("no session.type", [], {"type": "session.update", "event_id": "e1", "session": {"instructions": "hi"}},
     "missing_required_parameter", "session.type", "Missing required parameter: 'session.type'."),
    ("rate 16000", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": 16000}}}}},
     "integer_below_min_value", "session.audio.input.format.rate", "Expected a value >= 24000"),
    ("threshold 1.5", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {
        "input": {"turn_detection": {"type": "server_vad", "threshold": 1.5}}}}},
     "decimal_above_max_value", "session.audio.input.turn_detection.threshold", "<= 1.0"),
    ("idle 1000", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {
        "input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 1000}}}}},
     "integer_below_min_value", "session.audio.input.turn_detection.idle_timeout_ms", ">= 5000"),
    ("speed 2", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {
        "output": {"speed": 2.0}}}}, "decimal_above_max_value", "session.audio.output.speed", "<= 1.5"),
    ("max tokens 0", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime",
                                                                                "max_output_tokens": 0}},
     "integer_below_min_value", "session.max_output_tokens", ">= 1"),
    ("bad voice", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {
        "output": {"voice": "nova"}}}}, "invalid_value", "session.audio.output.voice", "'nova'"),
    ("bad eagerness", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {
        "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "eager"}}}}},
     "invalid_value", "session.audio.input.turn_detection.eagerness", "'eager'"),
    ("both modalities", [], {"type": "session.update", "event_id": "e1", "session": {
        "type": "realtime", "output_modalities": ["audio", "text"]}}, "invalid_value", "session.output_modalities", ""),
    ("both modalities in a response", [], {"type": "response.create", "event_id": "e1", "response": {
        "output_modalities": ["audio", "text"]}}, "invalid_value", "response.output_modalities", "Supported values are"),
    ("wrong type", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "instructions": 5}},
     "invalid_type", "session.instructions", "expected a string"),
    ("transcription on realtime", [], {"type": "session.update", "event_id": "e1", "session": {"type": "transcription"}},
     "invalid_value", "session.type", "transcription session update event to a realtime session"),
    ("unknown asr model", [], {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {
        "input": {"transcription": {"model": "whisper-9"}}}}},
     "invalid_value", "session.audio.input.transcription.model", "'whisper-9'"),
    ("content not array", [], {"type": "conversation.item.create", "event_id": "e1", "item": {
        "type": "message", "role": "user", "content": "hi"}}, "invalid_type", "item.content", "expected an array"),
    ("no call_id", [], {"type": "conversation.item.create", "event_id": "e1", "item": {
        "type": "function_call_output", "output": "{}"}}, "missing_required_parameter", "item.call_id", "item.call_id"),
    ("assistant audio", [], {"type": "conversation.item.create", "event_id": "e1", "item": {
        "type": "message", "role": "assistant", "content": [{"type": "output_audio", "transcript": "x"}]}},
     "invalid_value", "item.content[0].type", "cannot be created by the client"),
    ("unknown previous", [], dict(user_text("hi"), event_id="e1", previous_item_id="item_nope"),
     "invalid_value", "previous_item_id", "item_nope"),
    ("bad base64", [], {"type": "input_audio_buffer.append", "event_id": "e1", "audio": "@@@"}, "invalid_value",
     "audio", "base64"),
    ("commit empty", [PTT], {"type": "input_audio_buffer.commit", "event_id": "e1"},
     "input_audio_buffer_commit_empty", None,
     "buffer too small. Expected at least 100ms of audio, but buffer only has 0.00ms of audio."),
    ("commit 50ms", [PTT, {"type": "input_audio_buffer.append", "audio": SILENCE_50MS}],
     {"type": "input_audio_buffer.commit", "event_id": "e1"}, "input_audio_buffer_commit_empty", None,
     "only has 50.00ms of audio"),
    ("cancel idle", [], {"type": "response.cancel", "event_id": "e1"}, "response_cancel_not_active", None,
     "Cancellation failed: no active response found"),
    ("truncate unknown", [], {"type": "conversation.item.truncate", "event_id": "e1", "item_id": "item_x",
                              "content_index": 0, "audio_end_ms": 10},
     "item_truncate_invalid_item_id", "item_id", "does not exist"),
    ("truncate user text", [dict(user_text("hi"), item={"id": "item_u1", "type": "message", "role": "user",
                                                        "content": [{"type": "input_text", "text": "hi"}]})],
     {"type": "conversation.item.truncate", "event_id": "e1", "item_id": "item_u1", "content_index": 0,
      "audio_end_ms": 10}, None, "item_id", "Only model output audio messages can be truncated"),
    ("retrieve unknown", [], {"type": "conversation.item.retrieve", "event_id": "e1", "item_id": "item_x"},
     "item_retrieve_invalid_item_id", "item_id", "does not exist"),
    ("delete unknown", [], {"type": "conversation.item.delete", "event_id": "e1", "item_id": "item_x"},
     "item_delete_invalid_item_id", "item_id", "does not exist"),
    ("duplicate id", [dict(user_text("hi"), item={"id": "item_d1", "type": "message", "role": "user",
                                                  "content": [{"type": "input_text", "text": "hi"}]})],
     dict(user_text("hi"), event_id="e1", item={"id": "item_d1", "type": "message", "role": "user",
                                                "content": [{"type": "input_text", "text": "again"}]}),
     "invalid_value", "item.id", "already exists"),
]


@pytest.mark.parametrize("name, before, frame, code, param, fragment", CASES, ids=[c[0] for c in CASES])
async def test_error_case(server, name, before, frame, code, param, fragment):
    async with await Client.open(server.url) as client:
        for event in before:
            await client.send(event)
        await client.send(frame)
        error = (await client.wait_for("error"))["error"]
        assert error["code"] == code
        assert error["type"] == "invalid_request_error"
        assert error["param"] == param
        assert fragment in error["message"]
        expected_id = frame.get("event_id") if isinstance(frame, dict) else None
        assert error["event_id"] == expected_id
        # The session is still open and working.
        await client.send({"type": "input_audio_buffer.clear"})
        await client.wait_for("input_audio_buffer.cleared")


async def test_a_second_response_while_one_is_active_is_refused_with_its_id(paced_server):
    async with await Client.open(paced_server.url) as client:
        await client.send(user_text("tell me a story"))
        await client.send({"type": "response.create"})
        created = await client.wait_for("response.created")
        await client.send({"type": "response.create", "event_id": "second"})
        error = (await client.wait_for("error"))["error"]
        assert error["code"] == "conversation_already_has_active_response"
        assert error["event_id"] == "second" and created["response"]["id"] in error["message"]
        await client.send({"type": "response.cancel"})
        _, response = await client.response()
        assert response["status"] == "cancelled"


async def test_an_oversized_frame_is_refused_and_the_session_goes_on():
    from desktop_app.local_server import LocalServer

    async with LocalServer(port=0, tts="tone", asr="none", max_frame_bytes=64 * 1024) as srv:
        async with await Client.open(srv.url) as client:
            big = base64.b64encode(bytes(60 * 1024)).decode()
            await client.send({"type": "input_audio_buffer.append", "event_id": "big", "audio": big})
            error = (await client.wait_for("error"))["error"]
            assert error["type"] == "invalid_request_error" and "maximum" in error["message"]
            await client.send({"type": "input_audio_buffer.clear"})
            await client.wait_for("input_audio_buffer.cleared")


async def test_flooding_events_gets_rate_limit_exceeded_without_closing():
    from desktop_app.local_server import LocalServer

    async with LocalServer(port=0, tts="tone", asr="none", events_per_second=20) as srv:
        async with await Client.open(srv.url) as client:
            for i in range(60):
                await client.send({"type": "input_audio_buffer.append", "event_id": f"a{i}", "audio": SILENCE_50MS})
            error = (await client.wait_for("error"))["error"]
            assert error["code"] == "rate_limit_exceeded" and error["event_id"].startswith("a")
            assert not client.closed.is_set()
