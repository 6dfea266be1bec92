"""What the controller needs of the audio side, as one declared protocol.

Every capability the controller may use is here — none is discovered with ``getattr`` — and every
implementation and wrapper provides all of it (a test walks the protocol and checks each one, and
mypy checks the signatures):

* :class:`~desktop_app.controller.ports.DevicePort`: the microphone and speaker (the audio engine,
  with its echo canceller and barge-in detector);
* :class:`~desktop_app.controller.ports.FilePort`: a WAV as the microphone, a clocked sink as the
  speaker (headless mode, GUI tests); it has no canceller, so it answers "cannot tell";
* :class:`~desktop_app.ui.audio_guard.GuardedPort`: wraps a port so a device failure leaves a
  conversation without audio instead of without a window; it forwards everything;
* :class:`~desktop_app.ui.audio_guard.NoAudioPort`: a computer without audio.

Both real ports account played audio the same way (``desktop_app.audio.playback_queue``), so
truncation behaves identically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class AudioPort(Protocol):
    """Microphone frames in, assistant audio out, with played-position accounting."""

    def start(self, on_mic_frame: Callable[[bytes], None]) -> list[str]:
        """Start streaming; ``on_mic_frame`` gets 20 ms of PCM16 24 kHz mono, on the event loop.
        Returns notices for the user (a remembered device is gone and the default is used)."""

    def stop(self) -> None:
        """Stop both directions; safe to call twice."""

    def set_gate(self, open_: bool) -> None:
        """Push-to-talk gate. Opening it first delivers the ~250 ms pre-roll."""

    def set_muted(self, muted: bool) -> None:
        """A muted microphone delivers no frames at all."""

    def enqueue(self, item_id: str, pcm16: bytes) -> None:
        """Queue assistant audio (PCM16 24 kHz mono) of one item for playback."""

    def finish(self, item_id: str) -> None:
        """No more audio comes for ``item_id`` (its tail may play without a prebuffer)."""

    def flush(self) -> tuple[str, int] | None:
        """Silence playback now (with a short fade); ``(item_id, played_ms)`` of the item that was
        sounding, or None when nothing was."""

    def unheard(self) -> tuple[str, ...]:
        """Items the last :meth:`flush` dropped before any of their audio played (to truncate at 0)."""

    def drop(self, item_id: str) -> tuple[str, int] | None:
        """Never play ``item_id``: silence it like :meth:`flush` if it is sounding (and say how much
        played), else take it out of the queue, later audio included."""

    def played_ms(self, item_id: str) -> int:
        """Milliseconds of ``item_id`` handed to the output so far."""

    def pause_playback(self, paused: bool) -> None:
        """Pause assistant audio without losing any (a fade, then silence that consumes nothing) or
        resume it where it stopped. Unlike the echo guard's hold it never lapses by itself; a
        :meth:`flush` while paused cuts exactly where it went silent."""

    def near_end_speech(self, window_ms: float = 300.0) -> bool | None:
        """The echo canceller's verdict on the microphone within ``window_ms``: True near-end speech,
        False only echo or noise, None when it cannot tell (no canceller, headset mode, a hold
        awaiting its verdict) — then the server's VAD is trusted."""

    def set_onset_callback(self, callback: Callable[[], None] | None) -> None:
        """Called on the loop when the audio side hears the user start talking over the assistant
        (a local barge-in, ahead of the server's VAD). Ports without a detector never call it."""

    @property
    def is_playing(self) -> bool:
        """True while assistant audio is queued or sounding."""

    @property
    def mic_level_dbfs(self) -> float: ...

    @property
    def output_level_dbfs(self) -> float: ...
