"""Real devices through a private PipeWire null sink: play, record back through its monitor.

A measurement during which PortAudio reported an xrun (the device starved or overflowed — this
machine's scheduler, not Parley, on a loaded 2-vCPU VM) cannot show sample-exact behaviour, so such
a run is repeated, at most twice; the assertions always apply to an xrun-free run. The tone tests
also repeat a run whose recorded tone breaks off mid-way with no xrun reported (seen once in CI: the
PipeWire graph skipped a cycle under load, purity 23.8 dB); a break in every attempt still fails.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from desktop_app.audio.capture import Capture
from desktop_app.audio.playback import Playback
from desktop_app.audio.playback_queue import PlaybackQueue, PlaybackReport
from tests.audio.signals import (
    active_span, dominant_hz, frame_sink, frames_to_float, sine_breaks, steady_part, tone_pcm, tone_purity_db,
)
from tests.plugins.pipewire import wait_for

pytestmark = pytest.mark.audio


@dataclass
class Run:
    """One play-and-record: the microphone's frames and what the output callback handed over."""

    capture: Capture
    playback: Playback
    queue: PlaybackQueue
    frames: list[bytes] = field(default_factory=list)
    handed: list[tuple[float, float]] = field(default_factory=list)  # (monotonic time, block peak)

    @property
    def xruns(self) -> int:
        return self.capture.overflows + self.playback.device_underflows

    def recording(self) -> np.ndarray:
        return frames_to_float(self.frames)

    async def settle(self, frames: int = 5) -> None:
        """Record ``frames`` more (the loopback delay is ~30 ms)."""
        target = len(self.frames) + frames
        await wait_for(lambda: len(self.frames) >= target, timeout=2)


async def play_and_record(
    scenario: Callable[[Run], Awaitable[object]], *, in_rate: int | None = None, out_rate: int | None = None,
    block_ms: float = 20.0, broken: Callable[[Run], bool] = lambda run: False,
) -> tuple[Run, object]:
    for _attempt in range(3):
        queue = PlaybackQueue()
        run = Run(Capture(samplerate=in_rate), Playback(queue=queue, samplerate=out_rate, block_ms=block_ms), queue)
        run.capture.on_frame = frame_sink(run.frames)
        run.playback.output_hook = lambda block, dac: run.handed.append((time.monotonic(), float(np.abs(block).max())))
        run.capture.start()
        run.playback.start()
        try:
            result = await scenario(run)
        finally:
            run.playback.stop()
            run.capture.stop()
        if run.xruns == 0 and not broken(run):
            return run, result
    raise AssertionError(f"every attempt had xruns ({run.xruns} in the last) or a broken recording: "
                         "the machine is overloaded, or the audio path loses samples")


def tone_broke(run: Run) -> bool:
    """The recorded 1 kHz tone breaks off inside its steady part (a gap, skip or repeat)."""
    return sine_breaks(steady_part(run.recording(), 24000), 24000, 1000) > 0


async def play_tone(run: Run, seconds: float = 0.5, freq: float = 1000.0) -> None:
    run.queue.enqueue("a", tone_pcm(freq, seconds, level=0.5))
    run.queue.finish("a")
    await wait_for(lambda: not run.queue.is_playing, timeout=3)
    await run.settle()


async def test_known_tone_played_comes_back_through_the_monitor() -> None:
    run, _ = await play_and_record(play_tone, broken=tone_broke)
    assert run.queue.report("a").played_samples == 12000
    x = steady_part(run.recording(), 24000)
    assert len(x) > 0.4 * 24000
    assert abs(dominant_hz(x, 24000) - 1000) < 1
    assert tone_purity_db(x, 24000, 1000) > 40
    assert 20 * np.log10(np.sqrt(2) * np.sqrt(np.mean(x**2))) == pytest.approx(20 * np.log10(0.5), abs=1.0)
    assert {len(f) for f in run.frames} == {960}


@pytest.mark.parametrize("out_rate", [24000, 44100, 48000])
@pytest.mark.parametrize("in_rate", [16000, 44100, 48000])
async def test_1khz_stays_1khz_through_real_devices_at_every_rate_pair(out_rate: int, in_rate: int) -> None:
    run, _ = await play_and_record(lambda r: play_tone(r, 0.3), in_rate=in_rate, out_rate=out_rate,
                                   broken=tone_broke)
    assert (run.capture.samplerate, run.playback.samplerate) == (in_rate, out_rate)
    x = steady_part(run.recording(), 24000)
    assert len(x) > 0.2 * 24000
    assert abs(dominant_hz(x, 24000) - 1000) < 1
    assert tone_purity_db(x, 24000, 1000) > 35


async def barge_in(run: Run) -> tuple[float, PlaybackReport | None]:
    run.queue.enqueue("a", tone_pcm(1000, 2.0, level=0.5))
    await wait_for(lambda: run.queue.report("a").played_ms >= 500, timeout=3)
    t_flush = time.monotonic()
    report = run.queue.flush(fade_ms=8)
    await wait_for(lambda: bool(run.handed) and run.handed[-1][0] > t_flush + 0.1, timeout=2)
    await run.settle(10)
    return t_flush, report


@pytest.mark.parametrize("block_ms", [10, 20])
async def test_played_position_matches_what_the_microphone_heard_to_one_block(block_ms: int) -> None:
    run, (t_flush, report) = await play_and_record(barge_in, block_ms=block_ms)  # type: ignore[misc]
    assert report is not None and report.item_id == "a"
    assert run.queue.report("a").played_samples == report.played_samples  # the fade went out as promised
    # in the recording the tone lasts as long as the accounting says, to one block
    x = run.recording()
    start_ms, end_ms = active_span(x, 24000, threshold=0.5 / np.sqrt(2) / 2)  # half the tone's RMS
    assert abs((end_ms - start_ms) - report.played_ms) <= block_ms
    # …and then silence: nothing stale re-emerges after the fade
    after = x[int((end_ms + 10) * 24) :]
    assert len(after) > 0.1 * 24000 and np.abs(after).max() < 1e-3


@pytest.mark.parametrize("block_ms", [10, 20])
async def test_flush_is_silent_within_one_callback_period(block_ms: int) -> None:
    run, (t_flush, _) = await play_and_record(barge_in, block_ms=block_ms)  # type: ignore[misc]
    after_flush = [(t, peak) for t, peak in run.handed if t > t_flush]
    # the next callback (within a period, plus scheduling slack) carries the fade; all later ones are
    # silent. The hook stamps a block after the callback pulled it, so a callback that pulled just
    # before flush() and reached its hook just after shows one pre-flush block first (seen once in a
    # make-test run: 0.5, then the fade): the fade rides that block or the next one, as in
    # test_aec_loopback's barge-in test, and nothing after the fade is loud.
    assert after_flush[0][0] - t_flush <= (block_ms + 5) / 1000
    loud = [i for i, (_, peak) in enumerate(after_flush) if peak > 0]
    assert loud[:1] == [0] and loud == list(range(len(loud))) and len(loud) <= 2, after_flush[:4]
