""""Tune for this room": measure the speaker→microphone path and propose audio settings.

:class:`RoomProbe` plays a short sequence on the chosen output while recording the chosen input —
a second of silence (noise floor), a logarithmic sweep (output→input delay by cross-correlation, echo
return loss), speech-like noise run through the real echo canceller (ERLE), then the user saying one
sentence (speaking level) — and :func:`analyse` turns the recordings into a :class:`Measurement` and
a :class:`Proposal` (audio mode, VAD threshold, silence duration, the delay and ERL for the canceller).

Times come from the devices' own DAC/ADC timestamps, exactly as the canceller pairs them, so the
delay measured here is the one to hand it. The analysis is pure numpy on the recordings: it is
tested on synthetic signals as well as on a PipeWire room with a known delay and gain.

Sign convention: ERL (echo return loss) is how much quieter the echo is than what was played, in dB
(positive: quieter); ERLE is how much more the canceller removes.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
import soxr

from desktop_app.audio.echo_control import EchoControl
from desktop_app.audio.capture import Capture
from desktop_app.audio.codecs import PCM_RATE, float_to_pcm16
from desktop_app.audio.devices import DeviceInfo
from desktop_app.audio.playback import Playback
from desktop_app.audio.playback_queue import PlaybackQueue

R = PCM_RATE
SWEEP = (100.0, 8000.0, 1.0, -12.0)  # from Hz, to Hz, seconds, dBFS (peak)
NOISE_S, BABBLE_S, GAP_S = 1.0, 3.0, 0.3
SPEAK_S = 5.0
NO_ECHO_ERL_DB = 40.0  # an echo this far below what was played is no echo path (a headset)
_HFP = re.compile(r"hands[- ]?free|\bhfp\b|head[-_ ]?unit|\bhsp\b", re.I)


def sweep(f0: float = SWEEP[0], f1: float = SWEEP[1], seconds: float = SWEEP[2], dbfs: float = SWEEP[3]) -> np.ndarray:
    """An exponential sine sweep with 20 ms raised-cosine edges (float32, 24 kHz)."""
    n = int(seconds * R)
    t = np.arange(n) / R
    k = math.log(f1 / f0)
    x = np.sin(2 * np.pi * f0 * seconds / k * (np.exp(t * k / seconds) - 1.0))
    edge = R // 50
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
    x[:edge] *= ramp
    x[-edge:] *= ramp[::-1]
    return (10 ** (dbfs / 20) * x).astype(np.float32)


def babble(seconds: float = BABBLE_S, dbfs: float = -24.0, seed: int = 7) -> np.ndarray:
    """Speech-like noise: pink-ish noise under a 4 Hz syllable envelope (what the canceller learns on)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * R)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    hz = np.fft.rfftfreq(n, 1 / R)
    spectrum *= 1.0 / np.sqrt(np.maximum(hz, 100.0)) * (hz < 7000)
    x = np.fft.irfft(spectrum, n)
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * np.arange(n) / R + rng.uniform(0, 6.28))
    x *= env
    x *= 10 ** (dbfs / 20) / (np.sqrt(np.mean(x**2)) + 1e-12)
    return x.astype(np.float32)


def frame_levels(x: np.ndarray, frame: int = R // 50) -> np.ndarray:
    """dBFS of consecutive 20 ms frames."""
    m = len(x) // frame
    if m == 0:
        return np.zeros(0)
    f = x[: m * frame].reshape(m, frame).astype(np.float64)
    levels: np.ndarray = 10 * np.log10(np.mean(f**2, axis=1) + 1e-12)
    return levels


def level_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-12)) if len(x) else -120.0


