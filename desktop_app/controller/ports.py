"""The two :class:`~desktop_app.controller.audio_port.AudioPort` implementations.

* :class:`DevicePort` — the real microphone and speaker through :class:`~desktop_app.audio.engine.AudioEngine`.
* :class:`FilePort` — a WAV (or array) as the microphone, then live-like silence; assistant audio is
  "played" by a :class:`~desktop_app.audio.clocked_sink.ClockedSink` at real-time pace. The headless
  mode and GUI tests use it.

Both play through the same :class:`~desktop_app.audio.playback_queue.PlaybackQueue`, so the played
position used for truncation is accounted identically.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

from desktop_app.audio.capture import ArrayCapture, read_wav
from desktop_app.audio.clocked_sink import ClockedSink
from desktop_app.audio.engine import AudioEngine
from desktop_app.audio.levels import FLOOR_DBFS
from desktop_app.audio.playback_queue import PlaybackQueue

FRAME_MS = 20
SILENT_FRAME = b"\x00\x00" * (24 * FRAME_MS)


class _QueuePlayback:
    """The playback half shared by both ports."""

    queue: PlaybackQueue

    def enqueue(self, item_id: str, pcm16: bytes) -> None:
        self.queue.enqueue(item_id, pcm16)

    def finish(self, item_id: str) -> None:
        """No more audio comes for ``item_id``: its tail may play without waiting for a prebuffer."""
        self.queue.finish(item_id)

    def flush(self) -> tuple[str, int] | None:
        report = self.queue.flush()
        return None if report is None else (report.item_id, report.truncate_ms)

    def unheard(self) -> tuple[str, ...]:
        """Items the last flush dropped before any of their audio played."""
        return self.queue.unheard

    def drop(self, item_id: str) -> tuple[str, int] | None:
        report = self.queue.drop(item_id)
        return None if report is None else (report.item_id, report.truncate_ms)

    def played_ms(self, item_id: str) -> int:
        return self.queue.report(item_id).played_ms

    def pause_playback(self, paused: bool) -> None:
        self.queue.suspend(paused)

    @property
    def is_playing(self) -> bool:
        return self.queue.is_playing

    @property
    def output_level_dbfs(self) -> float:
        return self.queue.level_dbfs if self.queue.is_playing else FLOOR_DBFS


class DevicePort(_QueuePlayback):
    """Real devices. ``start`` raises :class:`~desktop_app.errors.AudioDeviceError` when a device
    cannot be opened and returns the fallback notices (a remembered device is gone)."""

    def __init__(self, engine: AudioEngine, input_name: str | None = None, output_name: str | None = None) -> None:
        self.engine = engine
        self.queue = engine.queue
        self.input_name = input_name or None
        self.output_name = output_name or None

    def start(self, on_mic_frame: Callable[[bytes], None]) -> list[str]:
        self.engine.on_mic_frame = on_mic_frame
        return self.engine.start(self.input_name, self.output_name)

    def stop(self) -> None:
        self.engine.stop()

    def set_gate(self, open_: bool) -> None:
        self.engine.set_gate(open_)

    def set_muted(self, muted: bool) -> None:
        self.engine.mute(muted)

    def near_end_speech(self, window_ms: float = 300.0) -> bool | None:
        """The echo canceller's verdict on the microphone: True near-end speech, False only echo,
        None when it cannot tell (no canceller, headset mode)."""
        return self.engine.near_end_speech(window_ms)

    def set_onset_callback(self, callback: Callable[[], None] | None) -> None:
        """Called on the loop when the audio side hears the user start over the assistant."""
        self.engine.on_near_end_onset = callback

    @property
    def mic_level_dbfs(self) -> float:
        return self.engine.input_level_dbfs


class FilePort(_QueuePlayback):
    """A recording as the microphone, followed by silence for as long as the session runs (a live
    microphone never stops sending), and a clocked sink as the speaker.

    ``input_done`` resolves when the recording has been delivered. ``on_played`` receives the PCM16
    24 kHz blocks the "speaker" played while assistant audio was sounding.
    """

    def __init__(
        self,
        source: str | Path | tuple[np.ndarray, int],
        *,
        realtime: bool = True,
        on_played: Callable[[bytes], None] | None = None,
    ) -> None:
        samples, rate = read_wav(source) if isinstance(source, str | Path) else source
        self.queue = PlaybackQueue()
        self._on_played = on_played
        self._sink = ClockedSink(self.queue, block_ms=FRAME_MS, on_block=self._played)
        self._capture = ArrayCapture(samples, rate, realtime=realtime)
        self._on_frame: Callable[[bytes], None] | None = None
        self._silence: asyncio.Handle | None = None
        self._later: deque[bytes] = deque()  # speech queued with say(), sent instead of silence
        self.input_done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.played_blocks = 0

    def start(self, on_mic_frame: Callable[[bytes], None]) -> list[str]:
        self._on_frame = on_mic_frame
        self._capture.on_frame = on_mic_frame
        self._capture.start()
        assert self._capture.done is not None
        self._capture.done.add_done_callback(self._recording_done)
        self._sink.start()
        return []

    def stop(self) -> None:
        self._capture.stop()
        self._sink.stop()
        if self._silence is not None:
            self._silence.cancel()
            self._silence = None

    def set_gate(self, open_: bool) -> None:
        self._capture.set_gate(open_)

    def set_muted(self, muted: bool) -> None:
        self._capture.mute(muted)

    @property
    def mic_level_dbfs(self) -> float:
        return self._capture.level_dbfs

    def near_end_speech(self, window_ms: float = 300.0) -> bool | None:
        """A recording has no echo canceller: cannot tell, trust the server."""
        return None

    def set_onset_callback(self, callback: Callable[[], None] | None) -> None:
        """A recording has no barge-in detector: the callback is never called."""

    def _recording_done(self, future: asyncio.Future[None]) -> None:
        if not self.input_done.done():
            self.input_done.set_result(None)
        if future.cancelled():
            return
        loop = asyncio.get_running_loop()
        self._silence_t0, self._silence_n = loop.time(), 0
        self._silence = loop.call_soon(self._silent_frame)

    def say(self, pcm16_24k: bytes) -> None:
        """Speak more after the recording (tests time an interruption to what is playing)."""
        step = len(SILENT_FRAME)
        padded = pcm16_24k + b"\x00" * (-len(pcm16_24k) % step)
        self._later.extend(padded[i : i + step] for i in range(0, len(padded), step))

    def _silent_frame(self) -> None:
        # Silence (or speech queued with say()) goes through the same gate and mute as the recording.
        frame = self._later.popleft() if self._later else SILENT_FRAME
        if self._capture.gate_open and not self._capture.muted and self._on_frame is not None:
            self._on_frame(frame)
        loop = asyncio.get_running_loop()
        self._silence_n += 1
        self._silence = loop.call_at(self._silence_t0 + self._silence_n * FRAME_MS / 1000, self._silent_frame)

    def _played(self, block: bytes) -> None:
        if self.queue.is_playing:
            self.played_blocks += 1
            if self._on_played is not None:
                self._on_played(block)
