"""The assistant's audio on its way to the speaker, with per-item played/received accounting.

:class:`PlaybackQueue` is device-independent: the output device callback (:mod:`.playback`) and the
headless clocked sink (:mod:`.clocked_sink`) both call :meth:`PlaybackQueue.pull`, so what counts as
"played" is the same in both — the samples handed to the device, never a wall-clock guess. That is
the number truncation uses (``conversation.item.truncate`` with ``min(played_ms, received_ms)``).

Threads: the loop calls ``enqueue``/``finish``/``flush``/``report``, the echo guard (the capture
thread or the loop) ``hold``/``release``; the audio thread calls ``pull``.
They share one lock held for a few microseconds (list pops and one array copy). The loop side does
the allocating work (bytes → float32); the callback copies into preallocated buffers.

Why not a fixed ring: the server streams audio faster than real time (minutes ahead of the speaker
at times); a ring would drop it. Segments are kept as they came (:mod:`.playback_items`).

Positions. Every sample pulled at 24 kHz (audio or silence) has a position; a small ledger maps
position spans to items. When the device runs at another rate the queue resamples inside ``pull``
(soxr output is time-aligned, so device frame *j* is 24 kHz position *j·24000/rate* exactly) and
credits an item only with the positions the device has actually been handed — samples still inside
the resampler or its FIFO are not "played" yet.
"""

from __future__ import annotations

import collections
import math
import threading
from collections.abc import Callable

import numpy as np

from desktop_app.audio.codecs import PCM_RATE, pcm16_to_float
from desktop_app.audio.hold_fade import MAX_HOLD_MS, HoldFade
from desktop_app.audio.levels import FLOOR_DBFS, dbfs
from desktop_app.audio.playback_items import (
    ItemCounts, PlaybackReport, PlayedLedger, Segments, first_samples, queued_between, without_flushed,
)
from desktop_app.audio.resample import FrameFifo, StreamResampler

__all__ = ["PlaybackQueue", "PlaybackReport"]

_MAX_ITEMS = 256