def delay_by_correlation(far: np.ndarray, near: np.ndarray, max_lag: int) -> tuple[int, float]:
    """Lag (samples, near after far) maximising the PHAT-weighted cross-correlation, and how clearly
    it stands out (peak over the 99th percentile, dB; below ~10 dB there is no echo to speak of)."""
    n = len(far) + len(near)
    size = 1 << (n - 1).bit_length()
    cross = np.fft.rfft(near, size) * np.conj(np.fft.rfft(far, size))
    cross /= np.abs(cross) + 1e-12
    cc = np.fft.irfft(cross, size)
    window = np.concatenate((cc[: max_lag + 1], cc[size - max_lag // 4 :]))  # allow a little "negative"
    lags = np.concatenate((np.arange(max_lag + 1), np.arange(-(max_lag // 4), 0)))
    k = int(np.argmax(np.abs(window)))
    peak = abs(window[k])
    floor = float(np.percentile(np.abs(window), 99)) + 1e-12
    return int(lags[k]), float(20 * np.log10(max(peak, 1e-12) / floor))


@dataclass
class Recording:
    """What the probe captured: the reference and the microphone on one 24 kHz time axis."""

    far: np.ndarray  # what was handed to the speaker
    raw: np.ndarray  # the microphone, before the canceller
    cleaned: np.ndarray  # the same, after it (empty when the canceller is unavailable)
    marks: dict[str, tuple[int, int]]  # phase → (start, end) sample on that axis
    speech: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # the user's sentence
    input_rate: int = 48000
    input_name: str = ""
    output_name: str = ""
    timing_ok: bool = True
    attempts: int = 1


@dataclass
class Measurement:
    delay_ms: float | None  # output→input, in the canceller's timestamp terms (None: no echo found)
    erl_db: float | None  # echo return loss (None: no echo path)
    erle_db: float | None  # what the canceller removed on top, after convergence
    noise_floor_dbfs: float
    speech_dbfs: float | None  # the user's speaking level (None: not heard)
    echo_path: bool
    bluetooth_hfp: bool
    plot: tuple[np.ndarray, np.ndarray, np.ndarray]  # seconds, level before, level after (the ERLE phase)


@dataclass
class Proposal:
    audio_mode: str
    vad_threshold: float
    silence_duration_ms: int
    delay_ms: float
    erl_db: float | None
    notes: list[str]


def is_bluetooth_hfp(device: DeviceInfo | None, rate: int | None = None) -> bool:
    """A Bluetooth headset in its hands-free profile: named so, or a microphone at 8/16 kHz."""
    if device is None:
        return False
    return bool(_HFP.search(device.name)) or (rate or device.default_samplerate) <= 16000


def analyse(rec: Recording, hfp: bool = False) -> Measurement:
    a, b = rec.marks["noise"]
    noise = level_db(rec.raw[a + R // 5 : b])  # skip the first 200 ms (device start-up)
    a, b = rec.marks["sweep"]
    span = slice(a, b + R // 2)
    lag, clarity = delay_by_correlation(rec.far[span], rec.raw[span], max_lag=R // 2)
    echo_path = clarity >= 10.0
    delay_ms = erl = erle = None
    if echo_path:
        delay_ms = 1000.0 * lag / R
        played = rec.far[a:b]
        heard = rec.raw[a + lag : b + lag]
        echo_p = max(10 ** (level_db(heard) / 10) - 10 ** (noise / 10), 1e-12)
        erl = level_db(played) - 10 * math.log10(echo_p)
        echo_path = erl < NO_ECHO_ERL_DB
    t: np.ndarray = np.zeros(0)
    before: np.ndarray = t
    after: np.ndarray = t
    if "babble" in rec.marks and len(rec.cleaned):
        a, b = rec.marks["babble"]
        before, after = frame_levels(rec.raw[a:b]), frame_levels(rec.cleaned[a:b])
        t = np.arange(len(before)) * 0.02
        if echo_path:
            half = slice(a + (b - a) // 2, b)  # converged: the second half
            erle = level_db(rec.raw[half]) - level_db(rec.cleaned[half])
    speech = None
    if len(rec.speech):
        levels = frame_levels(rec.speech)
        active = levels[levels > noise + 10.0]
        if len(active) >= 10:  # 200 ms of voice at least
            speech = float(10 * np.log10(np.mean(10 ** (active / 10))))
    return Measurement(delay_ms, erl if echo_path else None, erle, noise, speech, echo_path, hfp, (t, before, after))


def propose(m: Measurement, aec_available: bool = True) -> Proposal:
    """Settings for the measured room, each with the reason in ``notes``."""
    notes: list[str] = []
    if not m.echo_path:
        mode = "headset"
        notes.append("No echo path: the microphone does not hear the speaker (a headset), so echo "
                     "cancellation is off and adds no latency.")
    elif aec_available:
        mode = "speakers"
        notes.append(f"The microphone hears the speaker ({m.erl_db:.0f} dB below what is played): echo "
                     "cancellation stays on.")
    else:
        mode = "ducking"
        notes.append("The microphone hears the speaker and echo cancellation is unavailable: the "
                     "microphone is gated while the assistant talks; speak up to interrupt it.")
    if m.bluetooth_hfp:
        notes.append("Bluetooth hands-free: the headset runs its microphone at 8/16 kHz (narrowband speech) "
                     "and cancels its own echo; playback quality is reduced while the microphone is in use.")
        mode = "headset" if not m.echo_path else mode
    snr = None if m.speech_dbfs is None else m.speech_dbfs - m.noise_floor_dbfs
    if snr is None:
        threshold = 0.5
        notes.append("Your voice was not heard; the VAD threshold stays at its default.")
    else:
        threshold = 0.5 if snr >= 30 else 0.6 if snr >= 20 else 0.7 if snr >= 12 else 0.8
        notes.append(f"Your voice stands {snr:.0f} dB above the room's noise: VAD threshold {threshold:.1f}.")
    if mode == "speakers" and m.erle_db is not None and m.erle_db < 25:
        threshold = min(0.9, threshold + 0.1)
        notes.append(f"The canceller removed only {m.erle_db:.0f} dB here: the threshold is raised a step.")
    silence = 500 + (100 if snr is not None and snr < 20 else 0) + (100 if mode == "ducking" else 0)
    if m.noise_floor_dbfs > -45:
        notes.append(f"The room is noisy ({m.noise_floor_dbfs:.0f} dBFS).")
    return Proposal(mode, round(threshold, 2), silence, m.delay_ms or 0.0, m.erl_db, notes)


Progress = Callable[[str, float], None]


class RoomProbe:
    """Runs the measurement on real devices (its own streams; the conversation's stay untouched)."""

    def __init__(self, input_name: str | None = None, output_name: str | None = None,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.input_name, self.output_name = input_name, output_name
        self._loop = loop
        self._far: list[tuple[float, np.ndarray]] = []
        self._near: list[tuple[float, np.ndarray]] = []
        self._cleaned: list[np.ndarray] = []
        self.control = EchoControl("speakers")
        self.control.set_listening(False)  # the canceller's own output, in time: no onset pre-roll

    def _output_hook(self, block: np.ndarray, dac: float) -> None:
        self.control.output_hook(block, dac)
        self._far.append((dac, block.copy()))  # a few seconds only: allocation is fine here

    def _process(self, x: np.ndarray, t: float | None) -> np.ndarray:
        self._near.append((time.monotonic() if t is None else t, x.copy()))
        y = self.control.process(x, t)
        self._cleaned.append(y.copy())
        return y

    async def run(self, ask_to_speak: Callable[[], Awaitable[None]] | None = None,
                  progress: Progress | None = None, attempts: int = 3) -> Recording:
        """Play and record the sequence; ``ask_to_speak()`` is awaited before the user's sentence
        is recorded (the dialog shows the prompt there), for ``SPEAK_S`` seconds.

        A take whose timestamps jump (the audio server dropped or inserted a period: seen at stream
        start-up on PipeWire, ~10–50 ms) cannot give a delay; it is played again, up to ``attempts``."""
        say = progress or (lambda what, fraction: None)
        queue = PlaybackQueue(prebuffer_ms=20)
        playback = Playback(self.output_name, queue, loop=self._loop, output_hook=self._output_hook,
                            idle_suspend_s=None)
        capture = Capture(self.input_name, 20.0, None, self._loop)
        capture.set_processor(self._process)
        playback.start(standby=True)
        self.control.far.set_rate(playback.samplerate)
        playback.activate()
        try:
            capture.start()
            for attempt in range(attempts):  # noqa: B007 — the count is reported after the loop
                self._far.clear()
                self._near.clear()
                self._cleaned.clear()
                marks = await self._play_sequence(queue, say)
                rec = self._recording(marks, capture)
                if rec.timing_ok:
                    break
                say("The audio timing jumped; measuring again…", 0.1)
            if ask_to_speak is not None:
                await ask_to_speak()
                say("Say the sentence now…", 0.75)
                mark = len(self._near)
                await asyncio.sleep(SPEAK_S)
                if len(self._near) > mark:
                    rec.speech = np.concatenate([x for _, x in self._near[mark:]])
            say("Done.", 1.0)
        finally:
            capture.stop()
            playback.stop()
        rec.attempts = attempt + 1
        return rec

    async def _play_sequence(self, queue: PlaybackQueue, say: Progress) -> dict[str, tuple[float, float]]:
        marks: dict[str, tuple[float, float]] = {}
        gap = np.zeros(int(GAP_S * R), np.float32)
        say("Listening to the room's noise…", 0.05)
        t0 = time.monotonic()
        await asyncio.sleep(NOISE_S)
        marks["noise"] = (t0, time.monotonic())
        for phase, signal, text, share in (("sweep", sweep(), "Playing a sweep…", 0.25),
                                           ("babble", babble(), "Testing the echo canceller…", 0.5)):
            say(text, share)
            item = f"calibration-{phase}-{time.monotonic()}"
            queue.enqueue(item, float_to_pcm16(np.concatenate((signal, gap))).tobytes())
            queue.finish(item)
            start = len(self._far)
            while queue.report(item).played_samples < len(signal) + len(gap):
                await asyncio.sleep(0.02)
            first = next((dac for dac, block in self._far[start:] if np.any(block)), None)
            if first is None:
                raise RuntimeError("the speaker played nothing")
            marks[phase] = (first, first + len(signal) / R)
        await asyncio.sleep(0.2)  # the echo's tail
        return marks

    def _recording(self, marks: dict[str, tuple[float, float]], capture: Capture) -> Recording:
        # Each side's time axis: the median over the take (after its first 0.5 s, where start-up
        # jumps happen) of stamp − position; a spread beyond 3 ms means the stream jumped.
        rate = self.control.far.rate
        t_near, near_ok = _anchor([t for t, _ in self._near], [len(x) for _, x in self._near], R)
        t_far, far_ok = _anchor([t for t, _ in self._far], [len(b) for _, b in self._far], rate)
        raw = np.concatenate([x for _, x in self._near])
        played = np.concatenate([b for _, b in self._far])
        played = soxr.resample(played, rate, R).astype(np.float32) if rate != R else played
        far = np.zeros(len(raw), np.float32)
        k = int(round((t_far - t_near) * R))
        lo, hi = max(k, 0), min(k + len(played), len(far))
        if hi > lo:
            far[lo:hi] = played[lo - k : hi - k]
        cleaned = np.concatenate(self._cleaned)
        cleaned = np.concatenate((cleaned, np.zeros(max(0, len(raw) - len(cleaned)), np.float32)))[: len(raw)]
        spans = {name: (int((a - t_near) * R), int((b - t_near) * R)) for name, (a, b) in marks.items()}
        device = capture.device
        return Recording(far, raw, cleaned, spans, input_rate=capture.samplerate,
                         input_name=device.name if device else "", output_name=self.output_name or "",
                         timing_ok=near_ok and far_ok)


def _anchor(stamps: list[float], sizes: list[int], rate: int, skip_s: float = 0.5) -> tuple[float, bool]:
    """The time of position 0 from per-block stamps (median, past the first ``skip_s``), and whether
    the stamps agree with the sample count (no jump) to 3 ms."""
    positions = np.cumsum([0] + sizes[:-1]) / rate
    offsets = np.asarray(stamps) - positions
    used = offsets[positions >= min(skip_s, positions[-1])]
    lo, hi = np.percentile(used, [5, 95])
    return float(np.median(used)), bool(hi - lo <= 0.003)
