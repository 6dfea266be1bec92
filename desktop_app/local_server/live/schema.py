"""The GPT-Live client events as schema trees (live-protocol.md §2–§3): every field each may carry.

Strict like the service (§2: unknown fields are rejected): :data:`LIVE_CLIENT_EVENTS` maps each
accepted ``type`` to the :class:`~desktop_app.local_server.schema.Obj` its event must fit, and the
shared validator answers with the service's error shapes (``unknown_parameter`` with the path,
``missing_required_parameter``, ``invalid_value`` …). A Realtime event sent here (``response.cancel``,
``input_audio_buffer.append``, ``conversation.item.truncate``) is an unknown ``type``: a non-fatal error.
The trees mirror the ``openai`` SDK's ``openai.types.live`` models (the tests compare the two); the
server never imports the SDK.
"""

from __future__ import annotations

from desktop_app.local_server.schema import Arr, Bool, Either, Enum, Free, Num, Obj, Opt, Spec, Str, Tagged

LIVE_VOICES = ("alloy", "ash", "aube", "ballad", "beacon", "bossa", "brise", "cedar", "cinder", "coral", "delta",
               "echo", "flitz", "gleam", "harema", "juni", "marin", "meridian", "nira", "noeul", "nuri", "quartz",
               "ripple", "sage", "shimmer", "shitan", "sillage", "stone", "tempo", "verse", "vesper", "willow")
"""The SDK's built-in voice enum (3.63); a custom voice is ``{"id": "voice_…"}``."""

_EVENT_ID = Str()
_FORMAT = Tagged("type", {
    "audio/pcm": Obj({"type": Str(), "rate": Enum(16000, 24000)}, required=("rate",)),
    "audio/pcmu": Obj({"type": Str(), "rate": Enum(8000)}, required=("rate",)),
    "audio/pcma": Obj({"type": Str(), "rate": Enum(8000)}, required=("rate",)),
})
_VOICE = Either(Enum(*LIVE_VOICES), Obj({"id": Str()}, required=("id",)), expected="a string")
_FUNCTION = Obj({"type": Str(), "name": Str(), "description": Str(), "parameters": Free(), "strict": Bool()},
                required=("name",))
_TOOL = Tagged("type", {"function": _FUNCTION, "web_search": Obj({"type": Str()})})
_TOOL_CHOICE = Either(Enum("auto", "none", "required"),
                      Obj({"type": Enum("function"), "name": Str()}, required=("type", "name")), expected="a string")


def _responses(required: tuple[str, ...]) -> Obj:
    return Obj({
        "model": Str(), "instructions": Opt(Str()), "tools": Arr(_TOOL), "tool_choice": _TOOL_CHOICE,
        "parallel_tool_calls": Bool(), "max_output_tokens": Num(16, None, integer=True),
        "reasoning": Obj({"effort": Enum("none", "minimal", "low", "medium", "high", "xhigh"),
                          "summary": Enum("concise", "detailed", "auto")}),
        "text": Obj({"verbosity": Enum("low", "medium", "high")}),
        "service_tier": Enum("auto", "default", "flex", "priority"),
    }, required=required)


_DELAY = Num(0, None, integer=True)


def _delegation(responses: Obj, required: tuple[str, ...]) -> Spec:
    return Opt(Tagged("type", {
        "client": Obj({"type": Str(), "acknowledgement_delay_ms": _DELAY}),
        "responses": Obj({"type": Str(), "responses": responses, "acknowledgement_delay_ms": _DELAY}, required=required),
    }))


def _message(part_types: tuple[str, ...]) -> Obj:
    part = Obj({"type": Enum(*part_types), "text": Str()}, required=("text",))
    return Obj({"type": Enum("message"), "role": Str(), "content": Arr(part, min_items=1, max_items=1), "id": Str(),
                "status": Enum("incomplete", "completed")}, required=("content",))


_INPUT = Tagged("role", {"developer": _message(("input_text",)), "user": _message(("input_text",)),
                         "assistant": _message(("text", "output_text"))})
_AUDIO = Obj({"format": _FORMAT, "output": Obj({"voice": _VOICE})})

MAX_INPUT_MESSAGES = 128
MAX_INPUT_TOKENS = 8192
"""``session.input``: at most 128 messages and 8,192 tokens (live-protocol.md §1 "Limits")."""

SESSION = Obj({
    "model": Str(), "instructions": Opt(Str()), "input": Arr(_INPUT, max_items=MAX_INPUT_MESSAGES), "audio": _AUDIO,
    "delegation": _delegation(_responses(("model",)), ("responses",)), "store": Bool(), "safety_identifier": Str(),
    "client": Free(), "triggers": Arr(Free()), "wake_policy": Free(), "idle_timeout_s": Num(0, None),
}, required=("model",))
"""``session.start.session``."""

IMMUTABLE = ("model", "instructions", "input", "audio", "store", "safety_identifier", "client")
"""Fields ``session.update`` names only to be told ``immutable_field_update``."""

_UPDATE = Obj({"delegation": _delegation(_responses(()), ()), "triggers": Arr(Free()),
               **{name: SESSION.fields[name] for name in IMMUTABLE}})


def _command(**fields: Spec) -> Obj:
    return Obj({"type": Str(), "event_id": _EVENT_ID, **fields}, required=tuple(fields))


_APPEND = Obj({"type": Str(), "event_id": _EVENT_ID, "content": Str(), "delegation_id": Opt(Str())},
              required=("content", "delegation_id"))

LIVE_CLIENT_EVENTS: dict[str, Obj] = {
    "session.start": _command(session=SESSION),
    "session.update": _command(session=_UPDATE),
    "session.input_audio.append": _command(audio=Str()),
    "session.input_audio.mute": _command(),
    "session.input_audio.unmute": _command(),
    "session.instructions.append": _APPEND,
    "session.thinking.append": _APPEND,
    "session.commentary.append": _APPEND,
    "response.item.create": _command(item=Free()),
    "response.create": _command(),
    "session.close": _command(),
}
