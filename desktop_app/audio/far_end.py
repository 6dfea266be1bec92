"""The far-end reference timeline for echo cancellation: what the speaker was handed, with the time
each block reached the DAC (written from the output callback), laid out on a 24 kHz timeline of
absolute monotonic time so :class:`~.aec.EchoCanceller` can pair every microphone frame with the
reference that was playing when it was captured.
"""

from __future__ import annotations

import math
import time

import numpy as np

from desktop_app.audio.codecs import PCM_RATE
from desktop_app.audio.resample import StreamResampler

# A far-end block more than this off the time its run predicts starts a new run (the speaker paused,
# underran or changed device); smaller differences are timestamp jitter.
_RUN_BREAK_S = 0.015
_MAX_STAMPS = 512


class FarEnd:
    """The far-end reference: what the speaker was handed, on a 24 kHz timeline of absolute time.

    :meth:`write` runs in the output callback: it copies the block into a preallocated ring and
    records ``(first index, DAC time, length)``; nothing else. :meth:`sync` (loop) moves new blocks
    onto the timeline: resampled to 24 kHz and written at slot ``round((dac_time - origin) · 24000)``.
    Within one run of consecutive blocks the slots follow on sample by sample (the resampler has a
    constant delay — 1 ms from 48 kHz, the microphone path's decimator, so with both devices at
    48 kHz near and far lag alike; with mixed rates they differ by 1 ms, which the canceller's own
    delay estimate absorbs and the guard's 10 ms envelopes do not see — or none); a block whose DAC
    time does not continue the run (the speaker paused and resumed, or another device took over)
    starts a new run at its own time. Slots nobody wrote are silence.
    """

    def __init__(self, seconds: float = 2.0, ring_seconds: float = 1.0) -> None:
        self.origin = time.monotonic()
        self.rate = 0
        self._ring_seconds = ring_seconds
        self._ring = np.zeros(0, np.float32)
        self._w = 0  # device samples written (audio thread)
        self._stamp_start = np.zeros(_MAX_STAMPS, np.int64)
        self._stamp_len = np.zeros(_MAX_STAMPS, np.int64)
        self._stamp_time = np.zeros(_MAX_STAMPS, np.float64)
        self._stamps = 0  # published stamps (audio thread)
        self._read_stamps = 0
        self.lost_blocks = 0  # blocks overwritten before the loop read them
        self.runs = 0  # runs of consecutive blocks (each pause/resume of the speaker starts one)
        self._line = np.zeros(int(seconds * PCM_RATE), np.float32)
        self.end_slot: int | None = None  # one past the newest slot written
        self.last_write = -math.inf  # monotonic time of the newest block read from the ring
        self._resampler: StreamResampler | None = None
        self._run_slot = 0  # slot of the current run's first 24 kHz sample
        self._run_out = 0  # 24 kHz samples written in the current run
        self._run_next_time: float | None = None  # DAC time the next block must have to continue the run

    def set_rate(self, rate: int) -> None:
        """The output device (re)opened at ``rate``: called on the loop before its callback runs."""
        if rate == self.rate:
            return
        self.sync()
        self.rate = int(rate)
        self._ring = np.zeros(int(rate * self._ring_seconds), np.float32)
        self._w = 0
        self._stamps = self._read_stamps = 0
        self._resampler = StreamResampler(self.rate, PCM_RATE, 1, "LD")  # as the microphone's
        self._run_next_time = None

    def slot(self, t: float) -> int:
        return int(round((t - self.origin) * PCM_RATE))

    # --- audio thread ------------------------------------------------------------------------

    def write(self, block: np.ndarray, dac_time: float) -> None:
        """Record one block handed to the device (the output hook). Never blocks or allocates."""
        ring = self._ring
        cap = len(ring)
        n = len(block)
        if cap == 0 or n > cap:
            return
        start = self._w % cap
        first = min(n, cap - start)
        ring[start : start + first] = block[:first]
        if first < n:
            ring[: n - first] = block[first:]
        slot = self._stamps % _MAX_STAMPS
        self._stamp_start[slot] = self._w
        self._stamp_len[slot] = n
        self._stamp_time[slot] = dac_time
        self._w += n
        self._stamps += 1  # publish last: the reader trusts every stamp below this count

    # --- loop ----------------------------------------------------------------------------------

    def sync(self) -> None:
        """Move every block written since the last call onto the 24 kHz timeline."""
        published = self._stamps
        cap = len(self._ring)
        if self._resampler is None or cap == 0:
            self._read_stamps = published
            return
        if published - self._read_stamps > _MAX_STAMPS:
            self.lost_blocks += published - self._read_stamps - _MAX_STAMPS
            self._read_stamps = published - _MAX_STAMPS
        for k in range(self._read_stamps, published):
            slot = k % _MAX_STAMPS
            start, n, dac = int(self._stamp_start[slot]), int(self._stamp_len[slot]), float(self._stamp_time[slot])
            if start < self._w - cap:
                self.lost_blocks += 1
                self._run_next_time = None
                continue
            a = start % cap
            block = np.concatenate((self._ring[a:], self._ring[: n - (cap - a)])) if a + n > cap else self._ring[a : a + n]
            self._add(block, dac, n)
        self._read_stamps = published

    def _add(self, block: np.ndarray, dac: float, n: int) -> None:
        assert self._resampler is not None
        expected = self._run_next_time
        if expected is None or abs(dac - expected) > _RUN_BREAK_S:
            self.runs += 1
            self._put(self._run_slot + self._run_out, self._resampler.flush())  # the old run's tail
            self._resampler.reset()
            self._run_slot, self._run_out = self.slot(dac), 0
        y = self._resampler.process(block)
        self._put(self._run_slot + self._run_out, y)
        self._run_out += len(y)
        self._run_next_time = dac + n / self.rate
        self.last_write = time.monotonic()

    def _put(self, slot: int, y: np.ndarray) -> None:
        n = len(y)
        if n == 0:
            return
        line = self._line
        cap = len(line)
        end = self.end_slot
        if end is not None and slot > end:  # a gap: nothing played there, it must read as silence
            self._fill(end, min(slot - end, cap), 0.0)
        if n > cap:
            y, slot, n = y[-cap:], slot + n - cap, cap
        a = slot % cap
        first = min(n, cap - a)
        line[a : a + first] = y[:first]
        if first < n:
            line[: n - first] = y[first:]
        self.end_slot = slot + n if end is None else max(end, slot + n)

    def _fill(self, slot: int, n: int, value: float) -> None:
        cap = len(self._line)
        a = slot % cap
        first = min(n, cap - a)
        self._line[a : a + first] = value
        if first < n:
            self._line[: n - first] = value

    def read(self, slot: int, out: np.ndarray) -> None:
        """``out`` ← the reference at slots ``[slot, slot + len(out))``; silence where none was written."""
        n = len(out)
        out.fill(0.0)
        end = self.end_slot
        cap = len(self._line)
        if end is None:
            return
        lo, hi = max(slot, end - cap), min(slot + n, end)
        if hi <= lo:
            return
        a = lo % cap
        k = hi - lo
        first = min(k, cap - a)
        out[lo - slot : lo - slot + first] = self._line[a : a + first]
        if first < k:
            out[lo - slot + first : hi - slot] = self._line[: k - first]
