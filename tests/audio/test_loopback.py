"""Real devices through a private PipeWire null sink: play, record back through its monitor."""

from __future__ import annotations

import time

import numpy as np
import pytest

from desktop_app.audio.capture import Capture
from desktop_app.audio.playback import Playback
from desktop_app.audio.playback_queue import PlaybackQueue
from tests.audio.signals import active_span, dominant_hz, frames_to_float, steady_part, tone_pcm, tone_purity_db
from tests.plugins.pipewire import wait_for

pytestmark = pytest.mark.audio


async def test_known_tone_played_comes_back_through_the_monitor() -> None:
    frames: list[bytes] = []
    capture = Capture(on_frame=frames.append)
    queue = PlaybackQueue()
    playback = Playback(queue=queue)
    capture.start()
    playback.start()
    try:
        queue.enqueue("a", tone_pcm(1000, 0.5, level=0.5))
        queue.finish("a")
        await wait_for(lambda: queue.report("a").played_samples == 12000, timeout=3)
        await wait_for(lambda: len(frames) * 20 >= 900, timeout=3)
    finally:
        playback.stop()
        capture.stop()
    x = steady_part(frames_to_float(frames), 24000)
    assert len(x) > 0.4 * 24000
    assert abs(dominant_hz(x, 24000) - 1000) < 1
    assert tone_purity_db(x, 24000, 1000) > 40
    assert 20 * np.log10(np.sqrt(2) * np.sqrt(np.mean(x**2))) == pytest.approx(20 * np.log10(0.5), abs=1.0)
    assert len({len(f) for f in frames}) == 1 and len(frames[0]) == 960


@pytest.mark.parametrize("out_rate", [24000, 44100, 48000])
@pytest.mark.parametrize("in_rate", [16000, 44100, 48000])
async def test_1khz_stays_1khz_through_real_devices_at_every_rate_pair(out_rate: int, in_rate: int) -> None:
    frames: list[bytes] = []
    capture = Capture(on_frame=frames.append, samplerate=in_rate)
    queue = PlaybackQueue()
    playback = Playback(queue=queue, samplerate=out_rate)
    capture.start()
    playback.start()
    try:
        assert (capture.samplerate, playback.samplerate) == (in_rate, out_rate)
        queue.enqueue("a", tone_pcm(1000, 0.3))
        queue.finish("a")
        await wait_for(lambda: not queue.is_playing, timeout=3)
        settle = len(frames) + 4  # the loopback delay is ~30 ms: 80 ms more is enough
        await wait_for(lambda: len(frames) >= settle, timeout=2)
    finally:
        playback.stop()
        capture.stop()
    x = steady_part(frames_to_float(frames), 24000)
    assert len(x) > 0.2 * 24000
    assert abs(dominant_hz(x, 24000) - 1000) < 1
    assert tone_purity_db(x, 24000, 1000) > 35


async def test_played_position_matches_what_the_microphone_heard_to_one_block() -> None:
    frames: list[bytes] = []
    handed: list[tuple[float, float]] = []  # (monotonic time, peak) per output block
    capture = Capture(on_frame=frames.append)
    queue = PlaybackQueue()
    playback = Playback(queue=queue, block_ms=10,
                        output_hook=lambda block, dac: handed.append((time.monotonic(), float(np.abs(block).max()))))
    capture.start()
    playback.start()
    try:
        queue.enqueue("a", tone_pcm(1000, 2.0, level=0.5))
        await wait_for(lambda: queue.report("a").played_ms >= 500, timeout=3)
        t_flush = time.monotonic()
        report = queue.flush(fade_ms=8)
        await wait_for(lambda: len(handed) > 0 and handed[-1][0] > t_flush + 0.1, timeout=2)
        settle = len(frames) + 10
        await wait_for(lambda: len(frames) >= settle, timeout=2)
    finally:
        playback.stop()
        capture.stop()
    assert report is not None and report.item_id == "a"
    assert queue.report("a").played_samples == report.played_samples  # the fade went out as promised
    # in the recording: the tone lasts exactly as long as the accounting says (within one block)
    x = frames_to_float(frames)
    start_ms, end_ms = active_span(x, 24000, threshold=0.5 / np.sqrt(2) / 2)  # half the tone's RMS
    heard_ms = end_ms - start_ms
    block_ms = 1000 * playback.blocksize_frames / playback.samplerate
    assert abs(heard_ms - report.played_ms) <= block_ms
    # …and then silence: nothing stale re-emerges after the fade
    after = x[int((end_ms + 10) * 24):]
    assert len(after) > 0.1 * 24000 and np.abs(after).max() < 1e-3
    # silent within one callback period: one block after the flush carries the fade, none after it
    after_flush = [(t, peak) for t, peak in handed if t > t_flush]
    assert after_flush[0][0] - t_flush <= 2 * block_ms / 1000
    assert after_flush[0][1] > 0 and all(peak == 0 for _, peak in after_flush[1:])
