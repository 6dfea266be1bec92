"""Device enumeration, fallback by stable name, hot-plug refresh and the no-device machine."""

from __future__ import annotations

import os
import tempfile

import pytest

from desktop_app.audio import devices
from desktop_app.audio.capture import Capture
from desktop_app.audio.devices import list_devices, resolve_device, stable_name
from desktop_app.audio.playback import Playback
from desktop_app.errors import AudioDeviceError

pytestmark = pytest.mark.audio


def test_lists_the_sessions_devices_with_defaults_and_capabilities() -> None:
    found = list_devices(refresh=True)
    names = {d.name for d in found}
    assert {"default", "pipewire"} <= names
    default_in = [d for d in found if d.is_default_input]
    default_out = [d for d in found if d.is_default_output]
    assert len(default_in) == 1 and len(default_out) == 1
    assert default_in[0].max_input_channels > 0 and default_out[0].max_output_channels > 0
    assert all(d.hostapi == "ALSA" and d.stable_id == f"ALSA:{d.name}" for d in found if not d.server_name)
    # The sound server's own sinks and sources are listed by name (issue #22), and its default is the default.
    served = {d.stable_id: d for d in found if d.server_name}
    assert served["pulse:vsink"].name == "ParleyTestSink" and served["pulse:vsink"].is_default_output
    assert served["pulse:vsink.monitor"].monitor and served["pulse:vsink.monitor"].is_default_input
    assert all(d.default_samplerate > 0 for d in found)


def test_stable_name_drops_the_alsa_card_numbers() -> None:
    assert stable_name("USB Audio Device: - (hw:2,0)") == "USB Audio Device: -"
    assert stable_name("pipewire") == "pipewire"


def test_resolve_finds_a_device_by_stable_id_or_name() -> None:
    device, notice = resolve_device("ALSA:pipewire", "output")
    assert device.name == "pipewire" and notice is None
    device, notice = resolve_device("pipewire", "input")
    assert device.name == "pipewire" and notice is None


def test_a_remembered_device_that_is_gone_falls_back_to_the_default_with_a_notice() -> None:
    device, notice = resolve_device("ALSA:USB Headset (hw:3,0)", "input")
    # With a sound server the default is opened through PortAudio's own default device (issue #22).
    assert device.is_default_input or (device.name == "default" and device.follows_default)
    assert notice == f"The microphone “USB Headset” is not available; using “{device.name}” instead."
    device, notice = resolve_device(None, "output")
    assert (device.is_default_output or device.name == "default") and notice is None


def test_refresh_sees_a_device_plugged_in_and_then_removed(pipewire_session) -> None:
    sink = pipewire_session.add_sink("hotplug")
    try:
        assert sink.alsa_name in {d.name for d in list_devices(refresh=True)}
    finally:
        pipewire_session.remove_sink(sink)
    assert sink.alsa_name not in {d.name for d in list_devices(refresh=True)}


async def test_refresh_waits_while_a_stream_is_open(pipewire_session) -> None:
    before_alsa = {d.name for d in list_devices(refresh=True) if not d.server_name}
    playback = Playback()
    playback.start()
    sink = pipewire_session.add_sink("later")
    try:
        assert devices.open_stream_count() == 1
        during = list_devices(refresh=True)
        assert {d.name for d in during if not d.server_name} == before_alsa  # postponed, stream unharmed
        assert "pulse:later" in {d.stable_id for d in during}  # the sound server's list needs no re-init
        assert playback.running
        playback.stop()
        assert sink.alsa_name in {d.name for d in list_devices(refresh=True)}
    finally:
        playback.stop()
        pipewire_session.remove_sink(sink)
        list_devices(refresh=True)


async def test_a_machine_without_audio_devices_gets_a_clear_error_not_a_crash(pipewire_session) -> None:
    saved = {key: os.environ.pop(key) for key in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp()  # no sound server there: PortAudio finds nothing
    try:
        assert list_devices(refresh=True) == []
        with pytest.raises(AudioDeviceError) as info:
            resolve_device("ALSA:pipewire", "input")
        assert info.value.user_message == "No microphone was found; connect one and choose it on the Audio tab."
        with pytest.raises(AudioDeviceError) as info:
            Playback().start()
        assert "No speaker" in info.value.user_message
        with pytest.raises(AudioDeviceError):
            Capture().start()
        assert devices.open_stream_count() == 0
    finally:
        os.environ.update(saved)
        list_devices(refresh=True)
    assert "default" in {d.name for d in list_devices(refresh=False)}
