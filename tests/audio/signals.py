"""Signal helpers for the audio tests: tones, frequency estimation, envelopes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from desktop_app.audio.capture_chain import FRAME_BYTES
from desktop_app.audio.codecs import float_to_pcm16, pcm16_to_float


def frame_sink(frames: list[bytes]) -> Callable[[bytes], None]:
    """An ``on_frame`` that keeps what the capture hands on as 20 ms frames: a piece of several whole
    frames (a drain that completed more than one, a hold's release) is split into them; anything
    else (an onset's early partial frame, a broken piece) is kept as it came, for the size checks."""

    def take(piece: bytes) -> None:
        if piece and len(piece) % FRAME_BYTES == 0:
            frames.extend(piece[i : i + FRAME_BYTES] for i in range(0, len(piece), FRAME_BYTES))
        else:
            frames.append(piece)

    return take


def tone(freq: float, rate: int, seconds: float, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(rate * seconds))) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def tone_pcm(freq: float, seconds: float, level: float = 0.5, rate: int = 24000) -> bytes:
    return float_to_pcm16(tone(freq, rate, seconds, level)).tobytes()


def frames_to_float(frames: list[bytes]) -> np.ndarray:
    return pcm16_to_float(b"".join(frames))


def dominant_hz(x: np.ndarray, rate: int) -> float:
    """Frequency of the strongest component, refined by parabolic interpolation of the log spectrum."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) + 1e-12
    k = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2])
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return float((k + offset) * rate / len(x))


def tone_purity_db(x: np.ndarray, rate: int, freq: float, width_hz: float = 60.0) -> float:
    """Energy within ±width of ``freq`` over everything else, in dB (how clean a tone came through)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    hz = np.fft.rfftfreq(len(x), 1 / rate)
    inside = spectrum[np.abs(hz - freq) <= width_hz].sum()
    outside = spectrum[np.abs(hz - freq) > width_hz].sum() + 1e-20
    return float(10 * np.log10(inside / outside))


def sine_breaks(x: np.ndarray, rate: int, freq: float, tolerance: float = 0.05) -> int:
    """Samples where a steady sine at ``freq`` breaks off: a gap, a skip or a repeated stretch.

    A pure sine obeys x[n] = 2·cos(ω)·x[n-1] − x[n-2]; a resampler's error stays far below
    ``tolerance`` (in full-scale units), a lost or repeated block jumps far above it.
    """
    if len(x) < 3:
        return 0
    c = 2 * np.cos(2 * np.pi * freq / rate)
    residual = x[2:] - c * x[1:-1] + x[:-2]
    return int(np.count_nonzero(np.abs(residual) > tolerance))


def envelope(x: np.ndarray, rate: int, window_ms: float = 1.0) -> np.ndarray:
    """RMS envelope over non-overlapping windows of ``window_ms``."""
    n = max(1, int(rate * window_ms / 1000))
    m = len(x) // n
    return np.sqrt(np.mean(x[: m * n].reshape(m, n) ** 2, axis=1))


def active_span(x: np.ndarray, rate: int, threshold: float, window_ms: float = 1.0) -> tuple[float, float]:
    """(start_ms, end_ms) of the part of ``x`` whose envelope exceeds ``threshold``."""
    env = envelope(x, rate, window_ms)
    idx = np.nonzero(env > threshold)[0]
    if len(idx) == 0:
        return (float("nan"), float("nan"))
    return (idx[0] * window_ms, (idx[-1] + 1) * window_ms)


def steady_part(x: np.ndarray, rate: int, threshold: float = 0.05, trim_ms: float = 20.0) -> np.ndarray:
    """The active part of ``x`` without its first and last ``trim_ms`` (onset/offset transients)."""
    start, end = active_span(x, rate, threshold)
    if np.isnan(start):
        return x[:0]
    a = int((start + trim_ms) * rate / 1000)
    b = int((end - trim_ms) * rate / 1000)
    return x[a:b]
