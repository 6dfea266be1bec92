"""AudioEngine on real devices: mic frames, mute and push-to-talk, test tone, input meter, refresh."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from desktop_app.audio.capture_chain import FRAME_BYTES
from desktop_app.audio.engine import AudioEngine
from desktop_app.audio.stream_tuning import CAPTURE_BLOCK_MS, CAPTURE_BLOCK_MS_DIRECT
from tests.audio.signals import dominant_hz, frame_sink, frames_to_float, steady_part, tone, tone_pcm
from tests.plugins.pipewire import wait_for

pytestmark = pytest.mark.audio


async def test_near_end_talker_injected_with_pw_cat_reaches_the_mic_frames(pipewire_session) -> None:
    frames: list[bytes] = []
    engine = AudioEngine(on_mic_frame=frame_sink(frames))
    engine.start()
    try:
        talker = pipewire_session.inject(tone(700, 48000, 0.4, level=0.4), 48000)
        assert talker.wait(timeout=5) == 0
        settle = len(frames) + 5
        await wait_for(lambda: len(frames) >= settle, timeout=2)
    finally:
        engine.stop()
    x = steady_part(frames_to_float(frames), 24000)
    assert len(x) > 0.25 * 24000
    assert abs(dominant_hz(x, 24000) - 700) < 1
    assert {len(f) for f in frames} == {FRAME_BYTES}


async def test_muted_microphone_sends_nothing_and_pauses_until_unmuted() -> None:
    frames: list[bytes] = []
    engine = AudioEngine(on_mic_frame=frame_sink(frames))
    engine.start()
    try:
        capture = engine.capture
        assert capture is not None
        await wait_for(lambda: len(frames) >= 3, timeout=2)
        engine.mute(True)
        await wait_for(lambda: capture.suspended, timeout=1)  # after the fade-out frame
        count, callbacks = len(frames), capture.callbacks
        engine.queue.enqueue("a", tone_pcm(1000, 0.3, level=0.5))  # heard by nobody
        engine.queue.finish("a")
        await wait_for(lambda: not engine.queue.is_playing, timeout=2)
        assert len(frames) == count and capture.callbacks <= callbacks + 1
        assert capture.level_dbfs == -100.0
        engine.mute(False)
        await wait_for(lambda: len(frames) >= count + 3, timeout=2)
        assert not capture.suspended
    finally:
        engine.stop()


async def test_idle_speaker_pauses_and_wakes_when_audio_arrives() -> None:
    frames: list[bytes] = []
    engine = AudioEngine(on_mic_frame=frame_sink(frames))
    engine.start()
    try:
        playback = engine.playback
        assert playback is not None
        playback.idle_suspend_s = 0.3
        await wait_for(lambda: playback.suspended, timeout=2)
        callbacks = playback.callbacks
        engine.queue.enqueue("a", tone_pcm(1000, 0.3, level=0.5))
        engine.queue.finish("a")
        assert not playback.suspended
        await wait_for(lambda: engine.queue.report("a").played_ms == 300, timeout=2)
        assert playback.callbacks > callbacks
        settle = len(frames) + 5
        await wait_for(lambda: len(frames) >= settle, timeout=2)
        x = steady_part(frames_to_float(frames), 24000)
        assert abs(dominant_hz(x, 24000) - 1000) < 1 and len(x) > 0.2 * 24000
    finally:
        engine.stop()


async def test_push_to_talk_sends_nothing_until_pressed_then_the_pre_roll_at_once() -> None:
    frames: list[bytes] = []
    engine = AudioEngine(on_mic_frame=frame_sink(frames))
    engine.set_gate(False)
    engine.start()
    try:
        capture = engine.capture
        assert capture is not None
        await wait_for(lambda: capture.callbacks >= 20, timeout=2)  # 400 ms heard, nothing sent
        assert frames == []
        engine.set_gate(True)
        await wait_for(lambda: len(frames) >= 12, timeout=1)
        assert len(frames) >= 12  # 250 ms of pre-roll (12.5 frames) arrive in the first drain
    finally:
        engine.stop()


async def test_test_tone_is_played_on_the_chosen_output() -> None:
    frames: list[bytes] = []
    engine = AudioEngine(on_mic_frame=frame_sink(frames))
    engine.start()
    try:
        await engine.test_tone(None, freq=440.0, seconds=0.4)
        settle = len(frames) + 4
        await wait_for(lambda: len(frames) >= settle, timeout=2)
    finally:
        engine.stop()
    x = steady_part(frames_to_float(frames), 24000)
    assert abs(dominant_hz(x, 24000) - 440) < 1


async def test_test_tone_without_a_running_engine_uses_a_stream_of_its_own() -> None:
    engine = AudioEngine()
    probe = engine.start_input_probe()
    try:
        task = asyncio.ensure_future(engine.test_tone("ALSA:pipewire", freq=440.0, seconds=0.3))
        await wait_for(lambda: probe.level_dbfs > -20, timeout=2)  # the settings meter sees the tone
        await task
        assert engine.playback is None  # it used a short-lived stream, now closed
        assert probe.on_frame is None and probe.muted
    finally:
        engine.stop_input_probe()
        engine.stop()


async def test_refresh_while_running_sees_new_devices_and_keeps_the_conversation(pipewire_session) -> None:
    engine = AudioEngine()
    engine.start("ALSA:pipewire", "ALSA:pipewire")
    sink = pipewire_session.add_sink("plugged")
    try:
        engine.queue.enqueue("a", tone_pcm(440, 1.0))
        engine.queue.finish("a")
        await wait_for(lambda: engine.queue.report("a").played_ms > 100, timeout=2)
        found = engine.refresh_devices()
        assert sink.alsa_name in {d.name for d in found}
        assert engine.playback is not None and engine.playback.running
        assert engine.capture is not None and engine.capture.device.name == "pipewire"
        await wait_for(lambda: not engine.queue.is_playing, timeout=3)
        assert engine.queue.report("a").played_ms >= 970
    finally:
        engine.stop()
        pipewire_session.remove_sink(sink)
        engine.refresh_devices()


def test_engine_levels_are_floor_when_stopped() -> None:
    engine = AudioEngine()
    assert engine.input_level_dbfs == engine.output_level_dbfs == -100.0
    assert engine.speech_energy == 0.0 and engine.output_tap is None
    assert np.isfinite(engine.input_level_dbfs)


@pytest.mark.parametrize("end", ["mute", "mode switch", "microphone failure"])
def test_a_hold_ends_when_nothing_could_release_it_any_more(end: str) -> None:
    """The echo guard's release needs microphone frames: muting, switching the echo mode (a new
    guard) or losing the microphone ends the hold at once, instead of after the queue's limit."""
    from desktop_app.errors import AudioDeviceError

    engine = AudioEngine(audio_mode="speakers")
    engine.queue.enqueue("a", tone_pcm(440, 1.0))
    engine.queue.finish("a")
    engine.queue.pull(480)
    engine.echo.on_hold(True)  # what the guard calls on the first sign of the user
    assert not engine.queue.pull(480)[96:].any() and engine.queue.paused
    if end == "mute":
        engine.mute(True)
    elif end == "mode switch":
        engine.set_audio_mode("headset")
    else:
        engine._on_device_error(AudioDeviceError("the microphone was unplugged"))
    assert np.abs(engine.queue.pull(480)[96:]).max() > 0.4 and not engine.queue.paused
    assert engine.queue.hold_timeouts == 0


