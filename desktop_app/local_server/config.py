"""The session object: GA defaults (realtime-protocol.md §2.1) and atomic ``session.update`` merges.

:func:`default_session` is what ``session.created`` carries. :func:`merge_update` returns the new
session or the first :class:`~.schema.Problem` — never half of one: the caller swaps the whole dict
in only on success (§2.8, §7.4).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from desktop_app.local_server.schema import Problem, invalid_value
from desktop_app.realtime.models import KNOWN_MODELS, is_known_model, is_known_transcription_model

DEFAULT_INSTRUCTIONS = (
    "You are Parley's offline demo assistant, running on this computer with no connection to OpenAI. "
    "Keep answers short and friendly. You can greet, say what you are, tell the time, do simple sums, "
    "repeat what the user said and tell a long story."
)
SESSION_SECONDS = 3600
PCM = {"type": "audio/pcm", "rate": 24000}

SERVER_VAD_DEFAULTS: dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
SEMANTIC_VAD_DEFAULTS: dict[str, Any] = {
    "type": "semantic_vad",
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}


def default_session(model: str, session_id: str, kind: str = "realtime", now: float | None = None,
                    lifetime_s: float = SESSION_SECONDS) -> dict[str, Any]:
    """The full GA session a new connection starts with.

    ``expires_at`` is creation + ``lifetime_s`` — the limit after which this server really sends
    ``session_expired`` (the service's is 3600 s) — rounded down, so a client planning its refresh
    from it is never late.
    """
    expires_at = int((time.time() if now is None else now) + lifetime_s)
    audio_input = {
        "format": dict(PCM),
        "transcription": None,
        "noise_reduction": None,
        "turn_detection": dict(SERVER_VAD_DEFAULTS),
    }
    if kind == "transcription":
        audio_input["transcription"] = {"model": "whisper-1", "language": None, "prompt": ""}
        return {
            "type": "transcription",
            "object": "realtime.transcription_session",
            "id": session_id,
            "expires_at": expires_at,
            "audio": {"input": audio_input},
            "include": None,
        }
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": expires_at,
        "audio": {
            "input": audio_input,
            "output": {"format": dict(PCM), "voice": "alloy", "speed": 1.0},
        },
        "include": None,
    }


def _merge(base: dict[str, Any], update: dict[str, Any]) -> None:
    """Nested merge: objects merge, everything else (incl. null and arrays) replaces."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key not in _REPLACED_WHOLE:
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


# A new turn_detection / format / transcription object replaces the old one (a server_vad object must
# not keep semantic_vad's eagerness); its omitted fields take the defaults of its type.
_REPLACED_WHOLE = frozenset({"turn_detection", "format", "transcription", "noise_reduction", "prompt", "tracing"})


def _complete_turn_detection(td: dict[str, Any] | None) -> dict[str, Any] | None:
    if td is None:
        return None
    defaults = SERVER_VAD_DEFAULTS if td.get("type") == "server_vad" else SEMANTIC_VAD_DEFAULTS
    return {**defaults, **td}


def _format(fmt: dict[str, Any]) -> dict[str, Any]:
    return dict(PCM) if fmt.get("type") == "audio/pcm" else {"type": fmt["type"]}


def merge_update(
    session: dict[str, Any], update: dict[str, Any], *, voice_locked: bool, kind: str
) -> dict[str, Any] | Problem:
    """The session after ``update`` (already schema-checked), or the problem that refuses it whole."""
    if update.get("type") != kind:
        if kind == "realtime":
            return Problem(
                "invalid_value",
                "Passing a transcription session update event to a realtime session is not allowed.",
                "session.type",
            )
        return Problem("invalid_value", "Passing a realtime session update event to a transcription session "
                       "is not allowed.", "session.type")
    model = update.get("model")
    if model is not None and model != session.get("model"):
        if not is_known_model(model):
            return invalid_value("session.model", model, [m.id for m in KNOWN_MODELS])
        return Problem("invalid_value", "Cannot update a session's model once the session has started.", "session.model")
    modalities_refused = modalities_problem(update, "session.output_modalities")
    if modalities_refused is not None:
        return modalities_refused
    audio = update.get("audio") or {}
    transcription = (audio.get("input") or {}).get("transcription")
    if transcription and "model" in transcription and not is_known_transcription_model(transcription["model"]):
        from desktop_app.realtime.models import KNOWN_TRANSCRIPTION_MODELS

        return invalid_value("session.audio.input.transcription.model", transcription["model"], KNOWN_TRANSCRIPTION_MODELS)
    voice = (audio.get("output") or {}).get("voice")
    if voice is not None and voice_locked and voice != session["audio"]["output"]["voice"]:
        return voice_lock_problem("session.audio.output.voice")
    if session.get("tracing") is not None and "tracing" in update and update["tracing"] != session["tracing"]:
        return Problem("invalid_value", "Tracing cannot be modified once it has been enabled for a session.",
                       "session.tracing")
    new = copy.deepcopy(session)
    _merge(new, update)
    audio_in = new["audio"]["input"]
    audio_in["turn_detection"] = _complete_turn_detection(audio_in.get("turn_detection"))
    audio_in["format"] = _format(audio_in["format"])
    if "output" in new["audio"]:
        new["audio"]["output"]["format"] = _format(new["audio"]["output"]["format"])
    return new


def modalities_problem(fields: dict[str, Any], param: str) -> Problem | None:
    """§2.1: ``output_modalities`` is ``["audio"]`` or ``["text"]``, never both (session or response)."""
    modalities = fields.get("output_modalities")
    if modalities is not None and len(set(modalities)) != 1:
        return invalid_value(param, modalities, [["audio"], ["text"]])
    return None


def voice_lock_problem(param: str) -> Problem:
    """§2.7: a voice change after the model has spoken."""
    return Problem("cannot_update_voice", "Cannot update a conversation's voice if assistant audio is present.", param)


def response_request(session: dict[str, Any], overrides: dict[str, Any], *, conversation_id: str,
                     voice_locked: bool) -> dict[str, Any] | Problem:
    """The settings of a ``response.create`` (its ``response`` object: ``overrides``), or why it is refused."""
    refused = modalities_problem(overrides, "response.output_modalities")
    if refused is not None:
        return refused
    conversation = overrides.get("conversation", "auto")
    if conversation not in ("auto", "none", conversation_id):
        return Problem("invalid_value", f"Invalid value: '{conversation}'. Conversation not found.",
                       "response.conversation")
    settings = response_settings(session, {**overrides, "conversation": "none" if conversation == "none" else "auto"})
    voice = ((overrides.get("audio") or {}).get("output") or {}).get("voice")
    current = session["audio"]["output"]["voice"]
    if voice is not None and voice != current and voice_locked and conversation != "none":
        return voice_lock_problem("response.audio.output.voice")
    return settings


def response_settings(session: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """What one response uses: the session's settings with ``response.create``'s overrides on top.

    A snapshot taken when the response starts: a ``session.update`` while it runs (a new
    ``audio.output.speed``, say — §2.7: speed changes between responses) applies from the next one.
    """
    o = overrides or {}
    out_audio = (o.get("audio") or {}).get("output") or {}
    session_out = session["audio"]["output"]
    return {
        "conversation": o.get("conversation", "auto"),
        "metadata": o.get("metadata"),
        "input": o.get("input"),
        "instructions": o.get("instructions", session.get("instructions", "")),
        "output_modalities": list(o.get("output_modalities") or session.get("output_modalities", ["audio"])),
        "voice": out_audio.get("voice", session_out["voice"]),
        "format": _format(out_audio["format"]) if "format" in out_audio else dict(session_out["format"]),
        "speed": session_out.get("speed", 1.0),
        "tools": list(o.get("tools", session.get("tools", []))),
        "tool_choice": o.get("tool_choice", session.get("tool_choice", "auto")),
        "max_output_tokens": o.get("max_output_tokens", session.get("max_output_tokens", "inf")),
    }
