"""A device-free "speaker" for the headless mode: pulls a :class:`PlaybackQueue` at real-time pace.

The headless mode has no output device, but truncation and barge-in must behave exactly as with one,
so it drives the same :class:`~desktop_app.audio.playback_queue.PlaybackQueue` the output callback
drives, from an asyncio timer. Ticks are scheduled with ``loop.call_at`` against the start time
(tick *k* is due at ``t0 + k·block``), so the pace never drifts; a late tick catches up by pulling
every block that has fallen due, as a sound card would have consumed them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from desktop_app.audio.codecs import float_to_pcm16
from desktop_app.audio.playback_queue import PlaybackQueue
from desktop_app.log import get_logger

log = get_logger("audio")


class ClockedSink:
    """Pulls ``block_ms`` of audio from ``queue`` every ``block_ms`` and hands it to ``on_block``.

    ``on_block`` receives pcm16 little-endian bytes at the queue's output rate (24 kHz unless set
    otherwise) — exactly what a speaker would have played, silence included, ready for a WAV writer.
    """

    def __init__(
        self,
        queue: PlaybackQueue,
        block_ms: float = 20.0,
        on_block: Callable[[bytes], None] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.queue = queue
        self.block_s = block_ms / 1000.0
        self.block_frames = int(round(queue.output_rate * self.block_s))
        self.on_block = on_block
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self._t0 = 0.0
        self.blocks = 0  # blocks pulled since start
        self.late_ticks = 0  # ticks that had to catch up more than one block

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self) -> None:
        if self._handle is not None:
            return
        loop = self._loop or asyncio.get_running_loop()
        self._loop = loop
        self._t0 = loop.time()
        self.blocks = 0
        self._handle = loop.call_at(self._t0 + self.block_s, self._tick)
        log.debug("= clocked sink started (%d frames per %.0f ms)", self.block_frames, self.block_s * 1000)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            log.debug("= clocked sink stopped after %d blocks", self.blocks)

    def _tick(self) -> None:
        assert self._loop is not None
        due = int((self._loop.time() - self._t0) / self.block_s)
        if due - self.blocks > 1:
            self.late_ticks += 1
        while self.blocks < due:
            block = self.queue.pull(self.block_frames)
            self.blocks += 1
            if self.on_block is not None:
                self.on_block(float_to_pcm16(block).tobytes())
        if self._handle is not None:  # on_block may have stopped us
            self._handle = self._loop.call_at(self._t0 + (self.blocks + 1) * self.block_s, self._tick)