def test_with_the_push_to_talk_button_up_or_muted_the_guard_neither_holds_nor_barges_in() -> None:
    engine = AudioEngine(audio_mode="speakers")
    onsets = []
    engine.on_near_end_onset = lambda: onsets.append(1)
    engine.queue.enqueue("a", tone_pcm(440, 1.0))
    engine.queue.finish("a")
    engine.queue.pull(480)
    for closed in ("gate", "mute"):
        engine.set_gate(closed != "gate")
        engine.mute(closed == "mute")
        engine.echo.on_hold(True)
        engine.echo.on_near_end_onset()
        assert np.abs(engine.queue.pull(480)).max() > 0.4 and not engine.queue.paused and onsets == []
    engine.set_gate(True)
    engine.mute(False)
    engine.echo.on_near_end_onset()
    assert onsets == [1]
    engine.echo.on_hold(True)
    assert not engine.queue.pull(480)[96:].any()
    engine.set_gate(False)  # switching to push-to-talk mid-hold ends it
    assert np.abs(engine.queue.pull(480)[96:]).max() > 0.4


def test_objects_alive_when_the_streams_open_are_frozen_out_of_the_collector() -> None:
    """A full collection walking everything loaded before the streams opened held the GIL for 56 ms
    and the speaker underflowed; what is alive at a start is never walked again, later objects are."""
    import gc

    from desktop_app.audio.stream_tuning import freeze_startup_objects

    before = freeze_startup_objects()
    assert before > 1000 and gc.get_freeze_count() == before
    later = [[k] for k in range(5000)]  # the conversation's objects: still the collector's
    assert all(gc.is_tracked(x) for x in later[:3]) and gc.get_freeze_count() == before
    assert freeze_startup_objects() >= before + 5000  # the next start freezes them too


