"""What the controller needs of the audio side, as a structural protocol.

The GUI satisfies it with the device engine (microphone and speaker), the headless mode with a
WAV file as the microphone and a clocked sink that "plays" into a WAV. Both account played audio the
same way (``desktop_app.audio.playback_queue``), so truncation behaves identically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class AudioPort(Protocol):
    """Microphone frames in, assistant audio out, with played-position accounting."""

    def start(self, on_mic_frame: Callable[[bytes], None]) -> None:
        """Start streaming; ``on_mic_frame`` gets 20 ms of PCM16 24 kHz mono, on the event loop."""

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

    @property
    def is_playing(self) -> bool:
        """True while assistant audio is queued or sounding."""

    @property
    def mic_level_dbfs(self) -> float: ...

    @property
    def output_level_dbfs(self) -> float: ...
