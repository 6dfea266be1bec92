"""Changing the length of speech without changing its pitch: WSOLA (waveform-similarity overlap-add).

The synthesizers set the speaking rate natively where they can (Piper's ``length_scale``, eSpeak's
words per minute); :func:`time_stretch` makes up what they cannot reach exactly: eSpeak below its
slowest rate, and Piper, whose phoneme lengths round up so ``length_scale`` is not quite linear.
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.03  # 30 ms frames, overlapping by half in the output
SEARCH_S = 0.01  # each frame may move ±10 ms from its nominal place: a pitch period down to 100 Hz


def time_stretch(audio: np.ndarray, factor: float, rate: int) -> np.ndarray:
    """``audio`` made ``factor`` times as long (below 1: shorter) at the same pitch, as float32.

    Each output frame is taken from around its nominal place in the input, shifted to where it best
    continues the frame before it (highest cross-correlation), so pitch periods line up and the
    overlap-add does not smear them. The result has ``round(len(audio) * factor)`` samples.
    """
    x = np.asarray(audio, dtype=np.float32)
    out_len = round(len(x) * factor)
    if len(x) == 0 or abs(factor - 1.0) < 1e-6:
        return x.copy()
    n = max(4, int(rate * FRAME_S) // 2 * 2)
    hop = n // 2
    tol = max(1, int(rate * SEARCH_S))
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)  # periodic Hann: sums to 1
    frames = (out_len + hop) // hop + 1
    # The output starts one hop early (dropped at the end), so its first samples get two frames too.
    lead = int(hop / factor) + tol + 1
    last = int((frames - 1) * hop / factor) + lead + tol + 2 * n
    padded = np.zeros(max(last, lead + len(x)) + 1, np.float32)
    padded[lead : lead + len(x)] = x
    out = np.zeros(frames * hop + n, np.float32)
    previous = -1
    for k in range(frames):
        nominal = lead + round((k * hop - hop) / factor)
        if previous < 0:
            at = nominal
        else:
            follow = padded[previous + hop : previous + hop + n]  # what would naturally come next
            region = padded[nominal - tol : nominal + tol + n]
            at = nominal - tol + int(np.argmax(np.correlate(region, follow, "valid")))
        out[k * hop : k * hop + n] += padded[at : at + n] * window
        previous = at
    return out[hop : hop + out_len]
