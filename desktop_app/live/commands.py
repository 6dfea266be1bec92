"""GPT-Live client events as dicts, ready for ``json.dumps`` (live-protocol.md §3; SDK 3.63 ``ClientEvent``).

Each builder returns exactly the fields the SDK declares, so the server's strict validation (unknown
field → ``unknown_parameter``) never trips on Parley. ``event_id`` is optional in Live; Parley sends
one on every command that has an acknowledgement or can fail, so ``client_event_id`` ties the answer
back to it. Audio appends carry none: they have no acknowledgement and are 50 a second.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

ClientEvent = dict[str, Any]
AppendKind = Literal["instructions", "thinking", "commentary"]

#: ``session.*.append`` content is limited to 500 tokens; at ~4 characters a token this stays under it.
MAX_APPEND_CHARS = 1800


def session_start(session: dict[str, Any], *, event_id: str) -> ClientEvent:
    """The first frame of a WebSocket session: the whole configuration (model inside)."""
    return {"type": "session.start", "event_id": event_id, "session": session}


def session_update(session: dict[str, Any], *, event_id: str) -> ClientEvent:
    """Change the delegation settings (same type) or triggers; nothing else may change."""
    return {"type": "session.update", "event_id": event_id, "session": session}


def input_audio_append(audio: bytes) -> ClientEvent:
    """Raw audio in the session's format (never acknowledged)."""
    return {"type": "session.input_audio.append", "audio": base64.b64encode(audio).decode("ascii")}


def input_audio_mute(muted: bool, *, event_id: str) -> ClientEvent:
    """``session.input_audio.mute`` / ``.unmute``."""
    return {"type": "session.input_audio.mute" if muted else "session.input_audio.unmute", "event_id": event_id}


def append(kind: AppendKind, content: str, *, delegation_id: str | None, event_id: str) -> ClientEvent:
    """``session.instructions.append`` (directs the model), ``.thinking.append`` (silent context) or
    ``.commentary.append`` (to be spoken). ``delegation_id`` is required and may be null."""
    return {"type": f"session.{kind}.append", "event_id": event_id, "content": content,
            "delegation_id": delegation_id}


def function_call_output(call_id: str, output: str, *, event_id: str) -> ClientEvent:
    """One tool result for the Responses backend (``response.item.create``; no acknowledgement)."""
    return {"type": "response.item.create", "event_id": event_id,
            "item": {"type": "function_call_output", "call_id": call_id, "output": output}}


def response_create(*, event_id: str) -> ClientEvent:
    """Continue the delegated response once every call of it has its output."""
    return {"type": "response.create", "event_id": event_id}


def session_close(*, event_id: str) -> ClientEvent:
    """End the session; ``session.closed`` answers with the reason and the final usage."""
    return {"type": "session.close", "event_id": event_id}


def clip(text: str, limit: int = MAX_APPEND_CHARS) -> str:
    """``text`` cut at a word boundary to fit one append (with "…" when cut)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip() + "…"
