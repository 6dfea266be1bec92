"""The calibration's analysis and proposals on synthetic recordings (no devices)."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.audio.calibration import (
    R, Measurement, Recording, analyse, babble, delay_by_correlation, frame_levels, is_bluetooth_hfp, propose,
    sweep,
)
from desktop_app.audio.devices import DeviceInfo


def room_recording(delay_ms: float, gain: float, noise_dbfs: float = -65.0, speech_dbfs: float | None = -26.0,
                   seed: int = 1) -> Recording:
    """What the probe would record in a room: the sequence played, its echo, noise and a voice."""
    rng = np.random.default_rng(seed)
    noise_s, gap = R, np.zeros(R // 3, np.float32)
    s, b = sweep(), babble()
    far = np.concatenate((np.zeros(noise_s, np.float32), s, gap, b, gap)).astype(np.float32)
    d = int(delay_ms * R / 1000)
    echo = np.zeros_like(far)
    echo[d:] = gain * far[: len(far) - d]
    raw = (echo + rng.standard_normal(len(far)) * 10 ** (noise_dbfs / 20) / 1.0).astype(np.float32)
    cleaned = (raw - echo + 0.001 * echo).astype(np.float32)  # a canceller worth 60 dB
    marks = {"noise": (0, noise_s), "sweep": (noise_s, noise_s + len(s)),
             "babble": (noise_s + len(s) + len(gap), noise_s + len(s) + len(gap) + len(b))}
    voice = np.zeros(0, np.float32)
    if speech_dbfs is not None:
        t = np.arange(2 * R) / R
        syllables = (np.sin(2 * np.pi * 3 * t) > 0).astype(np.float32)  # voiced half the time
        tone = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t)
        tone *= 10 ** (speech_dbfs / 20) / np.sqrt(np.mean(tone**2))
        voice = (np.concatenate((np.zeros(R // 2), tone * syllables, np.zeros(R // 2)))
                 + rng.standard_normal(3 * R) * 10 ** (noise_dbfs / 20)).astype(np.float32)
    return Recording(far, raw, cleaned, marks, voice)


@pytest.mark.parametrize("delay_ms", [0.0, 23.5, 180.0])
def test_delay_is_found_to_a_sample_by_phase_correlation(delay_ms: float) -> None:
    rec = room_recording(delay_ms, 0.3)
    m = analyse(rec)
    assert m.delay_ms == pytest.approx(delay_ms, abs=1000 / R)


@pytest.mark.parametrize("gain", [1.0, 0.5, 0.1, 0.03])
def test_echo_return_loss_is_the_played_level_over_the_heard_level(gain: float) -> None:
    m = analyse(room_recording(30.0, gain))
    assert m.echo_path and m.erl_db == pytest.approx(-20 * np.log10(gain), abs=0.5)
    quiet = analyse(room_recording(30.0, gain, noise_dbfs=-150.0))  # ERLE is raw over cleaned: noise limits it
    assert quiet.erle_db == pytest.approx(60.0, abs=1.0 if gain >= 0.1 else 2.0)


def test_noise_floor_and_speaking_level() -> None:
    m = analyse(room_recording(30.0, 0.5, noise_dbfs=-55.0, speech_dbfs=-24.0))
    assert m.noise_floor_dbfs == pytest.approx(-55.0, abs=0.5)
    assert m.speech_dbfs == pytest.approx(-24.0, abs=1.0)
    silent = analyse(room_recording(30.0, 0.5, speech_dbfs=None))
    assert silent.speech_dbfs is None


def test_no_echo_path_is_a_headset_and_proposes_headset_mode() -> None:
    m = analyse(room_recording(30.0, 0.0))
    assert not m.echo_path and m.delay_ms is None and m.erl_db is None
    p = propose(m)
    assert p.audio_mode == "headset" and any("headset" in n for n in p.notes)


def test_an_echo_far_below_what_was_played_counts_as_no_echo_path() -> None:
    m = analyse(room_recording(30.0, 10 ** (-45 / 20), noise_dbfs=-110.0))
    assert not m.echo_path


@pytest.mark.parametrize(("name", "rate", "hfp"), [
    ("WH-1000XM4 Hands-Free AG Audio", 48000, True),
    ("bluez_input.00_1B_66.headset-head-unit", 48000, True),
    ("Jabra Evolve HFP", 48000, True),
    ("Built-in Microphone", 16000, True),
    ("Built-in Microphone", 48000, False),
    ("USB Audio CODEC", 44100, False),
])
def test_bluetooth_hands_free_is_recognised_by_name_or_narrowband_rate(name: str, rate: int, hfp: bool) -> None:
    device = DeviceInfo(0, name, name, "ALSA", 1, 0, float(rate))
    assert is_bluetooth_hfp(device) is hfp


def test_proposals_follow_the_room() -> None:
    quiet = propose(analyse(room_recording(30.0, 0.5, noise_dbfs=-70.0, speech_dbfs=-24.0)))
    assert (quiet.audio_mode, quiet.vad_threshold, quiet.silence_duration_ms) == ("speakers", 0.5, 500)
    assert quiet.delay_ms == pytest.approx(30.0, abs=0.1) and quiet.erl_db == pytest.approx(6.0, abs=0.5)
    noisy = propose(analyse(room_recording(30.0, 0.5, noise_dbfs=-40.0, speech_dbfs=-26.0)))
    assert noisy.vad_threshold == 0.8 and noisy.silence_duration_ms == 600
    assert any("noisy" in n for n in noisy.notes)
    no_aec = propose(analyse(room_recording(30.0, 0.5)), aec_available=False)
    assert no_aec.audio_mode == "ducking" and no_aec.silence_duration_ms == 600
    bt = Measurement(None, None, None, -60.0, -25.0, False, True, (np.zeros(0),) * 3)
    p = propose(bt)
    assert p.audio_mode == "headset" and any("8/16 kHz" in n for n in p.notes)


def test_the_plot_holds_levels_before_and_after_the_canceller() -> None:
    t, before, after = analyse(room_recording(30.0, 0.5, noise_dbfs=-120.0)).plot
    assert len(t) == len(before) == len(after) > 100
    assert np.median(before - after) == pytest.approx(60.0, abs=2.0)


def test_signals_are_what_they_claim() -> None:
    s = sweep()
    assert np.max(np.abs(s)) == pytest.approx(10 ** (-12 / 20), rel=0.01)
    spectrum = np.abs(np.fft.rfft(s))
    hz = np.fft.rfftfreq(len(s), 1 / R)
    band = (hz > 150) & (hz < 7000)
    assert spectrum[band].min() > 0.1 * spectrum[band].max()  # covers the speech band
    assert 10 * np.log10(np.mean(10 ** (frame_levels(babble()) / 10))) == pytest.approx(-24.0, abs=0.5)
    lag, clarity = delay_by_correlation(s, np.zeros_like(s), R // 2)
    assert clarity < 10.0  # silence has no echo
