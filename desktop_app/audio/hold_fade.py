"""The gain of held playback: a raised-cosine walked down on a hold and back up on release.

:class:`~desktop_app.audio.playback_queue.PlaybackQueue` pauses the assistant on the first sign of
the user (a tentative barge-in) and resumes when it was not speech. The gain walks one table
``gain[i] = ½ + ½·cos(π·i/n)`` (``gain[0] = 1`` full, ``gain[n] = 0`` silent) from wherever it is,
so blocks of any size work, and a release in the middle of the fade-out turns back from the gain
reached instead of jumping to full (a click). The table is made when the output rate is set: the
audio callback never allocates.

A hold is only ever ended by someone else (the echo guard's release, a flush). If that never comes —
the microphone was muted or failed, the echo mode changed mid-hold — ``max_hold_ms`` of silence ends
it here, so the assistant can never stay paused.
"""

from __future__ import annotations

import numpy as np

FADE_MS = 4  # short, yet no click
MAX_HOLD_MS = 1000  # a tentative pause the guard would have confirmed or released long before


class HoldFade:
    """Gain position along the fade (``pos`` samples into it) and the held-silent frame count."""

    def __init__(self) -> None:
        self.gain = np.ones(1, dtype=np.float32)
        self.pos = 0
        self.silent_frames = 0
        self.limit = 0

    def set_rate(self, rate: int, fade_ms: float = FADE_MS, max_hold_ms: float = MAX_HOLD_MS) -> None:
        silent = self.silent
        n = max(1, int(rate * fade_ms // 1000))
        self.gain = (0.5 + 0.5 * np.cos(np.pi * np.arange(n + 1) / n)).astype(np.float32)
        self.pos = n if silent else 0
        self.limit = max(1, int(rate * max_hold_ms // 1000))

    @property
    def n(self) -> int:
        return len(self.gain) - 1

    @property
    def silent(self) -> bool:
        """The fade-out has run to zero."""
        return self.pos >= self.n

    @property
    def full(self) -> bool:
        return self.pos == 0

    def reset(self) -> None:
        """Full gain, no hold."""
        self.pos = 0
        self.silent_frames = 0

    def down_frames(self, block: int) -> int:
        """How many of a ``block`` of frames the rest of the fade-out covers."""
        return min(block, self.n - self.pos)

    def down(self, out: np.ndarray) -> None:
        """Fade ``out`` (at most :meth:`down_frames` long) further down."""
        k = len(out)
        out *= self.gain[self.pos + 1 : self.pos + 1 + k]
        self.pos += k

    def up(self, out: np.ndarray) -> None:
        """Fade the start of ``out`` back up towards full gain."""
        k = min(len(out), self.pos)
        if k:
            out[:k] *= self.gain[self.pos - k : self.pos][::-1]
            self.pos -= k

    def held_too_long(self, frames: int) -> bool:
        """Count ``frames`` handed silent because of the hold; True once past ``max_hold_ms``."""
        self.silent_frames += frames
        return self.silent_frames >= self.limit
