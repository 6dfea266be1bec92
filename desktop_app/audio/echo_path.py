"""The linear echo path microphone ← reference, fitted on echo-only audio (:class:`EchoPath`): the
onset pre-roll's estimate of the user's voice under the assistant's (:mod:`.onset_preroll`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from desktop_app.audio.codecs import PCM_RATE
from desktop_app.audio.levels import frame_db

FRAME = PCM_RATE // 100  # the canceller's 10 ms frame
TAPS = 4096  # echo-path length after its bulk delay (170 ms: a room's tail)
_MARGIN = 480  # taps kept before the strongest (20 ms: resampler pre-ringing, early reflections)
MAX_LAG = 7200  # bulk delays looked for (300 ms: lead + device latencies + air)
_SEGMENT = 8192  # Welch segment for the cross-spectrum
_REALIGN = 720  # how far (samples, 30 ms) a segment's echo may have moved from the strongest tap's lag


def _segment_lags(cross: np.ndarray, segment: int) -> tuple[np.ndarray, int, int]:
    """Each segment's echo lag relative to the strongest tap's (``_MARGIN``), read from its own
    cross-correlation within ±``_REALIGN``; the newest clear lag; the first segment of the newest run
    that agrees with it (±1 ms). Segments without a clear peak take the newest lag.

    The canceller's pairing of microphone and reference can move by a few milliseconds within the
    fitted stretch (samples lost on the way in are re-paired only beyond 5 ms; a resumed speaker's
    first DAC time is a little off): a cross-spectrum summed over segments at different lags cancels
    itself out."""
    corr = np.fft.irfft(cross, segment, axis=1)
    near = np.abs(corr[:, (_MARGIN + np.arange(-_REALIGN, _REALIGN + 1)) % segment])
    lags = np.argmax(near, axis=1) - _REALIGN
    clear = near.max(axis=1) > 4.0 * np.median(np.abs(corr), axis=1)  # a peak standing out of the rest
    trusted = np.nonzero(clear)[0]
    newest = int(lags[trusted[-1]]) if len(trusted) else 0
    lag = np.where(clear, lags, newest)
    agree = np.abs(lag - newest) <= PCM_RATE // 1000
    first = len(agree)
    while first > 0 and agree[first - 1]:
        first -= 1
    return lag, newest, first


@dataclass(frozen=True)
class EchoPath:
    """The linear echo path microphone ← reference: a bulk delay (``shift`` samples) and ``h``.

    :meth:`fit` estimates it from echo-only audio by Welch's cross-spectrum after aligning the
    strongest lag; ``erle_db`` is how much of the fitted audio's last half second it removes.
    """

    shift: int
    h: np.ndarray
    erle_db: float
    _spectra: dict[int, np.ndarray] = field(default_factory=dict, compare=False, repr=False)  # rfft(h) by size

    @property
    def span(self) -> int:
        """Reference samples needed before the first microphone sample estimated."""
        return self.shift + len(self.h) - 1

    @classmethod
    def fit(cls, ref: np.ndarray, near: np.ndarray) -> EchoPath | None:
        """The path from ``ref`` to ``near`` (same length, same timeline), or None when the
        reference is silent or too short."""
        n = len(near)
        # Long segments fit best (a Hann window biases the taps away from its centre); a short
        # stretch — the pairing moved, or the answer just began — gets short ones.
        segment = _SEGMENT if n >= 4 * _SEGMENT else _SEGMENT // 2
        if n < 2 * segment or frame_db(ref) < -60.0:
            return None
        x, y = ref.astype(np.float64), near.astype(np.float64)
        m = min(n, PCM_RATE)  # the bulk delay from the last second
        size = 1 << int(np.ceil(np.log2(m + MAX_LAG)))
        corr = np.fft.irfft(np.fft.rfft(y[n - m :], size) * np.conj(np.fft.rfft(x[n - m :], size)), size)[:MAX_LAG]
        shift = max(0, int(np.argmax(np.abs(corr))) - _MARGIN)
        if n - shift < segment:
            return None
        window = np.hanning(segment)
        # all segments in one transform each (numpy's FFT lets the audio callbacks run meanwhile)
        fx = np.fft.rfft(sliding_window_view(x[: n - shift], segment)[:: segment // 2] * window, axis=1)
        fy = np.fft.rfft(sliding_window_view(y[shift:], segment)[:: segment // 2] * window, axis=1)
        cross = fy * np.conj(fx)
        sxx = (fx.real**2 + fx.imag**2).sum(axis=0)
        sxx += 1e-6 * sxx.max() + 1e-20
        taps = min(TAPS, segment // 2)
        lag, newest, first = _segment_lags(cross, segment)
        aligned = cross * np.exp(-2j * np.pi * np.outer(newest - lag, np.arange(cross.shape[1])) / segment)
        power = fx.real**2 + fx.imag**2
        # as paired; every segment moved to the newest lag; only the newest segments that agree —
        # whichever cancels the latest audio best (a room's strong reflection can pass for a lag)
        fits = [(cross.sum(axis=0), sxx), (aligned.sum(axis=0), sxx)]
        if 0 < first < len(cross) - 1:
            fits.append((aligned[first:].sum(axis=0), power[first:].sum(axis=0) + 1e-6 * sxx.max() + 1e-20))
        paths = [cls(shift, np.fft.irfft(c / p, segment)[:taps], 0.0).rated(x, y) for c, p in fits]
        return max(paths, key=lambda p: p.erle_db)

    def rated(self, ref: np.ndarray, near: np.ndarray) -> EchoPath:
        """This path with ``erle_db`` measured on the last half second of ``near`` (-inf when it
        is too short; unchanged when the assistant was silent there: nothing to measure on)."""
        n = len(near)
        tail = min(n - self.span, PCM_RATE // 2)
        erle = -np.inf
        if tail >= FRAME * 10 and frame_db(ref[n - tail :]) < -50.0:
            return self
        if tail >= FRAME * 10:
            residual = self.residual(ref[n - tail - self.span :], near[n - tail :])
            erle = frame_db(near[n - tail :]) - frame_db(residual)
        return EchoPath(self.shift, self.h, float(erle), self._spectra)

    def echo(self, ref: np.ndarray) -> np.ndarray:
        """The echo of ``ref`` at the microphone, for the ``len(ref) - span`` samples after its
        first :attr:`span` (those only feed the filter)."""
        x = ref[: len(ref) - self.shift] if self.shift else ref
        taps = len(self.h)
        size = 1 << int(np.ceil(np.log2(len(x) + taps - 1)))
        spectrum = self._spectra.get(size)
        if spectrum is None:
            spectrum = self._spectra[size] = np.fft.rfft(self.h, size)
        y: np.ndarray = np.fft.irfft(np.fft.rfft(x, size) * spectrum, size)[taps - 1 : len(x)]
        return y

    def residual(self, ref: np.ndarray, near: np.ndarray) -> np.ndarray:
        """``near`` minus the echo of ``ref``, where ``ref`` holds :attr:`span` samples more,
        before ``near``'s first."""
        out: np.ndarray = near - self.echo(ref)
        return out


# The echo path of a room with no echo (the guard's ``no_echo``): the linear estimate is the microphone
# itself, which AEC3's suppressor would hide for the first 50-200 ms of a barge-in.
NULL_PATH = EchoPath(0, np.zeros(1, np.float32), math.inf)
