"""Parley's :class:`~desktop_app.realtime.session_config.SessionConfig` as a GPT-Live session, and back.

A Live session is fixed at ``session.start`` (live-protocol.md §2): model, instructions, one audio
format for both directions and the voice never change. What Parley's settings mean there:

* ``instructions`` → ``instructions`` (blank: the server's default); a change mid-session becomes a
  ``session.instructions.append`` (:func:`instructions_change`).
* ``input_format`` → ``audio.format`` (PCM 24 kHz, or G.711 at 8 kHz), ``voice`` → ``audio.output.voice``.
* ``tools`` (function tools) → ``delegation: {type: responses}`` with a backend Responses model that
  calls them; Parley runs the calls (tools registry, permissions) and answers with
  ``response.item.create``. Without tools the session keeps client delegation (the default).
* Turn detection, transcription, noise reduction, modalities, speed, temperature, reasoning: no Live
  meaning (transcription is always on; the model owns turns). They are not sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from desktop_app.realtime.models import DEFAULT_DELEGATION_MODEL
from desktop_app.realtime.session_config import AudioFormat, SessionConfig

from . import commands

#: The backend's own prompt: it works for a voice, so its text is spoken.
BACKEND_INSTRUCTIONS = ("You are the backend of a voice assistant. Do the task with the tools you have, then "
                        "answer in one or two short plain sentences that can be read aloud.")
_FUNCTION_KEYS = ("name", "description", "parameters", "strict")


def function_tools(config: SessionConfig) -> list[dict[str, Any]]:
    """The session's function tools in the Responses shape (other kinds have no Live delegation here)."""
    tools = []
    for tool in config.tools:
        if tool.get("type", "function") == "function" and isinstance(tool.get("name"), str):
            tools.append({"type": "function", **{k: tool[k] for k in _FUNCTION_KEYS if k in tool}})
    return tools


def delegation(config: SessionConfig, backend_model: str = DEFAULT_DELEGATION_MODEL) -> dict[str, Any] | None:
    """``session.delegation`` for ``config``: a Responses backend with its function tools, or None
    (omitted: client delegation) when there are none."""
    tools = function_tools(config)
    if not tools:
        return None
    responses: dict[str, Any] = {"model": backend_model, "instructions": BACKEND_INSTRUCTIONS, "tools": tools}
    choice = config.tool_choice
    if isinstance(choice, str) and choice in ("auto", "none", "required"):
        responses["tool_choice"] = choice
    elif isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        responses["tool_choice"] = {"type": "function", "name": choice["name"]}
    if config.parallel_tool_calls is not None:
        responses["parallel_tool_calls"] = config.parallel_tool_calls
    return {"type": "responses", "responses": responses}


def audio_format(fmt: AudioFormat) -> dict[str, Any]:
    """Live's one format for both directions: PCM at the app's 24 kHz, or G.711 at 8 kHz."""
    if fmt.type == "audio/pcm":
        return {"type": "audio/pcm", "rate": fmt.rate or 24000}
    return {"type": fmt.type, "rate": 8000}


def live_session(config: SessionConfig, backend_model: str = DEFAULT_DELEGATION_MODEL,
                 earlier: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The ``session`` object of ``session.start`` for ``config``; ``earlier``: its ``input`` (the
    conversation so far, already in Live's shape: :func:`.context.input_messages`)."""
    voice: Any = {"id": config.voice} if config.voice.startswith("voice_") else config.voice
    session: dict[str, Any] = {"model": config.model}
    if config.instructions and config.instructions.strip():
        session["instructions"] = config.instructions
    if earlier:
        session["input"] = list(earlier)
    session["audio"] = {"format": audio_format(config.input_format), "output": {"voice": voice}}
    chosen = delegation(config, backend_model)
    if chosen is not None:
        session["delegation"] = chosen
    return session


def delegation_update(before: SessionConfig, after: SessionConfig) -> dict[str, Any] | None:
    """The ``session.update`` body for a tools change, or None when there is none to send. The
    delegation type cannot change mid-session: going from no tools to tools (or back) waits for the
    next connection (the caller logs it)."""
    old, new = delegation(before), delegation(after)
    if old is None or new is None or old == new:
        return None
    return {"delegation": new}


def delegation_type_changes(before: SessionConfig, after: SessionConfig) -> bool:
    """True when ``after`` needs another delegation type than the session has (next connection)."""
    return (delegation(before) is None) != (delegation(after) is None)


def instructions_change(before: SessionConfig, after: SessionConfig) -> str | None:
    """What to append when the instructions changed mid-session (they are fixed at start), or None."""
    old, new = (before.instructions or "").strip(), (after.instructions or "").strip()
    if old == new:
        return None
    if not new:
        return "The user cleared your custom instructions: from now on follow only your original ones."
    return f"The user changed your instructions. From now on follow these instead: {new}"


def session_changes(before: SessionConfig, after: SessionConfig, ids: Callable[[], str],
                    log: logging.Logger) -> tuple[list[dict[str, Any]], SessionConfig]:
    """The frames that carry a mid-session change from ``before`` (what the server has) to ``after``, and
    what the server has then: changed instructions are appended, changed tools update the backend; tools
    switched on or off wait for the next connection (the delegation type is fixed)."""
    frames: list[dict[str, Any]] = []
    words = instructions_change(before, after)
    if words is not None:
        frames.append(commands.append("instructions", commands.clip(words), delegation_id=None, event_id=ids()))
    update = delegation_update(before, after)
    if update is not None:
        frames.append(commands.session_update(update, event_id=ids()))
    elif delegation_type_changes(before, after):
        log.info("= tools switched on or off: the backend changes with the next conversation")
        after = replace(after, tools=before.tools, tool_choice=before.tool_choice,
                        parallel_tool_calls=before.parallel_tool_calls)
    return frames, after


def effective(snapshot: dict[str, Any], requested: SessionConfig) -> SessionConfig:
    """What the controller reads as the session (``Dialect.session``): the requested config with the
    server's model, instructions, voice and format, and no turn detection (the model owns turns)."""
    audio = _obj(snapshot.get("audio"))
    output = _obj(audio.get("output"))
    voice = output.get("voice", requested.voice)
    if isinstance(voice, dict):
        voice = str(voice.get("id", requested.voice))
    fmt = AudioFormat.from_dict(audio.get("format")) if isinstance(audio.get("format"), dict) else requested.input_format
    if fmt.type != "audio/pcm":
        fmt = AudioFormat(fmt.type, None)
    instructions = snapshot.get("instructions")
    model = snapshot.get("model")
    return replace(requested, model=model if isinstance(model, str) and model else requested.model,
                   instructions=instructions if isinstance(instructions, str) else requested.instructions,
                   voice=voice if isinstance(voice, str) else requested.voice, input_format=fmt,
                   output_format=fmt, turn_detection=None)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
