"""A device that fails mid-stream: one clear error, the stream released, the engine able to go on.

The failing device is PortAudio's ``pulse`` device with its server ended under it (see
``tests/plugins/pipewire.py`` for why that, and not a removed sink, reproduces an unplug).
"""

from __future__ import annotations

import pytest

from desktop_app.audio import devices
from desktop_app.audio.capture import Capture
from desktop_app.audio.engine import AudioEngine
from desktop_app.audio.playback import Playback
from desktop_app.audio.playback_queue import PlaybackQueue
from desktop_app.errors import AudioDeviceError
from tests.audio.signals import tone_pcm
from tests.plugins.pipewire import wait_for

pytestmark = pytest.mark.audio

FAILING = "ALSA:pulse"


@pytest.fixture
def pulse_server(pipewire_session):
    """Restarts the pulse server after a test that ended it."""
    yield pipewire_session
    if not pipewire_session._pactl_ok("info"):
        pipewire_session.start_pulse_server()


def expected_message(label: str) -> str:
    return f"The {label} “pulse” stopped working or was disconnected; choose another device on the Audio tab."


async def test_speaker_failing_mid_stream_stops_with_one_clear_error(pulse_server) -> None:
    errors: list[AudioDeviceError] = []
    queue = PlaybackQueue()
    playback = Playback(FAILING, queue, on_error=errors.append)
    playback.start()
    queue.enqueue("a", tone_pcm(440, 3.0))
    await wait_for(lambda: queue.report("a").played_ms > 100, timeout=3)
    pulse_server.stop_pulse_server()
    await wait_for(lambda: errors, timeout=3)
    assert [e.user_message for e in errors] == [expected_message("speaker")]
    assert not errors[0].fatal and "pulse" in errors[0].detail
    await wait_for(lambda: devices.open_stream_count() == 0, timeout=3)
    assert not playback.running
    assert 100 < queue.report("a").played_ms < 3000  # the item's place is kept
    playback.stop()  # safe after a failure
    assert len(errors) == 1


async def test_microphone_failing_mid_stream_stops_with_one_clear_error(pulse_server) -> None:
    errors: list[AudioDeviceError] = []
    frames: list[bytes] = []
    capture = Capture(FAILING, on_frame=frames.append, on_error=errors.append)
    capture.start()
    await wait_for(lambda: len(frames) > 5, timeout=3)
    pulse_server.stop_pulse_server()
    await wait_for(lambda: errors, timeout=3)
    assert [e.user_message for e in errors] == [expected_message("microphone")]
    await wait_for(lambda: devices.open_stream_count() == 0, timeout=3)
    sent = len(frames)
    capture.stop()
    assert len(frames) == sent and len(errors) == 1


async def test_engine_carries_the_conversation_over_to_another_speaker(pulse_server) -> None:
    errors: list[AudioDeviceError] = []
    engine = AudioEngine(on_error=errors.append)
    engine.start("ALSA:pipewire", FAILING)
    try:
        engine.queue.enqueue("a", tone_pcm(440, 1.5))
        engine.queue.finish("a")
        await wait_for(lambda: engine.queue.report("a").played_ms > 200, timeout=3)
        pulse_server.stop_pulse_server()
        await wait_for(lambda: errors, timeout=3)
        at_failure = engine.queue.report("a").played_ms
        assert engine.capture is not None and engine.capture.running  # the microphone is unaffected
        engine.switch_devices(output_name="ALSA:pipewire")
        await wait_for(lambda: not engine.queue.is_playing, timeout=4)
        # the rest of the item played on the new speaker (at most the old resampler's few ms lost)
        assert engine.queue.report("a").played_ms >= 1470
        assert 200 < at_failure < 1400 and len(errors) == 1
        assert engine.playback is not None and engine.playback.device.name == "pipewire"
    finally:
        engine.stop()


async def test_a_switch_to_a_device_that_cannot_open_keeps_the_old_one(pulse_server) -> None:
    engine = AudioEngine()
    engine.start("ALSA:pipewire", "ALSA:pipewire")
    try:
        old_playback, old_capture = engine.playback, engine.capture
        engine.queue.enqueue("a", tone_pcm(440, 0.5))
        pulse_server.stop_pulse_server()  # "pulse" is still listed but can no longer be opened
        with pytest.raises(AudioDeviceError) as info:
            engine.switch_devices(output_name=FAILING)
        assert info.value.user_message.startswith("The speaker “pulse” could not be opened")
        with pytest.raises(AudioDeviceError):
            engine.switch_devices(input_name=FAILING)
        assert engine.playback is old_playback and old_playback is not None and old_playback.running
        assert engine.capture is old_capture and old_capture is not None and old_capture.running
        await wait_for(lambda: engine.queue.report("a").played_ms == 500, timeout=3)
        assert devices.open_stream_count() == 2
    finally:
        engine.stop()
