"""Every setting, declared once: key, type, default, bounds or choices, description.

:class:`Settings` is the typed, frozen snapshot readers get; each of its fields carries its
:class:`Setting` spec in the field metadata, so the attribute, the stored key, the default and the
bounds cannot drift apart. :data:`SCHEMA` lists the specs in declaration order (the settings dialog
can build itself from it). Constructing a :class:`Settings` validates every value, so a snapshot that
exists is valid.

Stored form: every value is text in the INI file (``str``/``int``/``float`` as written, ``bool`` as
``true``/``false``, ``None`` as ``off``, ``bytes`` as base64, tuples as JSON), so a hand-edited file
reads back the same and nothing Python-specific (pickles) ever reaches the file.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from desktop_app.realtime.models import (
    DEFAULT_MODEL,
    DEFAULT_TRANSCRIPTION_MODEL,
    VOICE_MODEL_IDS,
    KNOWN_TRANSCRIPTION_MODELS,
    is_valid_model_id,
)
from desktop_app.realtime.session_config import (
    EAGERNESS, FORMAT_TYPES, NOISE_REDUCTION, REASONING_EFFORTS, TRANSCRIPTION_DELAYS, VOICES,
)
from desktop_app.realtime.transcription import LANGUAGE_CODE, MAX_KEYWORD_LENGTH, MAX_KEYWORDS
from desktop_app.settings.profiles import DEFAULT_PROFILES, Profile, profile_from_dict
from desktop_app.settings.tools import (
    McpServerConfig,
    check_mcp_servers,
    check_tool_choice,
    mcp_server_item,
    tool_name_item,
    tool_permission_item,
)

#: The layout version this code writes. Bump it together with a new step in ``migrations.py``.
SCHEMA_VERSION = 3

OFF = "off"
#: Input transcription as the picker lists it: off, then the known ASR models (any other id is accepted too).
TRANSCRIPTION_CHOICES: tuple[str, ...] = (OFF, *KNOWN_TRANSCRIPTION_MODELS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """One setting's declaration. ``validate`` normalises a Python value or raises ``ValueError``."""

    name: str = ""  # filled in from the Settings field name
    key: str
    type: type
    default: Any
    description: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False  # None is allowed and means "off"
    item: Callable[[Any], Any] | None = None  # tuples: builds/validates one element
    check: Callable[[Any], None] | None = None  # extra rule on the whole value
    user_editable: bool = True

    def validate(self, value: Any) -> Any:
        """``value`` if it is valid for this setting (tuples normalised), else ``ValueError``."""
        if value is None and self.nullable:
            return None
        if self.type is float and type(value) is int:
            value = float(value)
        if self.type is tuple and isinstance(value, list):
            value = tuple(value)
        if type(value) is not self.type:
            raise ValueError(f"expected {self.type.__name__}, got {type(value).__name__} {_short(value)}")
        if self.type is tuple and self.item is not None and isinstance(value, tuple):
            value = tuple(self.item(element) for element in value)
        if self.choices and value not in self.choices:
            raise ValueError(f"{_short(value)} is not one of {', '.join(map(str, self.choices))}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{value} is below the minimum {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{value} is above the maximum {self.maximum:g}")
        if self.check is not None:
            self.check(value)
        return value

    def encode(self, value: Any) -> str:
        """The text stored in the INI file for a valid ``value``."""
        if value is None:
            return OFF
        if self.type is bool:
            return "true" if value else "false"
        if self.type is bytes:
            return base64.b64encode(value).decode("ascii")
        if self.type is tuple:
            plain = [v.to_dict() if isinstance(v, (Profile, McpServerConfig)) else v for v in value]
            return json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
        return value if self.type is str else repr(value)

    def decode(self, raw: Any) -> Any:
        """The valid value stored as ``raw`` (what QSettings returned), else ``ValueError``."""
        if isinstance(raw, list) and self.type is not tuple:
            raw = ", ".join(map(str, raw))  # an unquoted comma in a hand-edited INI value
        if not isinstance(raw, str):
            raise ValueError(f"unreadable stored value {_short(raw)}")
        text = raw.strip() if self.type is not str else raw
        if self.nullable and text == OFF:
            return None
        if self.type is bool:
            if text.lower() not in ("true", "false"):
                raise ValueError(f"{_short(raw)} is not true or false")
            value: Any = text.lower() == "true"
        elif self.type is int:
            value = int(text)
        elif self.type is float:
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{_short(raw)} is not a finite number")
        elif self.type is bytes:
            try:
                value = base64.b64decode(text, validate=True)
            except binascii.Error:
                raise ValueError(f"{_short(raw)} is not base64") from None
        elif self.type is tuple:
            value = json.loads(text)
            if not isinstance(value, list):
                raise ValueError(f"{_short(raw)} is not a JSON list")
        else:
            value = text
        return self.validate(value)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _str_item(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string item, got {_short(value)}")
    return value


def _profile_item(value: Any) -> Profile:
    return value if isinstance(value, Profile) else profile_from_dict(value)


def _check_profiles(profiles: tuple[Profile, ...]) -> None:
    if not profiles:
        raise ValueError("at least one profile is needed")
    names = [p.name for p in profiles]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"profile names must be unique (repeated: {', '.join(duplicates)})")


