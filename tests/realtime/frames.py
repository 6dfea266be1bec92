"""Server-event factories shaped like live GA captures (realtime-protocol.md §3), for the tests.

Every factory returns a plain dict. :func:`feed` validates each against the SDK oracle *before* the
core sees it, so a fixture that drifts from the real protocol fails the test that uses it.
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

from desktop_app.realtime.connection import RealtimeConnection

from .oracle import validate_server_event

_ids = itertools.count(1)


def eid() -> str:
    return f"event_{next(_ids):021d}"


def ev(type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "event_id": eid(), **fields}


def feed(conn: RealtimeConnection, *events: dict[str, Any]) -> None:
    """Validate each event with the oracle, then hand it to the core as JSON text."""
    for event in events:
        validate_server_event(event)
        conn.receive_message(json.dumps(event))


def pcm_b64(ms: int, bytes_per_ms: int = 48) -> str:
    return base64.b64encode(b"\x00" * (ms * bytes_per_ms)).decode("ascii")


# --- sessions ------------------------------------------------------------------------------------


def session_obj(**over: Any) -> dict[str, Any]:
    """A full default session as ``session.created`` echoes it for gpt-realtime (§2.1)."""
    session = {
        "type": "realtime", "object": "realtime.session", "id": "sess_C9Ab12Cd34Ef56Gh78Ij9",
        "model": "gpt-realtime-2.1", "output_modalities": ["audio"],
        "instructions": "Your knowledge cutoff is 2023-10. You are a helpful assistant.",
        "tools": [], "tool_choice": "auto", "max_output_tokens": "inf", "tracing": None,
        "truncation": "auto", "prompt": None, "expires_at": 1764000000, "include": None,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000}, "transcription": None,
                "noise_reduction": None,
                "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                                   "silence_duration_ms": 200, "idle_timeout_ms": None,
                                   "create_response": True, "interrupt_response": True},
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0},
        },
    }
    session.update(over)
    return session


def session_created(**over: Any) -> dict[str, Any]:
    return ev("session.created", session=session_obj(**over))


def session_updated(session: dict[str, Any]) -> dict[str, Any]:
    return ev("session.updated", session=session)


# --- items ---------------------------------------------------------------------------------------


def user_audio_item(item_id: str) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "role": "user", "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}]}


def user_text_item(item_id: str, text: str) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "role": "user", "status": "completed",
            "content": [{"type": "input_text", "text": text}]}


def assistant_item(item_id: str, status: str = "in_progress", *, transcript: str | None = None,
                   text: str | None = None) -> dict[str, Any]:
    content = []
    if transcript is not None:
        content.append({"type": "output_audio", "transcript": transcript})
    if text is not None:
        content.append({"type": "output_text", "text": text})
    return {"id": item_id, "type": "message", "role": "assistant", "status": status, "content": content}


def function_call_item(item_id: str, call_id: str, name: str, arguments: str = "",
                       status: str = "in_progress") -> dict[str, Any]:
    return {"id": item_id, "type": "function_call", "status": status, "call_id": call_id,
            "name": name, "arguments": arguments}


def function_output_item(item_id: str, call_id: str, output: str) -> dict[str, Any]:
    return {"id": item_id, "type": "function_call_output", "call_id": call_id, "output": output}


def item_added(item: dict[str, Any], prev: str | None = None) -> dict[str, Any]:
    return ev("conversation.item.added", item=item, previous_item_id=prev)


def item_done(item: dict[str, Any], prev: str | None = None) -> dict[str, Any]:
    return ev("conversation.item.done", item=item, previous_item_id=prev)


# --- input buffer --------------------------------------------------------------------------------


def speech_started(item_id: str, ms: int = 1000) -> dict[str, Any]:
    return ev("input_audio_buffer.speech_started", audio_start_ms=ms, item_id=item_id)


def speech_stopped(item_id: str, ms: int = 2500) -> dict[str, Any]:
    return ev("input_audio_buffer.speech_stopped", audio_end_ms=ms, item_id=item_id)


def committed(item_id: str, prev: str | None = None) -> dict[str, Any]:
    return ev("input_audio_buffer.committed", item_id=item_id, previous_item_id=prev)


def transcription_delta(item_id: str, delta: str) -> dict[str, Any]:
    return ev("conversation.item.input_audio_transcription.delta", item_id=item_id, content_index=0,
              delta=delta, obfuscation="pad")


def transcription_completed(item_id: str, transcript: str) -> dict[str, Any]:
    return ev("conversation.item.input_audio_transcription.completed", item_id=item_id, content_index=0,
              transcript=transcript,
              usage={"type": "tokens", "input_tokens": 20, "output_tokens": 6, "total_tokens": 26,
                     "input_token_details": {"text_tokens": 0, "audio_tokens": 20}})


# --- responses -----------------------------------------------------------------------------------

USAGE = {"total_tokens": 320, "input_tokens": 132, "output_tokens": 188,
         "input_token_details": {"text_tokens": 59, "audio_tokens": 73, "image_tokens": 0, "cached_tokens": 64,
                                 "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 64, "image_tokens": 0}},
         "output_token_details": {"text_tokens": 41, "audio_tokens": 147}}


def response_obj(rid: str, status: str = "in_progress", *, output: list[dict[str, Any]] | None = None,
                 usage: dict[str, Any] | None = None, conversation_id: str | None = "conv_C9Ab12Cd34Ef56Gh78Ij9",
                 reason: str | None = None, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "object": "realtime.response", "id": rid, "status": status, "conversation_id": conversation_id,
        "output": output or [], "output_modalities": ["audio"], "max_output_tokens": "inf",
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"}},
        "usage": usage, "metadata": metadata,
        "status_details": None if reason is None else {"type": status, "reason": reason},
    }
    return response


def response_created(rid: str, **kw: Any) -> dict[str, Any]:
    return ev("response.created", response=response_obj(rid, **kw))


def response_done(rid: str, status: str = "completed", **kw: Any) -> dict[str, Any]:
    kw.setdefault("usage", USAGE)
    return ev("response.done", response=response_obj(rid, status, **kw))


def rate_limits() -> dict[str, Any]:
    return ev("rate_limits.updated", rate_limits=[{"name": "tokens", "limit": 40000, "remaining": 39000,
                                                    "reset_seconds": 1.5}])


def _at(rid: str, item_id: str, content_index: int | None = 0) -> dict[str, Any]:
    at = {"response_id": rid, "item_id": item_id, "output_index": 0}
    if content_index is not None:
        at["content_index"] = content_index
    return at


def output_item_added(rid: str, item: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return ev("response.output_item.added", response_id=rid, output_index=index, item=item)


def output_item_done(rid: str, item: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return ev("response.output_item.done", response_id=rid, output_index=index, item=item)


def part_added(rid: str, item_id: str, kind: str = "audio") -> dict[str, Any]:
    part = {"type": "audio", "transcript": ""} if kind == "audio" else {"type": "text", "text": ""}
    return ev("response.content_part.added", **_at(rid, item_id), part=part)


def part_done(rid: str, item_id: str, kind: str = "audio", words: str = "") -> dict[str, Any]:
    part = {"type": "audio", "transcript": words} if kind == "audio" else {"type": "text", "text": words}
    return ev("response.content_part.done", **_at(rid, item_id), part=part)


def audio_delta(rid: str, item_id: str, ms: int = 100, bytes_per_ms: int = 48) -> dict[str, Any]:
    return ev("response.output_audio.delta", **_at(rid, item_id), delta=pcm_b64(ms, bytes_per_ms))


def audio_done(rid: str, item_id: str) -> dict[str, Any]:
    return ev("response.output_audio.done", **_at(rid, item_id))


def transcript_delta(rid: str, item_id: str, delta: str) -> dict[str, Any]:
    return ev("response.output_audio_transcript.delta", **_at(rid, item_id), delta=delta, obfuscation="x")


def transcript_done(rid: str, item_id: str, transcript: str) -> dict[str, Any]:
    return ev("response.output_audio_transcript.done", **_at(rid, item_id), transcript=transcript)


def text_delta(rid: str, item_id: str, delta: str) -> dict[str, Any]:
    return ev("response.output_text.delta", **_at(rid, item_id), delta=delta)


def text_done(rid: str, item_id: str, text: str) -> dict[str, Any]:
    return ev("response.output_text.done", **_at(rid, item_id), text=text)


def args_delta(rid: str, item_id: str, call_id: str, delta: str) -> dict[str, Any]:
    return ev("response.function_call_arguments.delta", **_at(rid, item_id, None), call_id=call_id, delta=delta)


def args_done(rid: str, item_id: str, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return ev("response.function_call_arguments.done", **_at(rid, item_id, None), call_id=call_id,
              name=name, arguments=arguments)


def error(code: str | None, message: str = "…", *, type_: str = "invalid_request_error",
          caused_by: str | None = None, param: str | None = None) -> dict[str, Any]:
    return ev("error", error={"type": type_, "code": code, "message": message, "param": param,
                              "event_id": caused_by})


# --- one realistic example of every GA server event type -----------------------------------------

R, U, A, F, C = "resp_C9Ab12Cd34Ef56Gh78Ij9", "item_U1", "item_A1", "item_F1", "call_Ab12Cd34Ef56Gh78"


def every_server_event() -> dict[str, dict[str, Any]]:
    """One frame per GA server event type, keyed by type (the tests check this covers the SDK)."""
    events = [
        session_created(), session_updated(session_obj()),
        ev("conversation.created", conversation={"id": "conv_1", "object": "realtime.conversation"}),
        item_added(user_audio_item(U)), item_done(user_audio_item(U)),
        ev("conversation.item.created", item=user_text_item("item_T1", "hi"), previous_item_id=U),
        ev("conversation.item.retrieved", item={**assistant_item(A, "completed", transcript="Hi"),
                                                "content": [{"type": "output_audio", "transcript": "Hi",
                                                             "audio": pcm_b64(50)}]}),
        ev("conversation.item.truncated", item_id=A, content_index=0, audio_end_ms=1840),
        ev("conversation.item.deleted", item_id="item_T1"),
        transcription_delta(U, "Hello"), transcription_completed(U, "Hello there."),
        ev("conversation.item.input_audio_transcription.failed", item_id=U, content_index=0,
           error={"type": "transcription_error", "code": "audio_unintelligible", "message": "unclear",
                  "param": None}),
        ev("conversation.item.input_audio_transcription.segment", id="seg_1", item_id=U, content_index=0,
           text="Hello", speaker="A", start=0.0, end=0.8),
        speech_started(U), speech_stopped(U), committed(U),
        ev("input_audio_buffer.cleared"),
        ev("input_audio_buffer.timeout_triggered", audio_start_ms=5000, audio_end_ms=11000, item_id="item_U2"),
        {"type": "input_audio_buffer.dtmf_event_received", "event": "5", "received_at": 1764000000},
        response_created(R), response_done(R, output=[assistant_item(A, "completed", transcript="Hi")]),
        output_item_added(R, assistant_item(A)), output_item_done(R, assistant_item(A, "completed", transcript="Hi")),
        part_added(R, A), part_done(R, A, words="Hi"),
        text_delta(R, A, "Hi"), text_done(R, A, "Hi"),
        audio_delta(R, A), audio_done(R, A),
        transcript_delta(R, A, "Hi"), transcript_done(R, A, "Hi"),
        args_delta(R, F, C, '{"tz":'), args_done(R, F, C, "get_local_time", '{"tz":"UTC"}'),
        ev("response.mcp_call_arguments.delta", response_id=R, item_id="item_M1", output_index=0, delta="{",
           obfuscation="pad"),
        ev("response.mcp_call_arguments.done", response_id=R, item_id="item_M1", output_index=0, arguments="{}"),
        ev("response.mcp_call.in_progress", item_id="item_M1", output_index=0),
        ev("response.mcp_call.completed", item_id="item_M1", output_index=0),
        ev("response.mcp_call.failed", item_id="item_M1", output_index=0),
        ev("mcp_list_tools.in_progress", item_id="item_L1"),
        ev("mcp_list_tools.completed", item_id="item_L1"),
        ev("mcp_list_tools.failed", item_id="item_L1"),
        rate_limits(), error("invalid_value", "Invalid value: 'ping'.", param="type", caused_by="evt_x_1"),
        ev("output_audio_buffer.started", response_id=R),
        ev("output_audio_buffer.stopped", response_id=R),
        ev("output_audio_buffer.cleared", response_id=R),
    ]
    return {e["type"]: e for e in events}
