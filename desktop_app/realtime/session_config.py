"""The GA session configuration as a typed value, validated the way the server validates it.

:class:`SessionConfig` is what the settings UI edits and what ``session.created/updated`` report
(:meth:`SessionConfig.from_server`). :func:`session_diff` turns two configs into the smallest
``session.update`` body, and :func:`check_locked` refuses changes the server would reject
(realtime-protocol.md §2). Validation is explicit (:meth:`SessionConfig.validate`) rather than in
the constructor, because the server's own effective config must always be representable, even when
it holds a value the client would never choose.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from .errors import ConfigValidationError
from .logfmt import logger
from .models import DEFAULT_MODEL, is_valid_model_id, takes_reasoning
from .session_locks import FIELD_LOCKS, FieldLock, check_locked, hold_between_responses, lock_of, same_model
from .transcription import TRANSCRIPTION_DELAYS, Transcription

__all__ = [  # Transcription and its delays live in .transcription; importing them from here still works
    "EAGERNESS", "FORMAT_TYPES", "NOISE_REDUCTION", "PCM_RATE", "REASONING_EFFORTS", "TRANSCRIPTION_DELAYS",
    "VOICES", "AudioFormat", "FieldLock", "SemanticVad", "ServerVad", "SessionConfig", "Transcription",
    "FIELD_LOCKS", "TurnDetection", "check_locked", "hold_between_responses", "lock_of", "same_model", "session_diff",
]

VOICES: tuple[str, ...] = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
"""GA built-in voices (§2.5). A custom voice is given by its ``voice_…`` id."""
FORMAT_TYPES: tuple[str, ...] = ("audio/pcm", "audio/pcmu", "audio/pcma")
PCM_RATE = 24000
EAGERNESS: tuple[str, ...] = ("low", "medium", "high", "auto")
NOISE_REDUCTION: tuple[str, ...] = ("near_field", "far_field")
REASONING_EFFORTS: tuple[str, ...] = ("minimal", "low", "medium", "high", "xhigh")
"""``reasoning.effort`` for reasoning models (gpt-realtime-2 class), least to most."""
TOOL_CHOICE_MODES: tuple[str, ...] = ("auto", "none", "required")
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """``{"type": "audio/pcm", "rate": 24000}`` or G.711 (``audio/pcmu``/``audio/pcma``, 8 kHz)."""

    type: str = "audio/pcm"
    rate: int | None = PCM_RATE

    @property
    def bytes_per_ms(self) -> int:
        """PCM16 at 24 kHz is 48 bytes per ms; G.711 at 8 kHz is 8."""
        return 48 if self.type == "audio/pcm" else 8

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "rate": self.rate} if self.type == "audio/pcm" else {"type": self.type}

    @classmethod
    def from_dict(cls, data: Any) -> "AudioFormat":
        if not isinstance(data, dict):
            return cls()
        kind = data.get("type") or "audio/pcm"
        return cls(kind, data.get("rate", PCM_RATE) if kind == "audio/pcm" else None)

    def problems(self, path: str) -> list[ConfigValidationError]:
        if self.type not in FORMAT_TYPES:
            return [ConfigValidationError(f"{path}.type", f"Audio format must be one of {', '.join(FORMAT_TYPES)}.")]
        if self.type == "audio/pcm" and self.rate != PCM_RATE:
            return [ConfigValidationError(f"{path}.rate", "PCM audio must be 24000 Hz.")]
        if self.type != "audio/pcm" and self.rate is not None:
            return [ConfigValidationError(f"{path}.rate", "G.711 audio has a fixed rate; leave rate empty.")]
        return []


PCM24K = AudioFormat()


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerVad:
    """Energy-based turn detection (§2.4); defaults are what ``session.created`` echoes."""

    type: ClassVar[str] = "server_vad"
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 200
    idle_timeout_ms: int | None = None
    create_response: bool = True
    interrupt_response: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "threshold": self.threshold, "prefix_padding_ms": self.prefix_padding_ms,
                "silence_duration_ms": self.silence_duration_ms, "idle_timeout_ms": self.idle_timeout_ms,
                "create_response": self.create_response, "interrupt_response": self.interrupt_response}

    def problems(self, path: str) -> list[ConfigValidationError]:
        out = []
        if not _is_number(self.threshold) or not 0.0 <= self.threshold <= 1.0:
            out.append(ConfigValidationError(f"{path}.threshold", "VAD threshold must be between 0 and 1."))
        for name in ("prefix_padding_ms", "silence_duration_ms"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                out.append(ConfigValidationError(f"{path}.{name}", f"{name} must be a whole number of ms, 0 or more."))
        idle = self.idle_timeout_ms
        if idle is not None and (not _is_int(idle) or not 5000 <= idle <= 30000):
            out.append(ConfigValidationError(f"{path}.idle_timeout_ms", "Idle timeout must be off or 5000–30000 ms."))
        out += _bool_problems(self, path, ("create_response", "interrupt_response"))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class SemanticVad:
    """Model-based turn detection; ``eagerness`` bounds the wait (low 8 s … high 2 s)."""

    type: ClassVar[str] = "semantic_vad"
    eagerness: str = "auto"
    create_response: bool = True
    interrupt_response: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "eagerness": self.eagerness,
                "create_response": self.create_response, "interrupt_response": self.interrupt_response}

    def problems(self, path: str) -> list[ConfigValidationError]:
        out = _bool_problems(self, path, ("create_response", "interrupt_response"))
        if self.eagerness not in EAGERNESS:
            out.append(ConfigValidationError(f"{path}.eagerness", f"Eagerness must be one of {', '.join(EAGERNESS)}."))
        return out


TurnDetection = ServerVad | SemanticVad | None
"""None means push-to-talk: the client commits and asks for responses itself."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """The settings of one GA realtime session. ``instructions=None`` keeps the server's default."""

    model: str = DEFAULT_MODEL
    instructions: str | None = None
    output_modalities: tuple[str, ...] = ("audio",)
    voice: str = "marin"
    speed: float = 1.0
    input_format: AudioFormat = PCM24K
    output_format: AudioFormat = PCM24K
    turn_detection: TurnDetection = field(default_factory=ServerVad)
    transcription: Transcription | None = None
    noise_reduction: str | None = None
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: str | dict[str, Any] = "auto"
    max_output_tokens: int | Literal["inf"] = "inf"
    reasoning_effort: str | None = None  # None: the model's default (the field is not sent)
    parallel_tool_calls: bool | None = None  # None: not sent

    @property
    def push_to_talk(self) -> bool:
        """True when there is no turn detection: the client commits and creates responses."""
        return self.turn_detection is None

    def problems(self) -> list[ConfigValidationError]:
        """Every way this config would be refused by the server, in session-path order."""
        out: list[ConfigValidationError] = []
        if not is_valid_model_id(self.model):
            out.append(ConfigValidationError("session.model", f"{self.model!r} is not a model id."))
        if self.instructions is not None and not isinstance(self.instructions, str):
            out.append(ConfigValidationError("session.instructions", "Instructions must be text."))
        if tuple(self.output_modalities) not in (("audio",), ("text",)):
            out.append(ConfigValidationError("session.output_modalities", "Output must be either audio or text, not both."))
        out += self.input_format.problems("session.audio.input.format")
        if self.transcription is not None:
            out += self.transcription.problems("session.audio.input.transcription")
        if self.noise_reduction is not None and self.noise_reduction not in NOISE_REDUCTION:
            out.append(ConfigValidationError("session.audio.input.noise_reduction.type",
                                             "Noise reduction must be off, near_field or far_field."))
        if self.turn_detection is not None:
            out += self.turn_detection.problems("session.audio.input.turn_detection")
        out += self.output_format.problems("session.audio.output.format")
        if not isinstance(self.voice, str) or not (self.voice in VOICES or self.voice.startswith("voice_")):
            out.append(ConfigValidationError("session.audio.output.voice",
                                             f"Voice must be one of {', '.join(VOICES)} or a custom voice_… id."))
        if not _is_number(self.speed) or not 0.25 <= self.speed <= 1.5:
            out.append(ConfigValidationError("session.audio.output.speed", "Speed must be between 0.25 and 1.5."))
        out += _tool_problems(self.tools, self.tool_choice)
        tokens = self.max_output_tokens
        if tokens != "inf" and (not _is_int(tokens) or not 1 <= tokens <= 4096):
            out.append(ConfigValidationError("session.max_output_tokens", "Max output tokens must be 1–4096 or 'inf'."))
        out += self._reasoning_problems()
        return out

    def _reasoning_problems(self) -> list[ConfigValidationError]:
        # A known model without reasoning refuses these (the whole update would be discarded); an
        # unknown model may take them, and the server says so if it does not.
        out = []
        refuses = isinstance(self.model, str) and takes_reasoning(self.model) is False
        if self.reasoning_effort is not None:
            if self.reasoning_effort not in REASONING_EFFORTS:
                out.append(ConfigValidationError("session.reasoning.effort",
                                                 f"Reasoning effort must be one of {', '.join(REASONING_EFFORTS)}."))
            elif refuses:
                out.append(ConfigValidationError("session.reasoning.effort",
                                                 f"{self.model} does not take a reasoning effort."))
        if self.parallel_tool_calls is not None:
            if not isinstance(self.parallel_tool_calls, bool):
                out.append(ConfigValidationError("session.parallel_tool_calls", "parallel_tool_calls must be true or false."))
            elif refuses:
                out.append(ConfigValidationError("session.parallel_tool_calls",
                                                 f"{self.model} does not take parallel_tool_calls."))
        return out

    def validate(self) -> "SessionConfig":
        """Raise the first :class:`ConfigValidationError`, or return ``self`` when all is valid."""
        problems = self.problems()
        if problems:
            raise problems[0]
        return self

    def to_session_dict(self) -> dict[str, Any]:
        """The complete GA ``session`` object (``type: "realtime"`` first)."""
        session: dict[str, Any] = {"type": "realtime", "model": self.model}
        if self.instructions is not None:
            session["instructions"] = self.instructions
        voice: Any = {"id": self.voice} if self.voice.startswith("voice_") else self.voice
        session.update({
            "output_modalities": list(self.output_modalities),
            "audio": {
                "input": {
                    "format": self.input_format.to_dict(),
                    "transcription": self.transcription.to_dict() if self.transcription else None,
                    "noise_reduction": {"type": self.noise_reduction} if self.noise_reduction else None,
                    "turn_detection": self.turn_detection.to_dict() if self.turn_detection else None,
                },
                "output": {"format": self.output_format.to_dict(), "voice": voice, "speed": self.speed},
            },
            "tools": [dict(t) for t in self.tools],
            "tool_choice": self.tool_choice,
            "max_output_tokens": self.max_output_tokens,
        })
        if self.reasoning_effort is not None:
            session["reasoning"] = {"effort": self.reasoning_effort}
        if self.parallel_tool_calls is not None:
            session["parallel_tool_calls"] = self.parallel_tool_calls
        return session

    @classmethod
    def from_server(cls, session: dict[str, Any]) -> "SessionConfig":
        """The effective config from ``session.created/updated`` (lenient: the server is the truth)."""
        audio = _obj(session.get("audio"))
        inp, out = _obj(audio.get("input")), _obj(audio.get("output"))
        voice = out.get("voice", "alloy")
        if isinstance(voice, dict):  # custom voice {"id": "voice_…"}
            voice = str(voice.get("id", ""))
        transcription = None
        if isinstance(inp.get("transcription"), dict):
            transcription = Transcription.from_dict(inp["transcription"])
        noise = _obj(inp.get("noise_reduction")).get("type")
        instructions = session.get("instructions")
        effort = _obj(session.get("reasoning")).get("effort")
        parallel = session.get("parallel_tool_calls")
        return cls(
            model=session.get("model") or DEFAULT_MODEL,
            instructions=instructions if isinstance(instructions, str) else None,
            output_modalities=tuple(session.get("output_modalities") or ("audio",)),
            voice=voice,
            speed=out.get("speed", 1.0),
            input_format=AudioFormat.from_dict(inp.get("format")),
            output_format=AudioFormat.from_dict(out.get("format")),
            turn_detection=_turn_detection_from(inp.get("turn_detection")),
            transcription=transcription,
            noise_reduction=noise if isinstance(noise, str) else None,
            tools=tuple(t for t in session.get("tools") or () if isinstance(t, dict)),
            tool_choice=session.get("tool_choice", "auto"),
            max_output_tokens=session.get("max_output_tokens", "inf"),
            reasoning_effort=effort if isinstance(effort, str) else None,
            parallel_tool_calls=parallel if isinstance(parallel, bool) else None,
        )


