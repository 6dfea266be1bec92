"""Levels (dBFS, speech energy) and the resampler / FIFO helpers."""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from desktop_app.audio.levels import FLOOR_DBFS, SpeechEnergy, dbfs, peak_dbfs
from desktop_app.audio.resample import FirDecimator, FrameFifo, StreamResampler, downmix
from tests.audio.signals import dominant_hz, sine_breaks, tone, tone_purity_db

RATES = [8000, 16000, 24000, 44100, 48000]


def test_dbfs_of_a_full_scale_sine_and_of_silence() -> None:
    assert dbfs(tone(1000, 48000, 0.1, level=1.0)) == pytest.approx(-3.01, abs=0.01)
    assert peak_dbfs(tone(1000, 48000, 0.1, level=0.5)) == pytest.approx(-6.02, abs=0.01)
    assert dbfs(np.zeros(480, np.float32)) == FLOOR_DBFS
    assert dbfs(np.zeros(0, np.float32)) == FLOOR_DBFS


def test_speech_energy_tracks_the_noise_floor_up_slowly() -> None:
    meter = SpeechEnergy(block_ms=20)
    hum = tone(100, 24000, 0.02, level=0.01)
    for _ in range(500):  # 10 s of steady hum becomes the floor
        meter.update(hum)
    assert meter.probability < 0.1
    assert meter.floor_dbfs == pytest.approx(dbfs(hum), abs=0.5)


@pytest.mark.parametrize("in_rate", RATES)
@pytest.mark.parametrize("out_rate", RATES)
def test_1khz_stays_1khz_at_every_rate_pair(in_rate: int, out_rate: int) -> None:
    resampler = StreamResampler(in_rate, out_rate)
    x = tone(1000, in_rate, 1.0)
    step = in_rate // 100  # 10 ms chunks: the bursty case
    y = np.concatenate([resampler.process(x[i : i + step]) for i in range(0, len(x), step)] + [resampler.flush()])
    assert len(y) == out_rate  # nothing lost or invented over the stream
    mid = y[out_rate // 10 : -out_rate // 10]
    assert abs(dominant_hz(mid, out_rate) - 1000) < 0.2
    assert tone_purity_db(mid, out_rate, 1000) > 60


@pytest.mark.parametrize("block", [960, 441, 1])
def test_low_delay_decimator_returns_every_block_at_once_with_a_constant_1_ms_delay(block: int) -> None:
    resampler = StreamResampler(48000, 24000, 1, "LD")
    assert isinstance(resampler._stream, FirDecimator)
    x = np.zeros(48000, np.float32)
    x[24000] = 1.0  # an impulse at 0.5 s
    fed = out = 0
    held = []
    chunks = []
    for i in range(0, len(x), block):
        y = resampler.process(x[i : i + block])
        fed, out = fed + len(x[i : i + block]), out + len(y)
        held.append(fed // 2 - out)
        chunks.append(y)
    assert max(held) <= 1  # nothing held back (soxr "LQ": up to 490 samples with 960-frame blocks)
    tail = resampler.flush()
    assert len(tail) == 24  # the look-ahead, drained at the end
    y = np.concatenate(chunks + [tail])
    assert int(np.argmax(y)) == 12000 + 24  # 1 ms late, exactly


def test_low_delay_decimator_passes_speech_and_stops_what_would_alias() -> None:
    for hz, lo, hi in ((1000, -0.1, 0.1), (8000, -0.1, 0.1), (9500, -1.0, 0.1), (13000, -200, -70), (20000, -200, -70)):
        resampler = StreamResampler(48000, 24000, 1, "LD")
        x = tone(hz, 48000, 0.5)
        y = np.concatenate([resampler.process(x[i : i + 960]) for i in range(0, len(x), 960)])[1200:-1200]
        gain = dbfs(y) - dbfs(x)
        assert lo <= gain <= hi, (hz, gain)


def test_low_delay_asked_for_at_another_ratio_falls_back_to_soxr() -> None:
    resampler = StreamResampler(44100, 24000, 1, "LD")
    assert not isinstance(resampler._stream, FirDecimator) and resampler.quality == "LQ"
    x = tone(1000, 44100, 0.5)
    y = np.concatenate([resampler.process(x[i : i + 882]) for i in range(0, len(x), 882)] + [resampler.flush()])
    assert len(y) == 12000


def test_fifo_hands_fixed_frames_from_bursty_pushes() -> None:
    fifo = FrameFifo(480, capacity=1000)
    pushed = np.arange(5000, dtype=np.float32)
    sizes = [0, 830, 0, 830, 1660, 0, 830, 850]
    out, pos = [], 0
    frame = np.empty(480, np.float32)
    for size in sizes:
        fifo.push(pushed[pos : pos + size])
        pos += size
        while fifo.pop_into(frame):
            out.append(frame.copy())
    np.testing.assert_array_equal(np.concatenate(out), pushed[: len(out) * 480])
    assert len(fifo) == pos - len(out) * 480
    np.testing.assert_array_equal(fifo.take(), pushed[len(out) * 480 : pos])


def test_downmix_averages_channels() -> None:
    stereo = np.array([[1.0, 0.0], [0.5, 0.5]], dtype=np.float32)
    np.testing.assert_array_equal(downmix(stereo), [0.5, 0.5])


def test_sine_breaks_finds_a_gap_a_skip_and_nothing_in_a_clean_resampled_tone():
    clean = tone(1000, 24000, 0.5)
    assert sine_breaks(clean, 24000, 1000) == 0
    gap = clean.copy()
    gap[6000:6048] = 0  # 2 ms of silence
    skip = np.concatenate([clean[:6000], clean[6013:]])  # 13 samples lost mid-period
    assert sine_breaks(gap, 24000, 1000) > 0 and sine_breaks(skip, 24000, 1000) > 0
    resampled = soxr.resample(tone(1000, 44100, 0.5), 44100, 24000, quality="VHQ").astype(np.float32)
    assert sine_breaks(resampled[100:-100], 24000, 1000) == 0
