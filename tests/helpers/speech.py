"""Synthesized speech for end-to-end tests: ``speech_wav("What is two plus three?") -> Path``.

The audio comes from the local server's offline synthesizer (Piper's natural voice when installed,
else eSpeak NG), so it is real speech that VAD and ASR treat like a person talking. Files are cached
per test run (same text, voice, rate and engine → same file).

    from tests.helpers.speech import speech_wav, read_wav
    path = speech_wav("What time is it?", voice="alloy", rate=24000)
    pcm, rate = read_wav(path)
"""

from __future__ import annotations

import hashlib
import tempfile
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np
import soxr

from desktop_app.local_server.speech.tts import RATE, synthesize

_DIR = Path(tempfile.mkdtemp(prefix="parley-speech-"))


@lru_cache(maxsize=None)
def speech_wav(text: str, voice: str = "alloy", rate: int = 24000, engine: str = "auto",
               lead_ms: int = 300, tail_ms: int = 700) -> Path:
    """A mono 16-bit WAV of ``text`` spoken in GA ``voice`` at ``rate`` Hz, with silence around it."""
    pcm, _ = synthesize(text, voice, engine)
    audio = np.concatenate([np.zeros(RATE * lead_ms // 1000, np.int16), pcm, np.zeros(RATE * tail_ms // 1000, np.int16)])
    if rate != RATE:
        audio = soxr.resample(audio.astype(np.float32) / 32768.0, RATE, rate)
        audio = np.clip(audio * 32768.0, -32768, 32767).astype(np.int16)
    digest = hashlib.sha1(f"{text}|{voice}|{rate}|{engine}|{lead_ms}|{tail_ms}".encode()).hexdigest()[:16]
    return write_wav(_DIR / f"speech-{digest}.wav", audio, rate)


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> Path:
    """``pcm`` (int16 samples) as a mono 16-bit WAV at ``path``."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.astype("<i2").tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """``(int16 samples, rate)`` of a mono 16-bit WAV."""
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").copy(), wav.getframerate()
