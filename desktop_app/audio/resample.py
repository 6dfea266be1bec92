"""Streaming sample-rate conversion (soxr) and fixed-size re-chunking.

``soxr.ResampleStream`` is a proper band-limited resampler, but its output is bursty: fed 10–20 ms
chunks it returns nothing for a call or two and then several chunks' worth at once (measured: 48 kHz
→ 24 kHz in 960-frame chunks gives 0, 830, 0, 830, … frames at "HQ"). Everything downstream wants
fixed sizes — 20 ms frames on the wire, exactly ``frames`` samples per output callback — so
:class:`FrameFifo` re-chunks.

Quality is ``"MQ"`` (16-bit precision) by default: the result is quantised to 16-bit PCM anyway,
and MQ's shorter filter keeps the look-ahead inside the 30 ms mic-to-wire budget. soxr aligns its
output in time (output sample *k* is input time *k / out_rate*), so positions map exactly between
rates — the playback accounting relies on that.
"""

from __future__ import annotations

import numpy as np
import soxr

DEFAULT_QUALITY = "MQ"


class StreamResampler:
    """Converts a float32 stream from ``in_rate`` to ``out_rate``; a pass-through when they match.

    ``process(x)`` takes ``(n,)`` for mono or ``(n, channels)`` and returns what soxr has ready
    (possibly nothing). ``flush()`` drains the filter at the end of a stream; ``reset()`` forgets all
    state (used after a barge-in flush so stale audio never re-emerges).
    """

    def __init__(self, in_rate: int, out_rate: int, channels: int = 1, quality: str = DEFAULT_QUALITY) -> None:
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self.channels = int(channels)
        self.quality = quality
        self.passthrough = self.in_rate == self.out_rate
        self._stream = None if self.passthrough else self._new_stream()

    def _new_stream(self) -> soxr.ResampleStream:
        return soxr.ResampleStream(self.in_rate, self.out_rate, self.channels, dtype="float32", quality=self.quality)

    def process(self, x: np.ndarray) -> np.ndarray:
        if self._stream is None:
            return x
        return self._stream.resample_chunk(np.ascontiguousarray(x, dtype=np.float32))

    def flush(self) -> np.ndarray:
        """Everything still inside the filter (call once, at the end of the stream)."""
        shape = (0,) if self.channels == 1 else (0, self.channels)
        if self._stream is None:
            return np.zeros(shape, dtype=np.float32)
        return self._stream.resample_chunk(np.zeros(shape, dtype=np.float32), last=True)

    def reset(self) -> None:
        if self._stream is not None:
            self._stream.clear()


def downmix(block: np.ndarray) -> np.ndarray:
    """Mono from ``(n, channels)`` by averaging (no clipping possible); 1-D input is returned as is."""
    if block.ndim == 1:
        return block
    channels = block.shape[1]
    if channels == 1:
        return block[:, 0]
    if channels == 2:  # the common case, without mean()'s per-call overhead (~50 µs on tiny blocks)
        return (block[:, 0] + block[:, 1]) * np.float32(0.5)
    return block.mean(axis=1, dtype=np.float32)


class FrameFifo:
    """A preallocated mono FIFO that hands out fixed-size frames from variable-size pushes.

    ``push`` copies in (growing only if a burst exceeds the capacity, which the sizes used here never
    do after the first second); ``pop_into`` copies exactly ``len(out)`` samples out when enough are
    stored. No per-call allocation.
    """

    def __init__(self, frame_size: int, capacity: int | None = None, dtype: type = np.float32) -> None:
        self.frame_size = int(frame_size)
        self._buf = np.zeros(capacity or self.frame_size * 16, dtype=dtype)
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    def push(self, x: np.ndarray) -> None:
        n = len(x)
        if n == 0:
            return
        if self._end + n > len(self._buf):
            stored = self._end - self._start
            if stored + n > len(self._buf):
                bigger = np.zeros(max(2 * len(self._buf), stored + n), dtype=self._buf.dtype)
                bigger[:stored] = self._buf[self._start : self._end]
                self._buf = bigger
            else:
                self._buf[:stored] = self._buf[self._start : self._end]
            self._start, self._end = 0, stored
        self._buf[self._end : self._end + n] = x
        self._end += n

    def pop_into(self, out: np.ndarray) -> bool:
        """Copy the oldest ``len(out)`` samples into ``out``; False (nothing taken) when too few."""
        n = len(out)
        if self._end - self._start < n:
            return False
        out[:] = self._buf[self._start : self._start + n]
        self._start += n
        if self._start == self._end:
            self._start = self._end = 0
        return True

    def pop(self) -> np.ndarray | None:
        """One frame as a new array, or None (loop-side convenience)."""
        out = np.empty(self.frame_size, dtype=self._buf.dtype)
        return out if self.pop_into(out) else None

    def take(self, n: int | None = None) -> np.ndarray:
        """Up to ``n`` samples (all when None) as a new array, whatever the frame size."""
        stored = self._end - self._start
        n = stored if n is None else min(n, stored)
        out = self._buf[self._start : self._start + n].copy()
        self._start += n
        if self._start == self._end:
            self._start = self._end = 0
        return out

    def peek(self) -> np.ndarray:
        """A view of what is stored (valid until the next push/pop)."""
        return self._buf[self._start : self._end]

    def clear(self) -> None:
        self._start = self._end = 0
