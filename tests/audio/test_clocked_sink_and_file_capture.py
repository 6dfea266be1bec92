"""Headless halves: ClockedSink pulls at real-time pace; ArrayCapture/FileCapture feed frames."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from desktop_app.audio.capture import ArrayCapture, FileCapture, read_wav
from desktop_app.audio.capture_chain import FRAME_BYTES
from desktop_app.audio.clocked_sink import ClockedSink
from desktop_app.audio.codecs import pcm16_to_float
from desktop_app.audio.playback_queue import PlaybackQueue
from tests.audio.signals import dominant_hz, frame_sink, frames_to_float, tone, tone_pcm
from tests.plugins.pipewire import wait_for


async def test_clocked_sink_pulls_in_real_time_and_hands_exactly_what_played() -> None:
    queue = PlaybackQueue()
    played: list[bytes] = []
    sink = ClockedSink(queue, block_ms=20, on_block=played.append)
    audio = tone_pcm(1000, 0.2)
    queue.enqueue("a", audio)
    queue.finish("a")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    sink.start()
    await wait_for(lambda: sink.blocks >= 25, timeout=3)
    elapsed = loop.time() - t0
    sink.stop()
    assert elapsed == pytest.approx(0.5, abs=0.06)  # 25 blocks of 20 ms, paced by the loop clock
    assert {len(b) for b in played} == {960}
    out = b"".join(played)
    assert out[: len(audio)] == audio  # sample-exact: the finished item starts at once
    assert not any(out[len(audio) :])
    assert queue.report("a").played_ms == 200


async def test_clocked_sink_catches_up_after_a_stalled_loop() -> None:
    queue = PlaybackQueue()
    sink = ClockedSink(queue, block_ms=10)
    sink.start()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await wait_for(lambda: sink.blocks >= 2, timeout=2)
    busy_until = loop.time() + 0.1
    while loop.time() < busy_until:  # the loop is blocked for 100 ms on purpose
        pass
    await wait_for(lambda: sink.blocks >= int((loop.time() - t0) / 0.01) - 1, timeout=1)
    sink.stop()
    assert sink.late_ticks >= 1


async def test_array_capture_fast_mode_sends_every_sample_as_fixed_frames() -> None:
    frames: list[bytes] = []
    capture = ArrayCapture(tone(1000, 16000, 0.5), 16000, frame_sink(frames), realtime=False)
    capture.start()
    await asyncio.wait_for(capture.done, 2)
    assert {len(f) for f in frames} == {FRAME_BYTES}
    assert len(frames) == 25  # 500 ms, the resampler tail flushed and padded
    assert abs(dominant_hz(frames_to_float(frames)[1200:-1200], 24000) - 1000) < 1


async def test_array_capture_real_time_takes_the_audio_duration() -> None:
    frames: list[bytes] = []
    capture = ArrayCapture(np.zeros(12000, np.int16), 48000, frame_sink(frames), realtime=True, tail_silence_ms=100)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    capture.start()
    await asyncio.wait_for(capture.done, 2)
    assert loop.time() - t0 == pytest.approx(0.35, abs=0.05)
    assert len(frames) == 18  # 350 ms → 17.5 frames, the last padded


async def test_file_capture_reads_a_stereo_wav(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    stereo = np.stack([tone(440, 44100, 0.3, 0.5), tone(440, 44100, 0.3, 0.5)], axis=1)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes((stereo * 32767).astype("<i2").tobytes())
    samples, rate = read_wav(path)
    assert samples.shape == (13230, 2) and rate == 44100
    frames: list[bytes] = []
    capture = FileCapture(path, frame_sink(frames), realtime=False)
    capture.start()
    await asyncio.wait_for(capture.done, 2)
    x = pcm16_to_float(b"".join(frames))
    assert abs(dominant_hz(x[2400:-2400], 24000) - 440) < 2
    assert np.abs(x).max() == pytest.approx(0.5, abs=0.03)
