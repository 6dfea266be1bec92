"""Everything a :class:`~desktop_app.local_server.LocalServer` can be told, in one frozen record."""

from __future__ import annotations

from dataclasses import dataclass, field

MIB = 1024 * 1024


@dataclass(frozen=True)
class Options:
    """Server-wide settings shared by every session.

    Pacing: ``pace`` 1.0 sends audio in real time, 4.0 four times faster, 0 as fast as possible;
    ``chunk_ms`` is the audio per ``response.output_audio.delta`` (20–100). Limits answer with the
    service's error shapes: frames above ``max_frame_bytes`` (15 MiB) get ``invalid_request_error``;
    more than ``max_sessions`` at once are refused; more than ``events_per_second`` client events in
    a session get ``rate_limit_exceeded`` (with a burst allowance of two seconds' worth).

    Memory: a session keeps the pcm of its newest conversation items up to ``audio_budget_s`` of
    audio in all (None: all of it; an hour of talk is ~170 MB) and lets older items' audio go; their
    transcripts, durations and word timings stay (see :meth:`.conversation.Conversation.limit_audio`).
    """

    api_key: str | None = None
    allowed_origins: tuple[str, ...] = ()
    session_limit_s: float = 3600.0
    max_sessions: int = 100
    max_frame_bytes: int = 15 * MIB
    events_per_second: float = 1000.0
    pace: float = 1.0
    chunk_ms: int = 50
    text_word_ms: float = 15.0
    ping_interval: float | None = 20.0
    asr: str = "auto"
    tts: str = "auto"
    speech_workers: int = 2
    speech_processes: bool = False  # worker processes instead of threads (parley serve; not when frozen)
    seed: int | None = None
    audio_budget_s: float | None = 900.0  # the newest 15 minutes of audio per session (~43 MB)
    live_barge_ms: int = 250  # GPT-Live: talked over, the assistant stops after this much session time
    live_usage_s: float = 15.0  # GPT-Live: session.usage.updated every this many seconds of session time
    live_no_audio_s: float = 31.0  # GPT-Live: a session that receives no audio this long ends "expired"
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 20 <= self.chunk_ms <= 100:
            raise ValueError("chunk_ms must be between 20 and 100")
        if self.pace < 0:
            raise ValueError("pace must be >= 0 (0 = unpaced)")
        if self.audio_budget_s is not None and self.audio_budget_s < 0:
            raise ValueError("audio_budget_s must be >= 0 (None = keep all audio)")
