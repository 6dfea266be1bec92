"""Cheap level figures for meters: dBFS and a local speech-energy estimate.

Both run once per block (10–20 ms) on arrays already in hand, costing one dot product each. The
speech figure is not a VAD that decides anything — the server's VAD does that — it is what the
microphone meter shows: how far the level stands above a tracked noise floor, squashed to 0…1.
"""

from __future__ import annotations

import math

import numpy as np

FLOOR_DBFS = -100.0


def frame_db(x: np.ndarray) -> float:
    """A 1-D frame's mean power in dB, down to −120 (the echo guard's and the echo path's figure)."""
    p = float(np.dot(x, x)) / max(len(x), 1)
    return 10.0 * math.log10(p) if p > 1e-12 else -120.0


def dbfs(x: np.ndarray) -> float:
    """RMS level in dB relative to full scale (a full-scale sine reads −3.01 dBFS), any shape, down
    to :data:`FLOOR_DBFS` (the meters' figure)."""
    return max(FLOOR_DBFS, frame_db(x.reshape(-1)))


def noise_floor(floor: float | None, level: float) -> float:
    """A noise floor's next estimate: down at once, up 3 dB/s (speech never becomes the floor)."""
    return max(level, -100.0) if floor is None or level < floor else min(level, floor + 0.03)


def peak_dbfs(x: np.ndarray) -> float:
    """Peak level in dBFS."""
    if x.size == 0:
        return FLOOR_DBFS
    peak = float(np.max(np.abs(x)))
    return FLOOR_DBFS if peak <= 1e-5 else max(FLOOR_DBFS, 20.0 * math.log10(peak))


class SpeechEnergy:
    """Tracks a noise floor and reports how speech-like the current level is, 0…1.

    The floor follows the level down at once and up slowly (``rise_db_per_s``), so a steady hum
    becomes the floor within seconds while syllables stand out. ``probability`` is a logistic of the
    level's height above the floor (``threshold_db`` → 0.5), smoothed with a fast attack and a slower
    release so the meter does not flicker between syllables.
    """

    def __init__(
        self,
        block_ms: float = 20.0,
        threshold_db: float = 9.0,
        slope_db: float = 2.5,
        rise_db_per_s: float = 3.0,
        min_floor_dbfs: float = -75.0,
    ) -> None:
        self.block_s = block_ms / 1000.0
        self.threshold_db = threshold_db
        self.slope_db = slope_db
        self.rise_db = rise_db_per_s * self.block_s
        self.min_floor = min_floor_dbfs
        self.floor_dbfs: float | None = None  # set by the first block
        self.level_dbfs = FLOOR_DBFS
        self.probability = 0.0
        self._attack = 1.0 - math.exp(-self.block_s / 0.02)
        self._release = 1.0 - math.exp(-self.block_s / 0.15)

    def update(self, x: np.ndarray) -> float:
        """Feed one block; returns the smoothed speech probability."""
        level = dbfs(x)
        self.level_dbfs = level
        floor = self.floor_dbfs
        if floor is None or level < floor:
            floor = max(level, self.min_floor)
        else:
            floor = min(level, floor + self.rise_db)
        self.floor_dbfs = floor
        height = level - floor
        raw = 1.0 / (1.0 + math.exp(-(height - self.threshold_db) / self.slope_db))
        rate = self._attack if raw > self.probability else self._release
        self.probability += rate * (raw - self.probability)
        return self.probability

    def reset(self) -> None:
        self.floor_dbfs = None
        self.level_dbfs = FLOOR_DBFS
        self.probability = 0.0