def session_diff(old: SessionConfig | None, new: SessionConfig) -> dict[str, Any]:
    """The smallest ``session`` body that turns ``old`` into ``new`` (``old=None``: the whole config).

    Always has ``type: "realtime"`` (the server requires it). Nested objects carry only changed
    leaves, except that an object whose ``type`` changes (server_vad → semantic_vad, pcm → pcmu) is
    sent whole, ``turn_detection`` and ``transcription`` are always sent whole when any of them changes
    (see :data:`_SENT_WHOLE`), and a discriminated object keeps its ``type`` beside the changed
    leaves. A leaf that
    disappears inside a nested object is sent as ``null`` so the server's merge clears it. ``model``
    is never in the diff: it is chosen when connecting (see :func:`check_locked`).
    """
    new_d = new.to_session_dict()
    del new_d["model"]
    if old is None:
        return new_d
    old_d = old.to_session_dict()
    del old_d["model"]
    body = _diff(old_d, new_d, root=True)
    return {"type": "realtime", **{k: v for k, v in body.items() if k != "type"}}


def _diff(old: dict[str, Any], new: dict[str, Any], *, root: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key, _ABSENT)
        if before == value:
            continue
        if key in _SENT_WHOLE:
            out[key] = value
        elif isinstance(before, dict) and isinstance(value, dict) and before.get("type") == value.get("type"):
            sub = _diff(before, value)
            out[key] = {"type": value["type"], **sub} if "type" in value else sub
        else:
            out[key] = value
    if not root:
        for key in old.keys() - new.keys():
            out[key] = None
    return out


