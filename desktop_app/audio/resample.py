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

``"LD"`` (low delay) is for the microphone path, where every millisecond held back delays the
user's words and the echo guard's verdict: for an integer decimation (48 → 24 kHz, the usual
device rate) it is :class:`FirDecimator`, a windowed-sinc FIR with a constant 1 ms delay that
returns exactly ``n / factor`` samples for every ``n`` fed — so 20 ms blocks stay whole 10 and
20 ms frames downstream and nothing waits in a FIFO — where soxr "LQ" holds back 1–20 ms (11 ms
on average with 20 ms blocks, and a FIFO re-chunking its uneven output holds up to 19 ms more).
Other ratios fall back to soxr "LQ". Not time-aligned: it lags by its 1 ms look-ahead, which is
harmless where both streams being compared (microphone and echo reference) go through it, and
about 1 ms off where only one does (a 48 kHz microphone beside a 44.1 kHz speaker).
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
        self.passthrough = self.in_rate == self.out_rate
        fir = quality == "LD" and self.channels == 1 and self.in_rate % self.out_rate == 0
        self.quality = "LQ" if quality == "LD" and not fir else quality
        self._stream: soxr.ResampleStream | FirDecimator | None = None
        if fir and not self.passthrough:
            self._stream = FirDecimator(self.in_rate // self.out_rate)
        elif not self.passthrough:
            self._stream = self._new_stream()

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


class FirDecimator:
    """Mono decimation by an integer ``factor``, delayed by its look-ahead (1 ms at 48 kHz).

    A Kaiser-windowed sinc (β 8: ≥ 70 dB stopband) of ``2·half·factor + 1`` taps, cut off at 90 % of
    the output Nyquist frequency. The stream is preceded by ``half·factor`` samples of silence, so
    output sample *j* is centred on input sample *factor·j − half·factor* and can be emitted the
    moment input sample *factor·j* arrives: ``n`` samples in give ``n / factor`` out, from the first
    call. Same interface as ``soxr.ResampleStream``: ``resample_chunk(x, last=False)`` (``last``
    drains the look-ahead) and ``clear()``.
    """

    def __init__(self, factor: int, half: int = 24, beta: float = 8.0) -> None:
        self.factor = int(factor)
        self.reach = half * self.factor  # input samples each side of an output's centre
        n = 2 * self.reach + 1
        t = np.arange(n) - self.reach
        fc = 0.45 / self.factor  # cycles per input sample
        h = 2 * fc * np.sinc(2 * fc * t) * np.kaiser(n, beta)
        self.taps = (h / h.sum()).astype(np.float32)
        self.clear()

    def clear(self) -> None:
        # indices count from the silence prepended to the stream (reach samples), itself preceded by
        # the zeros the first output's window reaches back over
        self._buf = np.zeros(2 * self.reach, np.float32)
        self._base = -self.reach  # stream index of _buf[0]
        self._next = 0  # the next output's index
        self._fed = self.reach

    def resample_chunk(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if last and self._fed == self.reach and not len(x):
            return np.zeros(0, np.float32)  # nothing was fed: nothing to drain
        self._fed += len(x)
        buf = np.concatenate((self._buf, x)) if len(x) else self._buf
        if last:  # pad with silence so every input sample's output comes out
            buf = np.concatenate((buf, np.zeros(self.reach, np.float32)))
        m, r = self.factor, self.reach
        end = self._base + len(buf)  # one past the newest input index
        limit = -(-self._fed // m) if last else (end - 1 - r) // m + 1  # outputs computable now
        count = max(0, limit - self._next)
        if count == 0:
            self._buf = buf if not last else self._buf
            return np.zeros(0, np.float32)
        start = m * self._next - r - self._base
        segment = buf[start : start + m * (count - 1) + 2 * r + 1]
        y = np.convolve(segment, self.taps, "valid")[::m]
        self._next += count
        keep = m * self._next - r - self._base  # what the next output needs, onwards
        self._buf, self._base = buf[keep:].copy(), self._base + keep
        if last:
            self.clear()
        return y.astype(np.float32, copy=False)


def downmix(block: np.ndarray) -> np.ndarray:
    """Mono from ``(n, channels)`` by averaging (no clipping possible); 1-D input is returned as is."""
    if block.ndim == 1:
        return block
    channels = block.shape[1]
    mono: np.ndarray
    if channels == 1:
        mono = block[:, 0]
    elif channels == 2:  # the common case, without mean()'s per-call overhead (~50 µs on tiny blocks)
        mono = (block[:, 0] + block[:, 1]) * np.float32(0.5)
    else:
        mono = block.mean(axis=1, dtype=np.float32)
    return mono


class FrameFifo:
    """A preallocated mono FIFO that hands out fixed-size frames from variable-size pushes.

    ``push`` copies in (growing only if a burst exceeds the capacity, which the sizes used here never
    do after the first second); ``pop_into`` copies exactly ``len(out)`` samples out when enough are
    stored. No per-call allocation.
    """

    def __init__(self, frame_size: int, capacity: int | None = None, dtype: type = np.float32) -> None:
        self.frame_size = int(frame_size)
        self._buf: np.ndarray = np.zeros(capacity or self.frame_size * 16, dtype=dtype)
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