def _check_model(model: str) -> None:
    # Open ids (the SDK types model as "any string or one of these"): shape only; the server decides.
    if not is_valid_model_id(model):
        raise ValueError(f"{_short(model)} is not a model id (letters, digits and . _ : / -)")


def _check_transcription_model(model: str) -> None:
    if model != OFF and not is_valid_model_id(model):
        raise ValueError(f"{_short(model)} is neither off nor a model id")


def _language_item(value: Any) -> str:
    if not isinstance(value, str) or not LANGUAGE_CODE.fullmatch(value):
        raise ValueError(f"{_short(value)} is not an ISO-639-1 language code such as 'en'")
    return value


def _keyword_item(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEYWORD_LENGTH:
        raise ValueError(f"{_short(value)} is not a keyword of 1–{MAX_KEYWORD_LENGTH} characters")
    return value


def _check_max_items(limit: int) -> Callable[[tuple], None]:
    def check(items: tuple) -> None:
        if len(items) > limit:
            raise ValueError(f"has {len(items)} entries, the limit is {limit}")

    return check


def _check_nonempty(text: str) -> None:
    if not text.strip():
        raise ValueError("must not be empty")


def _check_max_length(limit: int) -> Callable[[str], None]:
    def check(text: str) -> None:
        if len(text) > limit:
            raise ValueError(f"is {len(text)} characters long, the limit is {limit}")

    return check


def setting(**spec: Any) -> Any:
    """A :class:`Settings` field carrying its :class:`Setting` declaration."""
    decl = Setting(**spec)
    return field(default=decl.default, metadata={"setting": decl})


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """A validated snapshot of every setting. Get one from the store; change it with ``update()``."""

    schema_version: int = setting(
        key="schema_version", type=int, default=SCHEMA_VERSION, minimum=1, maximum=SCHEMA_VERSION,
        user_editable=False, description="Layout version of the settings file (see migrations.py).")
    # Session (what goes into session.update).
    model: str = setting(
        key="session/model", type=str, default=DEFAULT_MODEL, check=_check_model,
        description="Realtime model: a known one or any model id (an unknown one is priced 'unknown').")
    voice: str = setting(
        key="session/voice", type=str, default="marin", choices=VOICES,
        description="Assistant voice; fixed once the assistant has spoken in a session.")
    instructions: str = setting(
        key="session/instructions", type=str, check=_check_max_length(20_000),
        default="You are a helpful, friendly voice assistant. Keep answers short and conversational.",
        description="System instructions sent with the session; empty clears them.")
    output_modalities: tuple = setting(
        key="session/output_modalities", type=tuple, default=("audio",), item=_str_item,
        choices=(("audio",), ("text",)),
        description="Answer with audio (which includes a transcript) or with text only.")
    input_transcription_model: str = setting(
        key="session/input_transcription_model", type=str, default=DEFAULT_TRANSCRIPTION_MODEL,
        check=_check_transcription_model,
        description="Model that transcribes what you say (any model id), or off. Absent from the file "
                    "until the user picks one, so a new default reaches those who never chose.")
    transcription_languages: tuple = setting(
        key="session/transcription_languages", type=tuple, default=(), item=_language_item,
        check=_check_max_items(20),
        description="Languages you speak, as ISO-639-1 codes (gpt-transcribe / gpt-live-transcribe take "
                    "several; other models the first, when it is the only one).")
    transcription_keywords: tuple = setting(
        key="session/transcription_keywords", type=tuple, default=(), item=_keyword_item,
        check=_check_max_items(MAX_KEYWORDS),
        description="Words and names the transcription should expect (gpt-transcribe / gpt-live-transcribe).")
    transcription_delay: str | None = setting(
        key="session/transcription_delay", type=str, default=None, nullable=True, choices=TRANSCRIPTION_DELAYS,
        description="gpt-realtime-whisper: how long it waits before writing (more is more accurate), or "
                    "off for the model's default.")
    reasoning_effort: str | None = setting(
        key="session/reasoning_effort", type=str, default=None, nullable=True, choices=REASONING_EFFORTS,
        description="How hard a reasoning model (gpt-realtime-2 class) thinks before answering, or off for "
                    "the model's default.")
    noise_reduction: str | None = setting(
        key="session/noise_reduction", type=str, default=None, nullable=True, choices=NOISE_REDUCTION,
        description="Server-side noise reduction of your microphone: near_field (headset), far_field "
                    "(laptop or room microphone), or off.")
    speed: float = setting(
        key="session/speed", type=float, default=1.0, minimum=0.25, maximum=1.5,
        description="How fast the assistant speaks (0.25–1.5); a change applies from the next answer.")
    input_audio_format: str = setting(
        key="session/input_audio_format", type=str, default="audio/pcm",
        choices=FORMAT_TYPES,
        description="Microphone audio encoding on the wire (PCM 24 kHz, or G.711 µ-law/A-law).")
    # Turns and voice activity detection (audio.input.turn_detection).
    turn_mode: str = setting(
        key="input/turn_mode", type=str, default="hands_free", choices=("hands_free", "push_to_talk"),
        description="Talk freely (the server detects turns) or hold a key while speaking.")
    ptt_key: str = setting(
        key="input/ptt_key", type=str, default="Space", check=_check_nonempty,
        description="Push-to-talk key, as a Qt key sequence name.")
    vad_type: str = setting(
        key="turn_detection/type", type=str, default="server_vad",
        choices=("server_vad", "semantic_vad", OFF),
        description="How the server detects the end of your turn; off means you commit turns yourself.")
    vad_threshold: float = setting(
        key="turn_detection/threshold", type=float, default=0.5, minimum=0.0, maximum=1.0,
        description="server_vad: speech probability needed to start a turn (higher in noisy rooms).")
    vad_prefix_padding_ms: int = setting(
        key="turn_detection/prefix_padding_ms", type=int, default=300, minimum=0, maximum=1000,
        description="server_vad: audio kept from before speech was detected.")
    vad_silence_duration_ms: int = setting(
        key="turn_detection/silence_duration_ms", type=int, default=500, minimum=100, maximum=2000,
        description="server_vad: silence that ends your turn.")
    vad_idle_timeout_ms: int | None = setting(
        key="turn_detection/idle_timeout_ms", type=int, default=None, nullable=True,
        minimum=5000, maximum=30000,
        description="server_vad: prompt a reply after this much silence following an answer, or off.")
    vad_eagerness: str = setting(
        key="turn_detection/eagerness", type=str, default="auto",
        choices=EAGERNESS,
        description="semantic_vad: how quickly the model takes its turn (low waits up to 8 s).")
    vad_create_response: bool = setting(
        key="turn_detection/create_response", type=bool, default=True,
        description="Answer automatically when your turn ends.")
    vad_interrupt_response: bool = setting(
        key="turn_detection/interrupt_response", type=bool, default=True,
        description="Speaking over the assistant interrupts it.")
    # Audio devices, by stable name ('' = the system default).
    input_device: str = setting(
        key="audio/input_device", type=str, default="",
        description="Microphone by device name; empty follows the system default.")
    output_device: str = setting(
        key="audio/output_device", type=str, default="",
        description="Speaker by device name; empty follows the system default.")
    audio_mode: str = setting(
        key="audio/mode", type=str, default="speakers", choices=("speakers", "headset", "ducking"),
        description="speakers: echo cancellation on; headset: off; ducking: the microphone is gated while the "
                    "assistant speaks unless you talk clearly over it (when echo cancellation cannot run).")
    # Window and connection.
    window_geometry: bytes = setting(
        key="window/geometry", type=bytes, default=b"",
        description="Main window geometry as saved by Qt (restoreGeometry).")
    hotkey_talk: str = setting(key="desktop/hotkey_talk", type=str, default="",
                               description="Global push-to-talk key (held, any window focused), or empty for none.")
    hotkey_mute: str = setting(key="desktop/hotkey_mute", type=str, default="",
                               description="Global key that mutes or unmutes the microphone, or empty for none.")
    close_to_tray: bool = setting(key="desktop/close_to_tray", type=bool, default=True,
                                  description="Closing the window keeps Parley in the tray (Quit ends it).")
    close_to_tray_told: bool = setting(key="desktop/close_to_tray_told", type=bool, default=False,
                                       description="The first-time tray notice was shown (the app sets it).")
    mini_geometry: bytes = setting(key="desktop/mini_geometry", type=bytes, default=b"", description="Its place.")
    voicepack_url: str = setting(key="desktop/voicepack_url", type=str, default="",
                                 description="Where the offline voice pack's manifest is (empty: the release's).")
    profiles: tuple = setting(
        key="connection/profiles", type=tuple, default=DEFAULT_PROFILES, item=_profile_item,
        check=_check_profiles, description="Endpoint profiles (no keys: those live in the keyring).")
    active_profile: str = setting(
        key="connection/active_profile", type=str, default=DEFAULT_PROFILES[0].name,
        check=_check_nonempty, description="Name of the profile used to connect.")
    # Tools (desktop_app/tools; item rules in settings/tools.py). New keys with defaults: no migration.
    tools_disabled: tuple = setting(
        key="tools/disabled", type=tuple, default=(), item=tool_name_item,
        description="Built-in and user tools switched off in the Tools tab.")
    tool_permissions: tuple = setting(
        key="tools/permissions", type=tuple, default=(), item=tool_permission_item,
        description="Per-tool permission overrides as [name, allow|ask|deny]; others keep their default.")
    tool_choice: str = setting(
        key="tools/tool_choice", type=str, default="auto", check=check_tool_choice,
        description="auto, none, required, or the name of a tool the model must call.")
    mcp_servers: tuple = setting(
        key="tools/mcp_servers", type=tuple, default=(), item=mcp_server_item, check=check_mcp_servers,
        description="Remote MCP servers the model may use (tokens live in the keyring).")

    # Spending, history and the event log (issue #19). Limits are dollars; off means no limit.
    spend_limit_session_usd: float | None = setting(
        key="spend/session_limit_usd", type=float, default=5.0, nullable=True, minimum=0.01, maximum=10_000.0,
        description="Stop the microphone and ask before one conversation spends more than this (US dollars), "
                    "or off. A warning shows at 80 %.")
    spend_limit_day_usd: float | None = setting(
        key="spend/day_limit_usd", type=float, default=20.0, nullable=True, minimum=0.01, maximum=100_000.0,
        description="Stop the microphone and ask before today's conversations spend more than this "
                    "(US dollars), or off.")
    history_enabled: bool = setting(
        key="history/save_conversations", type=bool, default=True,
        description="Keep every conversation (transcripts, timings, usage) on this computer.")
    history_record_audio: bool = setting(
        key="history/record_audio", type=bool, default=False,
        description="Also keep the conversation's audio in the history (off: text only).")
    history_audio_cap_mb: int = setting(
        key="history/audio_cap_mb", type=int, default=500, minimum=10, maximum=100_000,
        description="Recording stops when the history's audio reaches this size (MB).")
    event_log_capacity: int = setting(
        key="event_log/memory_events", type=int, default=5000, minimum=500, maximum=100_000,
        description="How many of the newest events the event log keeps in memory (the rest is on disk).")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            decl: Setting = f.metadata["setting"]
            try:
                object.__setattr__(self, f.name, decl.validate(getattr(self, f.name)))
            except ValueError as exc:
                raise ValueError(f"{f.name}: {exc}") from None
        if self.active_profile not in {p.name for p in self.profiles}:
            raise ValueError(f"active_profile: no profile is named {self.active_profile!r}")

    def profile(self, name: str | None = None) -> Profile:
        """The profile called ``name`` (default: the active one)."""
        wanted = self.active_profile if name is None else name
        for candidate in self.profiles:
            if candidate.name == wanted:
                return candidate
        raise KeyError(wanted)


def _declarations() -> tuple[Setting, ...]:
    found = []
    for f in dataclasses.fields(Settings):
        decl = dataclasses.replace(f.metadata["setting"], name=f.name)
        found.append(decl)
    return tuple(found)


#: Every setting in declaration order.
SCHEMA: tuple[Setting, ...] = _declarations()
BY_NAME: dict[str, Setting] = {s.name: s for s in SCHEMA}
BY_KEY: dict[str, Setting] = {s.key: s for s in SCHEMA}
MODEL_CHOICES: tuple[str, ...] = VOICE_MODEL_IDS  # Realtime, then GPT-Live