_ABSENT = object()
#: Objects a server may replace whole rather than merge, so they are always sent complete:
#: ``turn_detection`` (the live service's merge rule for a partial one is unverified, §2.8 and §8
#: item 4; a server that replaces it would reset the other sliders to its defaults) and
#: ``transcription`` (a transcription object for another model must not keep the old one's options,
#: and a null leaf inside it is refused: the local server answers ``invalid_type``).
_SENT_WHOLE = frozenset({"turn_detection", "transcription"})


def _turn_detection_from(data: Any) -> TurnDetection:
    if not isinstance(data, dict):
        return None
    keys = ("create_response", "interrupt_response")
    flags = {k: data[k] for k in keys if isinstance(data.get(k), bool)}
    if data.get("type") == "semantic_vad":
        return SemanticVad(eagerness=data.get("eagerness") or "auto", **flags)
    if data.get("type") != "server_vad":
        logger.warning("! unknown turn_detection type %r in session; treated as server_vad", data.get("type"))
    defaults = ServerVad()
    return ServerVad(
        threshold=data.get("threshold", defaults.threshold),
        prefix_padding_ms=data.get("prefix_padding_ms", defaults.prefix_padding_ms),
        silence_duration_ms=data.get("silence_duration_ms", defaults.silence_duration_ms),
        idle_timeout_ms=data.get("idle_timeout_ms"),
        **flags,
    )


