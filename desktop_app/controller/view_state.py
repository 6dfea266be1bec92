"""The one immutable snapshot the UI renders. Attributes flow down; intents flow up as method calls.

The controller replaces the snapshot (``dataclasses.replace``) on every change and publishes it; a
widget never holds on to a piece of controller state, so what is drawn is always one consistent moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop_app.controller.states import Conn, Mic, Turn
from desktop_app.realtime.dialect import REALTIME_TRAITS, DialectTraits


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """One line of the conversation as shown: a user or assistant message, or a tool call.

    ``final`` is False while words are still arriving (interim). For a truncated assistant answer,
    ``heard`` is the part the user actually heard and ``text`` the whole generated transcript.
    """

    item_id: str
    role: str  # "user" | "assistant" | "tool"
    text: str = ""
    final: bool = False
    truncated: bool = False
    heard: str | None = None
    tool_name: str | None = None
    tool_status: str | None = None  # "running" | "approval" | "done" | "error" | "cancelled" | "denied"
    echo: bool = False  # flagged as the assistant's own words picked up by the mic


@dataclass(frozen=True, slots=True)
class ToolRun:
    """A tool call waiting for the user's permission or running; ``started_at`` is ``time.monotonic()``."""

    call_id: str
    label: str
    phase: str  # "approval" | "running"
    started_at: float


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for the banner: one sentence, what kind, the action offered with it, and its cause.

    ``cause`` names what the notice reports (``"connection"``, ``"push_to_talk"``, ``"audio"``,
    ``"settings"``, ``"internal"``…); the part that sees the cause go away clears the notice, and the
    window also clears it when it sees the cause gone (``ui.notices``); None lets the window read the
    cause from level and action. ``lifetime_s`` overrides how long it stays (None: the level's
    default, 0: until its cause is gone or it is dismissed).
    """

    sentence: str
    level: str = "error"  # "error" | "warning" | "info"
    action: str | None = None  # "retry" | "settings" | "demo" | "audio" | None
    cause: str | None = None
    lifetime_s: float | None = None


@dataclass(frozen=True, slots=True)
class VadView:
    """Turn-detection values as the sliders show them."""

    type: str = "server_vad"  # "server_vad" | "semantic_vad" | "off"
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    idle_timeout_ms: int | None = None
    eagerness: str = "auto"
    create_response: bool = True
    interrupt_response: bool = True


@dataclass(frozen=True, slots=True)
class ViewState:
    """Everything the window shows, at one moment."""

    connection: Conn = Conn.DISCONNECTED
    connection_detail: str = ""
    reconnect_attempt: int = 0
    reconnect_limit: int = 5
    endpoint_label: str = ""
    turn: Turn = Turn.IDLE
    mic: Mic = Mic.HANDS_FREE
    user_speaking: bool = False
    assistant_speaking: bool = False
    transcript: tuple[TranscriptEntry, ...] = ()
    notice: Notice | None = None
    model: str = ""
    voice: str = ""
    voice_locked: bool = False
    instructions: str = ""
    vad: VadView = field(default_factory=VadView)
    session_expires_at: float | None = None
    total_tokens: int = 0
    usage_seconds: float = 0.0  # billed session seconds (a dialect billed per second: GPT-Live)
    traits: DialectTraits = REALTIME_TRAITS  # what the conversation's protocol can do (the UI says what differs)
    cost_usd: float | None = 0.0  # None: the model's price is unknown
    tools: tuple[ToolRun, ...] = ()  # calls awaiting permission or running, for "running a tool · 3 s"
