"""Preallocated single-producer/single-consumer sample rings.

The PortAudio callback thread is the producer of :class:`SampleRing` on the capture side and the
event loop the consumer (architecture §1: audio threads only copy into preallocated rings). The
ring is lock-free in the only sense that matters under CPython: each index is written by exactly one
side, the data is copied *before* the writer publishes the new index, and a Python ``int`` store is
atomic under the GIL. The callback never allocates: it copies into the preallocated storage and
bumps an integer.

A full ring drops the *newest* samples (the producer cannot move the consumer's index safely) and
counts the event in ``overflows``/``dropped``; a read asking for more than is stored counts
``underflows``/``missing``. :class:`TimedRing` adds a timestamp per written block, which is what the
echo canceller needs to line up what was played with what the microphone heard.
"""

from __future__ import annotations

import numpy as np


class SampleRing:
    """A fixed-capacity SPSC ring of ``(frames, channels)`` samples, ``float32`` by default.

    ``write`` is called by one thread only, ``read``/``read_into``/``discard`` by one other thread.
    Indices grow without bound (Python ints), so ``available`` is always ``written - read``.
    """

    def __init__(self, capacity: int, channels: int = 1, dtype: np.dtype | type = np.float32) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self._buf = np.zeros((self.capacity, self.channels), dtype=dtype)
        self._w = 0  # written by the producer only
        self._r = 0  # written by the consumer only
        self.overflows = 0  # producer-side events where samples were dropped
        self.dropped = 0  # samples dropped by those events
        self.underflows = 0  # consumer-side reads that found fewer samples than asked
        self.missing = 0  # samples those reads lacked

    @property
    def dtype(self) -> np.dtype:
        return self._buf.dtype

    @property
    def available(self) -> int:
        """Samples stored and not yet read (a consistent snapshot from either side)."""
        return self._w - self._r

    @property
    def free(self) -> int:
        return self.capacity - (self._w - self._r)

    @property
    def total_written(self) -> int:
        return self._w

    @property
    def total_read(self) -> int:
        return self._r

    def write(self, data: np.ndarray) -> int:
        """Copy as much of ``data`` as fits; return the number of frames stored (producer side)."""
        n = len(data)
        free = self.capacity - (self._w - self._r)
        if n > free:
            self.overflows += 1
            self.dropped += n - free
            n = free
        if n <= 0:
            return 0
        start = self._w % self.capacity
        first = min(n, self.capacity - start)
        buf = self._buf
        if data.ndim == 1:
            buf[start : start + first, 0] = data[:first]
            if first < n:
                buf[: n - first, 0] = data[first:n]
        else:
            buf[start : start + first] = data[:first]
            if first < n:
                buf[: n - first] = data[first:n]
        self._w += n  # publish only after the copy
        return n

    def read_into(self, out: np.ndarray) -> int:
        """Fill ``out`` (``(n, channels)`` or 1-D for mono) from the ring; return frames copied.

        When fewer than ``len(out)`` frames are stored, only those are copied (the rest of ``out`` is
        left as it was) and the shortfall is counted as an underflow.
        """
        want = len(out)
        n = min(want, self._w - self._r)
        if n < want:
            self.underflows += 1
            self.missing += want - n
        self._copy_out(out, n)
        return n

    def read(self, n: int | None = None) -> np.ndarray:
        """Return up to ``n`` frames (all stored frames when ``n`` is None) as a new array.

        Meant for the loop side; it allocates. Never counts an underflow: asking for "what is there"
        is not a shortfall.
        """
        avail = self._w - self._r
        n = avail if n is None else min(n, avail)
        out = np.empty((n, self.channels), dtype=self._buf.dtype)
        self._copy_out(out, n)
        return out

    def discard(self, n: int | None = None) -> int:
        """Drop up to ``n`` stored frames (all when None) without copying them; return how many."""
        avail = self._w - self._r
        n = avail if n is None else min(n, avail)
        self._r += n
        return n

    def _copy_out(self, out: np.ndarray, n: int) -> None:
        if n <= 0:
            return
        start = self._r % self.capacity
        first = min(n, self.capacity - start)
        buf = self._buf
        if out.ndim == 1:
            out[:first] = buf[start : start + first, 0]
            if first < n:
                out[first:n] = buf[: n - first, 0]
        else:
            out[:first] = buf[start : start + first]
            if first < n:
                out[first:n] = buf[: n - first]
        self._r += n  # release the space only after the copy


class TimedRing:
    """A mono :class:`SampleRing` whose writes also record ``(first sample index, timestamp)``.

    Used as the output tap: the playback callback writes exactly the samples it handed to the device
    with the time PortAudio says they reach the DAC. ``samples_at(t)`` maps a time back to a sample
    index, so a consumer (the echo canceller) can fetch what was audible at any moment still held.
    Writes never block; when the consumer lags, the oldest samples are overwritten — a tap must never
    stall playback — and ``read_latest`` returns the most recent ones.
    """

    def __init__(self, capacity: int, rate: int, max_blocks: int = 512) -> None:
        self.rate = int(rate)
        self.capacity = int(capacity)
        self._buf = np.zeros(self.capacity, dtype=np.float32)
        self._w = 0
        self._stamp_index = np.zeros(max_blocks, dtype=np.int64)
        self._stamp_time = np.zeros(max_blocks, dtype=np.float64)
        self._stamps = 0

    @property
    def total_written(self) -> int:
        return self._w

    def write(self, block: np.ndarray, timestamp: float) -> None:
        """Append ``block`` (1-D) stamped with the DAC time of its first sample (writer side)."""
        n = len(block)
        if n > self.capacity:
            block = block[-self.capacity :]
            timestamp += (n - self.capacity) / self.rate
            self._w += n - self.capacity
            n = self.capacity
        slot = self._stamps % len(self._stamp_index)
        self._stamp_index[slot] = self._w
        self._stamp_time[slot] = timestamp
        start = self._w % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start : start + first] = block[:first]
        if first < n:
            self._buf[: n - first] = block[first:]
        self._w += n
        self._stamps += 1

    def read_latest(self, n: int) -> tuple[np.ndarray, int]:
        """The newest ``n`` samples (fewer if not yet written) and the index of the first one."""
        end = self._w
        n = min(n, end, self.capacity)
        first_index = end - n
        start = first_index % self.capacity
        first = min(n, self.capacity - start)
        out = np.empty(n, dtype=np.float32)
        out[:first] = self._buf[start : start + first]
        if first < n:
            out[first:] = self._buf[: n - first]
        return out, first_index

    def sample_at(self, timestamp: float) -> int | None:
        """The sample index that reached the DAC at ``timestamp``, from the newest stamp before it."""
        count = min(self._stamps, len(self._stamp_index))
        best: int | None = None
        for k in range(count):
            slot = (self._stamps - 1 - k) % len(self._stamp_index)
            if self._stamp_time[slot] <= timestamp:
                best = int(self._stamp_index[slot] + round((timestamp - self._stamp_time[slot]) * self.rate))
                break
        return best
