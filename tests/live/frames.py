"""GPT-Live server-event factories for the tests, each validated by the SDK oracle before use.

:func:`feed` hands frames to a core; :func:`sent` reads back what the core sent, each frame validated
against the SDK's client union (no undeclared fields).
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import struct
from typing import Any

from desktop_app.live.connection import LiveConnection

from .oracle import validate_live_client_event, validate_live_server_event

_ids = itertools.count(1)


def ev(type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "event_id": f"event_live_{next(_ids):012d}", **fields}


def feed(conn: LiveConnection, *events: dict[str, Any]) -> None:
    for event in events:
        validate_live_server_event(event)
        conn.receive_message(json.dumps(event))


def sent(conn: LiveConnection) -> list[dict[str, Any]]:
    frames = [json.loads(f) for f in conn.frames_to_send()]
    for frame in frames:
        validate_live_client_event(frame)
    return frames


def snapshot(**overrides: Any) -> dict[str, Any]:
    session = {"id": "live_abc123", "expires_at": 1_900_000_000, "status": "active", "model": "gpt-live-1",
               "audio": {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "marin"}},
               "delegation": {"type": "client"}}
    return session | overrides


def started(client_event_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    event = ev("session.started", session=snapshot(**overrides))
    if client_event_id:
        event["client_event_id"] = client_event_id
    return event


def silence_b64(ms: int) -> str:
    return base64.b64encode(b"\x00" * (ms * 48)).decode("ascii")


def voice_b64(ms: int, level: float = 0.2) -> str:
    n = ms * 24
    samples = (int(level * 32767 * math.sin(2 * math.pi * 220 * i / 24000)) for i in range(n))
    return base64.b64encode(struct.pack(f"<{n}h", *samples)).decode("ascii")


def audio(b64: str) -> dict[str, Any]:
    return {"type": "session.output_audio.delta", "delta": b64}  # primary WebSocket: no event_id, no timing


def said(delta: str, start_ms: int, end_ms: int) -> dict[str, Any]:
    return ev("session.input_transcript.delta", delta=delta, start_ms=start_ms, end_ms=end_ms)


def says(delta: str, start_ms: int, end_ms: int) -> dict[str, Any]:
    return ev("session.output_transcript.delta", delta=delta, start_ms=start_ms, end_ms=end_ms)


def nested(delegation_id: str, event: dict[str, Any]) -> dict[str, Any]:
    return ev("response.event", delegation_id=delegation_id, event=event)


def backend_response(response_id: str, status: str = "in_progress", usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Responses lifecycle snapshot as Live nests it: output, tools empty, instructions null."""
    body: dict[str, Any] = {"id": response_id, "object": "response", "created_at": 1_700_000_000, "status": status,
                            "model": "gpt-5.4-mini", "output": [], "tools": [], "instructions": None,
                            "parallel_tool_calls": True, "tool_choice": "auto", "error": None,
                            "incomplete_details": None, "metadata": {}, "temperature": 1.0, "top_p": 1.0}
    if usage is not None:
        body["usage"] = usage
    return body


def function_call(call_id: str, name: str, arguments: str, item_id: str) -> dict[str, Any]:
    return {"type": "function_call", "id": item_id, "call_id": call_id, "name": name, "arguments": arguments,
            "status": "completed"}


USAGE = {"input_tokens": 120, "output_tokens": 30, "total_tokens": 150,
         "input_tokens_details": {"cached_tokens": 20, "cache_write_tokens": 0},
         "output_tokens_details": {"reasoning_tokens": 0}}