def _tool_problems(tools: tuple[dict[str, Any], ...], tool_choice: Any) -> list[ConfigValidationError]:
    out = []
    names = set()
    for i, tool in enumerate(tools):
        path = f"session.tools[{i}]"
        kind = tool.get("type", "function") if isinstance(tool, dict) else None
        if kind == "function":
            name = tool.get("name")
            if not isinstance(name, str) or not _TOOL_NAME.match(name):
                out.append(ConfigValidationError(f"{path}.name", "A tool name must be 1–64 letters, digits, _ or -."))
            elif name in names:
                out.append(ConfigValidationError(f"{path}.name", f"Two tools are named {name!r}."))
            names.add(name)
            if "parameters" in tool and not isinstance(tool["parameters"], dict):
                out.append(ConfigValidationError(f"{path}.parameters", "Tool parameters must be a JSON schema object."))
        elif kind == "mcp":
            if not isinstance(tool.get("server_label"), str):
                out.append(ConfigValidationError(f"{path}.server_label", "An MCP tool needs a server_label."))
        else:
            out.append(ConfigValidationError(f"{path}.type", "A tool must be a function or an MCP server."))
    if isinstance(tool_choice, dict):
        if tool_choice.get("type") == "function" and tool_choice.get("name") not in names:
            out.append(ConfigValidationError("session.tool_choice.name", "The forced tool is not in the tool list."))
        elif tool_choice.get("type") not in ("function", "mcp"):
            out.append(ConfigValidationError("session.tool_choice.type", "A forced tool must be a function or MCP tool."))
    elif tool_choice not in TOOL_CHOICE_MODES:
        out.append(ConfigValidationError("session.tool_choice", f"Tool choice must be one of {', '.join(TOOL_CHOICE_MODES)}."))
    return out


def _bool_problems(obj: Any, path: str, names: tuple[str, ...]) -> list[ConfigValidationError]:
    return [ConfigValidationError(f"{path}.{n}", f"{n} must be true or false.")
            for n in names if not isinstance(getattr(obj, n), bool)]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
