"""The GA client events as schema trees (realtime-protocol.md §2.1, §3.3): every field each may carry.

:data:`CLIENT_EVENTS` maps each accepted ``type`` to the :class:`~.schema.Obj` its event must fit.
Bounds that the service enforces (format rate, VAD ranges, speed, token limits) live here too, so an
out-of-range value is answered like the real service before anything is applied.
"""

from __future__ import annotations

from desktop_app.local_server.schema import Arr, Bool, Either, Enum, Free, Num, Obj, Opt, Str, Tagged

GA_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")

_FORMAT = Tagged(
    "type",
    {
        "audio/pcm": Obj({"type": Str(), "rate": Num(24000, 24000, integer=True)}),
        "audio/pcmu": Obj({"type": Str()}),
        "audio/pcma": Obj({"type": Str()}),
    },
)
_VOICE = Either(Enum(*GA_VOICES), Obj({"id": Str()}, required=("id",)), expected="a string")
_TRANSCRIPTION = Obj(
    {
        "model": Str(),
        "language": Str(),
        "prompt": Str(),
        "languages": Arr(Str()),
        "keywords": Arr(Str()),
        "delay": Enum("minimal", "low", "medium", "high", "xhigh"),
    }
)
_NOISE = Obj({"type": Enum("near_field", "far_field"), "strength": Num(0.0, 1.0)})
_TURN_DETECTION = Tagged(
    "type",
    {
        "server_vad": Obj(
            {
                "type": Str(),
                "threshold": Num(0.0, 1.0),
                "prefix_padding_ms": Num(0, 10_000, integer=True),
                "silence_duration_ms": Num(0, 10_000, integer=True),
                "idle_timeout_ms": Opt(Num(5000, 30000, integer=True)),
                "create_response": Bool(),
                "interrupt_response": Bool(),
            }
        ),
        "semantic_vad": Obj(
            {
                "type": Str(),
                "eagerness": Enum("low", "medium", "high", "auto"),
                "create_response": Bool(),
                "interrupt_response": Bool(),
            }
        ),
    },
)
_AUDIO_INPUT = Obj(
    {
        "format": _FORMAT,
        "transcription": Opt(_TRANSCRIPTION),
        "noise_reduction": Opt(_NOISE),
        "turn_detection": Opt(_TURN_DETECTION),
    }
)
_AUDIO_OUTPUT = Obj({"format": _FORMAT, "voice": _VOICE, "speed": Num(0.25, 1.5)})

_MCP_FILTER = Obj({"read_only": Bool(), "tool_names": Arr(Str())})
_MCP_TOOL = Obj(
    {
        "type": Str(),
        "server_label": Str(),
        "server_url": Str(),
        "connector_id": Str(),
        "authorization": Str(),
        "headers": Opt(Free()),
        "allowed_tools": Opt(Either(Arr(Str()), _MCP_FILTER, expected="an array of strings")),
        "allowed_callers": Arr(Enum("direct", "programmatic")),
        "require_approval": Opt(
            Either(Enum("always", "never"), Obj({"always": _MCP_FILTER, "never": _MCP_FILTER}), expected="a string")
        ),
        "server_description": Str(),
        "defer_loading": Bool(),
        "tunnel_id": Str(),
    },
    required=("server_label",),
)
_FUNCTION_TOOL = Obj(
    {"type": Str(), "name": Str(), "description": Str(), "parameters": Free()}, required=("name",)
)
_TOOLS = Arr(Tagged("type", {"function": _FUNCTION_TOOL, "mcp": _MCP_TOOL}, default="function"))
_TOOL_CHOICE = Either(
    Enum("none", "auto", "required"),
    Tagged(
        "type",
        {
            "function": Obj({"type": Str(), "name": Str()}, required=("name",)),
            "mcp": Obj({"type": Str(), "server_label": Str(), "name": Opt(Str())}, required=("server_label",)),
        },
    ),
    expected="a string",
)
_MAX_TOKENS = Either(Num(1, 4096, integer=True), Enum("inf"), expected="an integer")
_PROMPT = Obj({"id": Str(), "version": Opt(Str()), "variables": Opt(Free())}, required=("id",))
_REASONING = Obj({"effort": Enum("minimal", "low", "medium", "high", "xhigh")})
_TRACING = Either(
    Enum("auto"), Obj({"workflow_name": Str(), "group_id": Str(), "metadata": Free()}), expected="a string"
)
_TRUNCATION = Either(
    Enum("auto", "disabled"),
    Obj(
        {
            "type": Enum("retention_ratio"),
            "retention_ratio": Num(0.0, 1.0),
            "token_limits": Obj({"post_instructions": Num(0, None, integer=True)}),
        },
        required=("type", "retention_ratio"),
    ),
    expected="a string",
)
_MODALITIES = Arr(Enum("text", "audio"), min_items=1)

