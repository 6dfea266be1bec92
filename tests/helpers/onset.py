"""Where a known utterance lies in a recording, and where its first word starts there.

A test that plays a synthesized sentence into the room knows the sentence exactly but not when the
room played it. :func:`locate` finds it in any recording of the room — the raw microphone, or the
audio the client sent to the server, where the assistant's echo is gone but the first syllables may
be too — by cross-correlation (FFT, so a minute of audio costs milliseconds). The probe is a later
part of the sentence, which a canceller lets through whole; the sentence's start follows from it.

    at = locate(sent, sentence, probe_from=0.6 * len(sentence))   # sample index of sentence[0] in sent
    onset = at + first_sound(sentence)                            # its first audible sample
"""

from __future__ import annotations

import numpy as np

FRAME = 240  # 10 ms at 24 kHz


def frame_db(x: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """Mean power of each whole 10 ms frame, dBFS (float in [-1, 1])."""
    x = np.asarray(x, dtype=np.float64)
    frames = x[: len(x) // frame * frame].reshape(-1, frame)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


def first_sound(x: np.ndarray, below_peak_db: float = 30.0) -> int:
    """The first sample of the first 10 ms frame within ``below_peak_db`` of the loudest frame."""
    db = frame_db(x)
    return int(np.argmax(db > db.max() - below_peak_db)) * FRAME


def locate(recording: np.ndarray, sentence: np.ndarray, probe_from: int, probe_len: int | None = None) -> tuple[int, float]:
    """``(index, score)``: where ``sentence[0]`` lies in ``recording`` (may be negative when the
    recording starts inside it), found by the probe ``sentence[probe_from:probe_from+probe_len]``;
    ``score`` is the normalised correlation at that point (1.0: the probe is there unchanged)."""
    rec = np.asarray(recording, dtype=np.float64)
    probe = np.asarray(sentence[probe_from : probe_from + probe_len if probe_len else None], dtype=np.float64)
    n = 1 << int(np.ceil(np.log2(len(rec) + len(probe))))
    corr = np.fft.irfft(np.fft.rfft(rec, n) * np.conj(np.fft.rfft(probe, n)), n)[: len(rec) - len(probe) + 1]
    at = int(np.argmax(np.abs(corr)))
    window = rec[at : at + len(probe)]
    score = float(abs(corr[at]) / (np.linalg.norm(window) * np.linalg.norm(probe) + 1e-20))
    return at - probe_from, score
