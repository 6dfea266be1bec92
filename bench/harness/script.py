"""The conversation every client holds: the user's seven questions and the assistant's answer.

Speech is synthesized offline by the project's speech helpers (``tests/helpers/speech.py``: Piper's
natural voice when installed, else eSpeak NG). Questions 6 and 7 are spoken over the answer before
them (barge-in). Every answer is the same 5.0 s of speech, trimmed so its first sample is loud: the
first answer sample at the speaker is then exactly its onset — and with its pauses cut to 10 ms, so
the moment the speaker falls silent after a barge-in is when playback stopped, not a pause between
two words that happened to follow the onset.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

QUESTIONS = (
    "What is the weather like in Paris today?",
    "How far away is the moon?",
    "Can you recommend a good book to read?",
    "What time does the museum open tomorrow?",
    "Tell me a fun fact about octopuses.",
    "Wait, how many legs does a spider have?",
    "Sorry, one more thing, what is two plus two?",
)
BARGE_INS = frozenset({5, 6})  # spoken over the answer to the question before
ANSWER_TEXT = ("Here is a short answer that takes about five seconds to say, so that every client "
               "plays the same sound for the same time, and then it stops.")
ANSWER_S = 5.0
VOICE_USER, VOICE_ASSISTANT = "alloy", "shimmer"
THRESHOLD = 0.01


@dataclass
class Assets:
    questions: list[np.ndarray]  # float32 at 48 kHz (the talker's rate), quiet lead and tail
    answer_wav: Path  # pcm16 24 kHz, exactly ANSWER_S, loud from its first sample
    answer_text: str
    questions_json: Path


def _trim(pcm: np.ndarray) -> np.ndarray:
    x = pcm.astype(np.float32) / 32768.0
    loud = np.flatnonzero(np.abs(x) >= THRESHOLD)
    return x[loud[0] : loud[-1] + 1]


def without_pauses(x: np.ndarray, rate: int = 24000, keep_ms: int = 10) -> np.ndarray:
    """``x`` with every quiet stretch (5 ms pieces whose peak is below the threshold) cut to
    ``keep_ms``: speech that is loud at least every ``keep_ms``."""
    piece = rate // 200
    n = len(x) // piece
    pieces = x[: n * piece].reshape(n, piece)
    quiet = np.abs(pieces).max(axis=1) < THRESHOLD
    keep = np.ones(n, bool)
    run = 0
    for i in range(n):
        run = run + 1 if quiet[i] else 0
        keep[i] = run <= keep_ms // 5
    return pieces[keep].reshape(-1)


def make(out_dir: Path) -> Assets:
    from tests.helpers.speech import read_wav, speech_wav

    out_dir.mkdir(parents=True, exist_ok=True)
    questions = []
    for text in QUESTIONS:
        pcm, _ = read_wav(speech_wav(text, VOICE_USER, 48000, lead_ms=200, tail_ms=200))
        questions.append(pcm.astype(np.float32) / 32768.0)
    pcm, _ = read_wav(speech_wav(ANSWER_TEXT, VOICE_ASSISTANT, 24000, lead_ms=0, tail_ms=0))
    answer = without_pauses(_trim(pcm))
    n = int(ANSWER_S * 24000)
    if len(answer) < n:
        raise RuntimeError(f"the synthesized answer is {len(answer) / 24000:.1f} s, shorter than {ANSWER_S} s")
    answer = answer[:n].copy()
    answer[-240:] *= np.linspace(1.0, 0.0, 240, dtype=np.float32)  # a 10 ms fade, no click at the cut
    answer_wav = out_dir / "answer.wav"
    with wave.open(str(answer_wav), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24000)
        wav.writeframes(np.clip(np.rint(answer * 32767), -32768, 32767).astype("<i2").tobytes())
    questions_json = out_dir / "questions.json"
    questions_json.write_text(json.dumps(list(QUESTIONS)))
    return Assets(questions, answer_wav, ANSWER_TEXT, questions_json)


def headless_input(assets: Assets, silent_s: float, out: Path, gap_s: float = 8.0, barge_s: float = 2.5) -> Path:
    """One WAV for ``parley --headless``: ``silent_s`` of silence, then the questions with room for
    each answer (``gap_s``), the barge-ins ``barge_s`` after the end of the question before."""
    parts = [np.zeros(int(silent_s * 24000), np.float32)]
    for k, q in enumerate(assets.questions):
        if k > 0:
            pause = barge_s if k in BARGE_INS else gap_s
            parts.append(np.zeros(int(pause * 24000), np.float32))
        parts.append(soxr.resample(q, 48000, 24000).astype(np.float32))
    parts.append(np.zeros(int(gap_s * 24000), np.float32))
    x = np.concatenate(parts)
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24000)
        wav.writeframes(np.clip(np.rint(x * 32767), -32768, 32767).astype("<i2").tobytes())
    return out