class PlaybackQueue:
    """Decoded 24 kHz assistant audio → fixed-size device blocks, with prebuffer, fade and counts.

    * Playback (re)starts only after silence, once ``prebuffer_ms`` is queued, or the queued item is
      complete (:meth:`finish`), or the first sample has waited ``prebuffer_ms`` anyway.
    * Running dry before an item is finished counts one underrun and re-arms the prebuffer.
    * :meth:`flush` (barge-in) fades the next ``fade_ms`` to zero inside the very next ``pull`` and
      returns the interrupted item's report, exact to the sample once that pull has run.
    * :meth:`hold` pauses (the user may be starting to talk): the next ``pull`` fades out over
      4 ms and hands silence from then on without consuming anything, so nothing is
      lost; :meth:`release` resumes with a fade-in from where it stopped, and a :meth:`flush` while
      paused cuts exactly where playback went silent. A hold nobody releases ends by itself after
      ``max_hold_ms`` of silence (counted in :attr:`hold_timeouts`).
    """

    def __init__(
        self, rate: int = PCM_RATE, prebuffer_ms: float = 60.0, output_rate: int | None = None, chunk_ms: float = 10.0,
        max_hold_ms: float = MAX_HOLD_MS,
    ) -> None:
        self.rate = int(rate)
        self.prebuffer = int(prebuffer_ms * self.rate / 1000)
        self._chunk = int(chunk_ms * self.rate / 1000)
        self._lock = threading.Lock()
        self._items: collections.OrderedDict[str, ItemCounts] = collections.OrderedDict()
        self._segments: Segments = collections.deque()  # [item, samples, offset]
        self._queued = 0
        self._ledger = PlayedLedger()  # pulled positions → items, until the device has them
        self._pulled_pos = 0
        self._played_pos = 0
        self._started = False
        self._waited = 0
        self._last_item: ItemCounts | None = None
        self.underruns = 0
        self._fade_ramp = np.zeros(0, dtype=np.float32)
        self._fade_done = 0
        self._cut_pos = -1
        self._cut_report: PlaybackReport | None = None  # what the flush being faded out reported
        self.unheard: tuple[str, ...] = ()  # items the last flush dropped before any of them played
        self._hold = False  # asked for (any thread)
        self._suspended = False  # a pause that never lapses (suspend); holds fall back to it
        self._paused = False  # the fade-out has run: silence is being handed, nothing consumed
        self._gain = HoldFade()
        self._max_hold_ms = float(max_hold_ms)
        self.holds = 0  # pauses that silenced playing audio (tests, bench)
        self.hold_timeouts = 0  # holds that ended by themselves: nobody released them
        self.held_waiting = 0  # holds that kept queued audio from starting (tests, bench)
        self._level = FLOOR_DBFS
        self._out = np.zeros(4096, dtype=np.float32)
        self.on_wake: Callable[[], None] | None = None  # called (loop thread) when audio arrives while idle
        self._scratch = np.zeros(self._chunk, dtype=np.float32)
        self.output_rate = 0  # set_output_rate builds the pipeline for the first rate
        self.set_output_rate(output_rate or self.rate)

    # --- loop side -----------------------------------------------------------------------------

    def enqueue(self, item_id: str, pcm16_24k: bytes) -> None:
        """Queue one decoded delta of ``item_id``. Audio for a flushed item is counted, not played."""
        if len(pcm16_24k) % 2:
            raise ValueError("pcm16 audio has an odd number of bytes")
        samples = pcm16_to_float(pcm16_24k)
        wake = self.on_wake is not None and not self.is_playing
        with self._lock:
            item = self._item(item_id)
            item.received += len(samples)
            if item.flushed or not len(samples):
                return
            previous = self._segments[-1][0] if self._segments else self._last_item
            if previous is not None and previous is not item:
                previous.finished = True  # a new item means the previous one is complete
            self._segments.append([item, samples, 0])
            self._queued += len(samples)
        if wake and self.on_wake is not None:
            self.on_wake()

    def finish(self, item_id: str) -> None:
        """No more audio will come for ``item_id``: its tail may play without prebuffer, and running
        out at its end is not an underrun."""
        with self._lock:
            self._item(item_id).finished = True

    def flush(self, fade_ms: float = 8.0) -> PlaybackReport | None:
        """Barge-in: fade out within the next pull, drop everything queued, report the interrupted
        item (its ``played_ms`` includes the fade, which the next pull hands to the device).

        Returns None when nothing was playing or waiting to play.
        """
        with self._lock:
            item, audible = self._head()
            if item is None:
                return None
            # items queued behind the interrupted one that never sounded: truncated at 0 by the caller
            self.unheard = tuple(dict.fromkeys(
                seg[0].item_id for seg in self._segments if seg[0] is not item and seg[0].played == 0))
            for queued_item, _, _ in self._segments:
                queued_item.flushed = True
            item.flushed = True
            paused, self._hold, self._paused = self._paused, self._suspended, False  # the hold ends with its audio
            if not audible:
                self._drop_queue(0)
                self._gain.reset()
                return item.report(self.rate)
            if self._fade_done < len(self._fade_ramp) and self._cut_report is not None:
                return self._cut_report  # already fading: the earlier cut stands, and so does its report
            # Paused: already silent, so the cut is where the pause's fade-out ended.
            fade = 0 if paused else max(1, int(round(fade_ms * self.rate / 1000)))
            self._cut_pos = self._played_pos + fade
            self._drop_queue(max(0, self._cut_pos - self._pulled_pos) if self._started else 0)
            played = item.played + self._between(item, self._played_pos, self._cut_pos)
            end_frame = math.ceil((self._cut_pos - self._base_pos) * self.output_rate / self.rate)
            n = max(1, end_frame - self._dev_frames)
            self._fade_ramp = (0.5 + 0.5 * np.cos(np.pi * np.arange(1, n + 1) / n)).astype(np.float32)
            self._fade_done = 0
            self._cut_report = PlaybackReport(
                item.item_id, played * 1000 // self.rate, item.received * 1000 // self.rate, played, item.received
            )
            return self._cut_report

    def drop(self, item_id: str) -> PlaybackReport | None:
        """Never play ``item_id`` (the answer to an echo): flushed if it is sounding (its report),
        else taken out of the queue with whatever of it arrives later."""
        with self._lock:
            item = self._item(item_id)
            head, audible = self._head()
            if not (audible and head is item):
                item.flushed = True
                self._drop_flushed()
                return None
        return self.flush()

    def hold(self) -> None:
        """Pause at once (within the next pull): a tentative barge-in. With nothing playing or queued
        it is ignored; queued audio that has not started yet waits for :meth:`release`."""
        with self._lock:
            if (self._started or self._ledger or self._queued) and not self._fading and not self._hold:
                self._hold = True
                self._gain.silent_frames = 0
                if not self._started and not self._ledger:
                    self.held_waiting += 1

    def release(self) -> None:
        """Resume a :meth:`hold` where it stopped (a fade-in over the first ms)."""
        with self._lock:
            self._hold = self._suspended

    def suspend(self, on: bool) -> None:
        """Pause like :meth:`hold`, also before anything is queued, and without ever lapsing, until
        ``suspend(False)`` (the microphone test, the room calibration). Nothing is lost."""
        with self._lock:
            self._suspended = on
            if on and not self._fading:
                self._hold = True
                self._gain.silent_frames = 0
            elif not on:
                self._hold = False

    @property
    def paused(self) -> bool:
        """Held and silent: what is queued waits."""
        return self._paused

    def report(self, item_id: str) -> PlaybackReport:
        """Played and received so far for ``item_id`` (zeros for an unknown item)."""
        with self._lock:
            item = self._items.get(item_id)
            return item.report(self.rate) if item else PlaybackReport(item_id, 0, 0)

    def set_output_rate(self, output_rate: int) -> None:
        """Resample to ``output_rate`` in ``pull`` from now on (a device was opened). At the same rate
        the pipeline carries over untouched; at another rate the few ms inside the old resampler
        are dropped, uncredited (they were never handed to a device)."""
        with self._lock:
            if self.output_rate == int(output_rate):
                return
            self.output_rate = int(output_rate)
            self._gain.set_rate(self.output_rate, max_hold_ms=self._max_hold_ms)  # the callback never allocates
            self._resampler = StreamResampler(self.rate, self.output_rate)
            self._fifo = FrameFifo(1, capacity=8 * max(self.output_rate // 50, 1024))
            self._ledger.clear()
            self._dev_frames = 1  # force a full reset
            self._reset_pipeline()

    @property
    def is_playing(self) -> bool:
        """Assistant audio is queued or being handed to the device (for the speaking indicator)."""
        return self._started or bool(self._ledger) or self._queued > 0

    @property
    def level_dbfs(self) -> float:
        """Level of the most recent block handed to the device."""
        return self._level

    # --- audio thread --------------------------------------------------------------------------

    def pull(self, n_frames: int) -> np.ndarray:
        """The next ``n_frames`` at ``output_rate`` for the device, silence-filled.

        Returns a view of an internal buffer, valid until the next call.
        """
        with self._lock:
            if n_frames > len(self._out):
                self._out = np.zeros(2 * n_frames, dtype=np.float32)
            out = self._out[:n_frames]
            if not self._started and not self._ledger and not self._fading:
                self._paused = False
                self._idle(out)
            elif self._hold and not self._fading:
                self._pause(out)
            else:  # playing; after a release, fading back in from the gain the pause reached
                self._paused = False
                self._produce(out)
                self._gain.up(out)
            self._level = dbfs(out)
            return out

    # --- internals (lock held) -----------------------------------------------------------------

    def _head(self) -> tuple[ItemCounts | None, bool]:
        """The item sounding or next to sound, and whether it is audible (started or in the pipeline)."""
        item = self._ledger.head if self._ledger else (self._segments[0][0] if self._segments else None)
        return item, self._started or bool(self._ledger)

    @property
    def _fading(self) -> bool:
        return self._fade_done < len(self._fade_ramp)

    def _item(self, item_id: str) -> ItemCounts:
        item = self._items.get(item_id)
        if item is None:
            item = self._items[item_id] = ItemCounts(item_id)
            while len(self._items) > _MAX_ITEMS:
                self._items.popitem(last=False)
        return item

    def _idle(self, out: np.ndarray) -> None:
        """Nothing audible in the pipeline: decide whether to start, else hand silence cheaply."""
        n24 = len(out) * self.rate // self.output_rate
        if self._queued:
            ready = self._queued >= self.prebuffer or self._segments[-1][0].finished or self._waited >= self.prebuffer
            if ready and self._hold and not self._suspended and self._gain.held_too_long(len(out)):
                self._end_hold()
            if ready and not self._hold:
                self._started = True
                self._waited = 0
                self._gain.reset()
                self._produce(out)
                return
            self._waited += n24
        out.fill(0.0)
        self._pulled_pos += n24
        self._played_pos = self._pulled_pos
        self._reset_pipeline()

    def _produce(self, out: np.ndarray) -> None:
        n = len(out)
        if self._resampler.passthrough:
            self._pull24(out)
        else:
            while len(self._fifo) < n:
                chunk = self._scratch
                self._pull24(chunk)
                self._fifo.push(self._resampler.process(chunk))
            self._fifo.pop_into(out)
        self._dev_frames += n
        position = self._base_pos + self._dev_frames * self.rate // self.output_rate
        if self._fading:
            k = min(n, len(self._fade_ramp) - self._fade_done)
            out[:k] *= self._fade_ramp[self._fade_done : self._fade_done + k]
            self._fade_done += k
            if not self._fading:
                out[k:] = 0.0
                self._advance_played(self._cut_pos)
                self._ledger.clear()
                self._drop_flushed()
                self._started = False
                self._hold, self._paused = self._suspended, False
                self._gain.reset()
                self._reset_pipeline()
                return
        self._advance_played(position)

    def _pause(self, out: np.ndarray) -> None:
        """Hold: fade the next few ms out (those samples count as played; a short block carries the
        fade on into the next), then silence that consumes nothing; once paused, every block is
        silence, until a release or ``max_hold_ms``."""
        gain = self._gain
        if gain.silent:
            out.fill(0.0)
            if gain.held_too_long(len(out)) and not self._suspended:
                self._end_hold()
            return
        k = gain.down_frames(len(out))
        self._produce(out[:k])
        gain.down(out[:k])
        out[k:] = 0.0
        if gain.silent:
            self._paused = True
            self.holds += 1

    def _end_hold(self) -> None:
        """Nobody released the hold in ``max_hold_ms``: resume (next pull) as a release would."""
        self._hold = False
        self.hold_timeouts += 1

    def _pull24(self, out: np.ndarray) -> None:
        n = len(out)
        pos = 0
        segments = self._segments
        if self._started:
            while pos < n and segments:
                seg = segments[0]
                item, data, offset = seg
                k = min(n - pos, len(data) - offset)
                out[pos : pos + k] = data[offset : offset + k]
                self._credit_pulled(item, self._pulled_pos + pos, k)
                pos += k
                if offset + k == len(data):
                    segments.popleft()
                else:
                    seg[2] = offset + k
            self._queued -= pos
            if pos < n:
                last = self._last_item
                if last is not None and not last.finished and not self._fading:
                    self.underruns += 1
                self._started = False
        if pos < n:
            out[pos:] = 0.0
        self._pulled_pos += n

    def _credit_pulled(self, item: ItemCounts, start: int, k: int) -> None:
        self._ledger.credit(item, start, k)
        self._last_item = item

    def _advance_played(self, position: int) -> None:
        self._ledger.advance(position)
        self._played_pos = max(self._played_pos, position)

    def _between(self, item: ItemCounts, start: int, end: int) -> int:
        """Samples of ``item`` at positions [start, end): in the pipeline, then at the queue's head."""
        return self._ledger.between(item, start, end) + queued_between(self._segments, item, self._pulled_pos, end)

    def _drop_queue(self, keep: int) -> None:
        """Keep only the first ``keep`` queued samples."""
        self._segments, self._queued = first_samples(self._segments, keep)

    def _drop_flushed(self) -> None:
        self._segments, self._queued = without_flushed(self._segments)

    def _reset_pipeline(self) -> None:
        if self._dev_frames:  # the resampler and FIFO were used since the last reset
            self._resampler.reset()
            self._fifo.clear()
        self._base_pos = self._pulled_pos
        self._played_pos = self._pulled_pos
        self._dev_frames = 0