async def test_without_the_canceller_the_microphone_takes_10ms_blocks_and_wakes_the_loop_once_a_frame(pipewire_session) -> None:
    """Issue #24: in headset mode (nothing pairs the blocks with the speaker) the input opens in
    ``CAPTURE_BLOCK_MS_DIRECT`` blocks at PortAudio's 'low' latency — half the wait before the
    callback — while the frames sent stay 20 ms, 50 a second, and the loop is woken once per frame,
    not once per block (no CPU rise)."""
    frames: list[bytes] = []
    engine = AudioEngine(on_mic_frame=frame_sink(frames), audio_mode="headset")
    engine.start()
    try:
        capture = engine.capture
        assert capture is not None and capture.running
        assert capture.block_ms == CAPTURE_BLOCK_MS_DIRECT == 10.0
        assert capture.blocksize_frames == capture.samplerate * 10 // 1000
        assert 0.0 < capture.latency_s <= 0.01  # 'low': PipeWire's ALSA device reports the block
        await wait_for(lambda: len(frames) >= 5, timeout=3)
        callbacks, drains, sent = capture.callbacks, capture.drains, len(frames)
        await wait_for(lambda: len(frames) >= sent + 50, timeout=4)
        blocks, wakes, new = capture.callbacks - callbacks, capture.drains - drains, len(frames) - sent
        assert 2 * new - 4 <= blocks <= 2 * new + 4  # two blocks a frame
        assert wakes <= new + 3  # one wake-up a frame (a late loop may take two frames in one)
        assert {len(f) for f in frames} == {FRAME_BYTES}
        assert capture.overflows == 0
    finally:
        engine.stop()


async def test_with_the_canceller_the_microphone_keeps_20ms_blocks(pipewire_session) -> None:
    """Speakers mode: ``CAPTURE_BLOCK_MS`` blocks (10 ms made the echo path jump under the canceller
    in the room, see engine.py), one block and one wake-up a frame."""
    frames: list[bytes] = []
    engine = AudioEngine(on_mic_frame=frame_sink(frames), audio_mode="speakers")
    assert engine.audio_mode == "speakers", engine.aec_reason
    engine.start()
    try:
        capture = engine.capture
        assert capture is not None and capture.running
        assert capture.block_ms == CAPTURE_BLOCK_MS == 20.0
        assert capture.blocksize_frames == capture.samplerate * 20 // 1000
        assert 0.0 < capture.latency_s <= 0.02
        await wait_for(lambda: len(frames) >= 5, timeout=3)
        callbacks, sent = capture.callbacks, len(frames)
        await wait_for(lambda: len(frames) >= sent + 25, timeout=3)
        assert abs((capture.callbacks - callbacks) - (len(frames) - sent)) <= 3  # one block a frame
        assert {len(f) for f in frames} == {FRAME_BYTES}
    finally:
        engine.stop()


async def test_switching_the_audio_mode_reopens_the_microphone_in_the_new_modes_block(pipewire_session) -> None:
    """headset → speakers → headset while running: the microphone follows with 20 ms, then 10 ms
    blocks, on the same device, and frames keep coming (20 ms each) after every switch."""
    frames: list[bytes] = []
    engine = AudioEngine(on_mic_frame=frame_sink(frames), audio_mode="headset")
    engine.start()
    try:
        first = engine.capture
        assert first is not None and first.block_ms == 10.0
        device = first.device
        for mode, block in (("speakers", 20.0), ("headset", 10.0)):
            assert engine.set_audio_mode(mode) == mode
            capture = engine.capture
            assert capture is not None and capture.running and capture.block_ms == block
            assert capture.device == device
            assert not first.running  # the old stream is closed
            first, sent = capture, len(frames)
            await wait_for(lambda: len(frames) >= sent + 10, timeout=3)  # noqa: B023 (awaited at once)
        assert {len(f) for f in frames} == {FRAME_BYTES}
    finally:
        engine.stop()