SESSION = Tagged(
    "type",
    {
        "realtime": Obj(
            {
                "type": Str(),
                "model": Str(),
                "instructions": Str(),
                "output_modalities": _MODALITIES,
                "audio": Obj({"input": _AUDIO_INPUT, "output": _AUDIO_OUTPUT}),
                "tools": _TOOLS,
                "tool_choice": _TOOL_CHOICE,
                "max_output_tokens": _MAX_TOKENS,
                "tracing": Opt(_TRACING),
                "truncation": _TRUNCATION,
                "prompt": Opt(_PROMPT),
                "include": Opt(Arr(Enum("item.input_audio_transcription.logprobs"))),
                "parallel_tool_calls": Bool(),
                "reasoning": _REASONING,
            }
        ),
        "transcription": Obj(
            {
                "type": Str(),
                "audio": Obj({"input": _AUDIO_INPUT}),
                "include": Opt(Arr(Enum("item.input_audio_transcription.logprobs"))),
            }
        ),
    },
)

_COMMON_ITEM = {"id": Str(), "object": Enum("realtime.item"), "status": Enum("completed", "incomplete", "in_progress")}


def _message(content_types: tuple[str, ...], content_fields: dict) -> Obj:
    part = Tagged("type", {t: Obj({"type": Str(), **content_fields}) for t in content_types})
    return Obj({**_COMMON_ITEM, "type": Str(), "role": Str(), "content": Arr(part)}, required=("content",))


_USER_CONTENT = {"text": Str(), "audio": Str(), "transcript": Opt(Str()), "image_url": Str(), "detail": Enum("auto", "low", "high")}
_MESSAGE = Tagged(
    "role",
    {
        "system": _message(("input_text",), {"text": Str()}),
        "user": _message(("input_text", "input_audio", "input_image"), _USER_CONTENT),
        "assistant": _message(("output_text", "output_audio"), {"text": Str(), "audio": Str(), "transcript": Opt(Str())}),
    },
)
_MCP_ERROR = Free()
ITEM = Tagged(
    "type",
    {
        "message": _MESSAGE,  # a role-tagged union of objects
        "function_call": Obj(
            {**_COMMON_ITEM, "type": Str(), "call_id": Str(), "name": Str(), "arguments": Str()},
            required=("name", "arguments"),
        ),
        "function_call_output": Obj(
            {**_COMMON_ITEM, "type": Str(), "call_id": Str(), "output": Str()}, required=("call_id", "output")
        ),
        "mcp_approval_response": Obj(
            {"id": Str(), "type": Str(), "approval_request_id": Str(), "approve": Bool(), "reason": Opt(Str())},
            required=("approval_request_id", "approve"),
        ),
        "mcp_list_tools": Obj(
            {"id": Str(), "type": Str(), "server_label": Str(), "tools": Arr(Obj(
                {"name": Str(), "input_schema": Free(), "annotations": Opt(Free()), "description": Opt(Str())},
                required=("name", "input_schema")))},
            required=("server_label", "tools"),
        ),
        "mcp_call": Obj(
            {"id": Str(), "type": Str(), "server_label": Str(), "name": Str(), "arguments": Str(),
             "approval_request_id": Opt(Str()), "error": Opt(_MCP_ERROR), "output": Opt(Str())},
            required=("server_label", "name", "arguments"),
        ),
        "mcp_approval_request": Obj(
            {"id": Str(), "type": Str(), "server_label": Str(), "name": Str(), "arguments": Str()},
            required=("server_label", "name", "arguments"),
        ),
    },
)
_ITEM_REFERENCE = Obj({"type": Str(), "id": Str()}, required=("id",))
_INPUT_ITEM = Tagged("type", {**ITEM.variants, "item_reference": _ITEM_REFERENCE})

RESPONSE = Obj(
    {
        "conversation": Either(Enum("auto", "none"), Str(), expected="a string"),
        "metadata": Opt(Free()),
        "input": Arr(_INPUT_ITEM),
        "instructions": Str(),
        "output_modalities": _MODALITIES,
        "audio": Obj({"output": Obj({"format": _FORMAT, "voice": _VOICE})}),
        "tools": _TOOLS,
        "tool_choice": _TOOL_CHOICE,
        "max_output_tokens": _MAX_TOKENS,
        "prompt": Opt(_PROMPT),
        "reasoning": _REASONING,
        "parallel_tool_calls": Bool(),
    }
)


def _event(fields: dict, required: tuple[str, ...] = ()) -> Obj:
    return Obj({"type": Str(), "event_id": Opt(Str()), **fields}, required=required)


CLIENT_EVENTS: dict[str, Obj] = {
    "session.update": _event({"session": SESSION}, ("session",)),
    "input_audio_buffer.append": _event({"audio": Str()}, ("audio",)),
    "input_audio_buffer.commit": _event({}),
    "input_audio_buffer.clear": _event({}),
    "conversation.item.create": _event({"item": ITEM, "previous_item_id": Opt(Str())}, ("item",)),
    "conversation.item.retrieve": _event({"item_id": Str()}, ("item_id",)),
    "conversation.item.truncate": _event(
        {"item_id": Str(), "content_index": Num(0, None, integer=True), "audio_end_ms": Num(0, None, integer=True)},
        ("item_id", "content_index", "audio_end_ms"),
    ),
    "conversation.item.delete": _event({"item_id": Str()}, ("item_id",)),
    "response.create": _event({"response": Opt(RESPONSE)}),
    "response.cancel": _event({"response_id": Opt(Str())}),
    "output_audio_buffer.clear": _event({}),
}
"""Every GA client event type this server accepts, with its schema."""
