"""Device times on our clock: a callback whose Python code runs late (waiting for the GIL) must not
move the DAC time it reports, or the echo canceller's reference breaks its run and jumps."""

from __future__ import annotations

import types

import numpy as np
import sounddevice as sd

from desktop_app.audio import playback as playback_module
from desktop_app.audio.device_stream import CallbackClock
from desktop_app.audio.far_end import FarEnd
from desktop_app.audio.playback import Playback
from desktop_app.audio.playback_queue import PlaybackQueue

BLOCK_S = 0.02
LATENCY_S = 0.025
PA_EPOCH = 1000.0  # PortAudio's clock reads 1000 s more than ours (another host API's stream time)
# how late each callback's Python code ran after PortAudio called back (s): a 20 ms wait, a 16 ms one
LAGS = [0.0001, 0.0002, 0.0001, 0.020, 0.0001, 0.0003, 0.016, 0.0001, 0.0001, 0.0002]


def test_a_late_callback_reads_the_device_time_it_would_have_read_on_time() -> None:
    clock = CallbackClock()
    times = []
    for k, lag in enumerate(LAGS):
        current = PA_EPOCH + k * BLOCK_S
        times.append(clock(current + LATENCY_S, current, current - PA_EPOCH + lag))
    true = np.array([k * BLOCK_S + LATENCY_S for k in range(len(LAGS))])
    assert np.abs(np.array(times) - true).max() < 0.0003  # the smallest lag, plus 20 µs of creep a callback


def test_the_offset_follows_a_clock_that_drifts_ahead_by_creeping_up() -> None:
    clock = CallbackClock()
    for k in range(500):  # our clock gains 0.5 ms/s on PortAudio's (10 µs a callback, under the creep)
        current = k * BLOCK_S
        clock(current + LATENCY_S, current, current * 1.0005 + 0.0001)
    assert abs(clock.offset - (499 * BLOCK_S * 0.0005 + 0.0001)) < 1e-9


def test_the_speakers_reference_keeps_one_run_through_late_callbacks(monkeypatch) -> None:
    far = FarEnd()
    far.set_rate(48000)
    queue = PlaybackQueue(output_rate=48000)
    queue.enqueue("answer", (np.full(24000, 3000, np.int16)).tobytes())
    queue.finish("answer")
    speaker = Playback(None, queue, output_hook=far.write)
    speaker.live, speaker.samplerate = True, 48000
    frames = int(48000 * BLOCK_S)
    outdata = np.zeros((frames, 1), np.float32)
    now = {"t": 0.0}
    monkeypatch.setattr(playback_module.time, "monotonic", lambda: now["t"])
    for k, lag in enumerate(LAGS):
        current = PA_EPOCH + k * BLOCK_S
        now["t"] = current - PA_EPOCH + lag
        info = types.SimpleNamespace(currentTime=current, outputBufferDacTime=current + LATENCY_S)
        speaker._callback(outdata, frames, info, sd.CallbackFlags())
    far.sync()
    assert far.runs == 1 and far.lost_blocks == 0  # it was: a new run at the 20 ms wait and one after it
    first = far.slot(LATENCY_S + 0.0001)  # the first block's DAC time, on our clock
    played = len(LAGS) * frames // 2  # 24 kHz samples handed over
    assert far.end_slot is not None and first + played - 48 <= far.end_slot <= first + played  # (the resampler holds ~1 ms)


def test_the_creep_is_per_second_of_stream_whatever_the_block() -> None:
    """Issue #24: 20 µs a callback crept 2 ms/s with 10 ms blocks; a loop kept busy a few hundred ms
    (every callback late) then moved the microphone's times by the 0.5 ms that re-pairs the canceller."""
    for block_s in (0.01, 0.02):
        clock = CallbackClock()
        clock(LATENCY_S, 0.0, 0.0)  # one on-time callback: offset 0
        k = 1
        while k * block_s <= 0.3:  # then 300 ms of callbacks each run 3 ms late
            current = k * block_s
            clock(current + LATENCY_S, current, current + 0.003)
            k += 1
        assert clock.offset <= 0.0003 + 1e-9, (block_s, clock.offset)  # 1 ms/s, not per callback


def test_a_stream_resumed_after_a_pause_keeps_its_offset_through_a_late_first_callback() -> None:
    clock = CallbackClock()
    for k in range(10):
        clock(k * BLOCK_S + LATENCY_S, k * BLOCK_S, k * BLOCK_S)
    resumed = 10 * BLOCK_S + 5.0  # five seconds suspended; its first callback runs 4 ms late
    clock(resumed + LATENCY_S, resumed, resumed + 0.004)
    assert clock.offset <= 0.0001 + 1e-9
