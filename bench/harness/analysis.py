"""From a run's raw material — the talker's utterances, the probes' recordings, the server's marks —
to per-turn latencies. Pure functions (no devices, no clock), so they are unit-tested.

Per question *k* (spoken at DAC time ``onset``…``end`` into the microphone sink):

* **mic → server**: the server's onset mark (the append carrying the first loud sample arrived;
  with VAD on, ``speech_started`` left at that moment) minus the talker's onset;
* **end → answer**: the first loud sample of the answer at the speaker (``spk`` probe, at or after
  the response's first delta was sent) minus the end of the question;
* **delta → speaker**: the same sample minus the time the response's first delta was sent;
* **barge-in → silent** (questions spoken over an answer): the last loud sample at the speaker
  between the onset and the next answer, minus the onset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

THRESHOLD = 0.01


@dataclass
class Utterance:
    index: int
    onset: float
    end: float


@dataclass
class Timeline:
    """A recording and the line that dates its samples (sample i at ``t0 + i·dt``)."""

    x: np.ndarray
    t0: float
    dt: float

    def index(self, t: float) -> int:
        return int(np.clip(round((t - self.t0) / self.dt), 0, len(self.x)))

    def time(self, i: float) -> float:
        return self.t0 + i * self.dt

    def first_loud(self, start: float, stop: float) -> float | None:
        a, b = self.index(start), self.index(stop)
        loud = np.flatnonzero(np.abs(self.x[a:b]) >= THRESHOLD)
        return self.time(a + int(loud[0])) if len(loud) else None

    def last_loud(self, start: float, stop: float) -> float | None:
        a, b = self.index(start), self.index(stop)
        loud = np.flatnonzero(np.abs(self.x[a:b]) >= THRESHOLD)
        return self.time(a + int(loud[-1])) if len(loud) else None


@dataclass
class TurnFigures:
    index: int
    barge: bool
    mic_to_server: float | None = None
    end_to_answer: float | None = None
    delta_to_speaker: float | None = None
    barge_to_silent: float | None = None
    notes: list[str] = field(default_factory=list)


def _first(marks: list[dict[str, Any]], ev: str, after: float, before: float = float("inf"),
           **match: Any) -> dict[str, Any] | None:
    for m in marks:
        if m["ev"] == ev and after <= m["t"] < before and all(m.get(k) == v for k, v in match.items()):
            return m
    return None


def turn_figures(utterances: list[Utterance], barge_ins: frozenset[int], marks: list[dict[str, Any]],
                 speaker: Timeline | None) -> list[TurnFigures]:
    """The figures of every question (see the module docstring); ``speaker`` None: no device output
    to measure (headless)."""
    marks = sorted(marks, key=lambda m: m["t"])
    out = []
    for n, u in enumerate(utterances):
        f = TurnFigures(u.index, u.index in barge_ins)
        onset = _first(marks, "onset", u.onset - 0.05, u.end + 0.5)
        if onset is None:
            f.notes.append("the server heard no onset")
        else:
            f.mic_to_server = onset["t"] - u.onset
        response = _first(marks, "response", u.onset)
        nxt = utterances[n + 1].onset if n + 1 < len(utterances) else float("inf")
        delta = None
        if response is not None and response["t"] < nxt + 0.5:
            delta = _first(marks, "first_delta", response["t"], response_id=response["response_id"])
        if delta is None:
            f.notes.append("no answer started")
        elif speaker is not None:
            heard = speaker.first_loud(delta["t"], delta["t"] + 3.0)
            if heard is None:
                f.notes.append("the answer never reached the speaker")
            else:
                f.end_to_answer = heard - u.end
                f.delta_to_speaker = heard - delta["t"]
        if f.barge and speaker is not None:
            if speaker.last_loud(u.onset - 0.2, u.onset) is None:
                f.notes.append("the speaker was silent at the onset (nothing to interrupt)")
            else:
                stop = delta["t"] if delta is not None else u.end + 1.0
                last = speaker.last_loud(u.onset, stop)
                f.barge_to_silent = (last - u.onset) if last is not None else 0.0
        out.append(f)
    return out


def summary(values: list[float | None]) -> dict[str, float | int | None]:
    """p50, p95, min, max (seconds) and count of the known values."""
    known = np.array([v for v in values if v is not None], dtype=np.float64)
    if not len(known):
        return {"n": 0, "p50": None, "p95": None, "min": None, "max": None}
    return {"n": len(known), "p50": float(np.percentile(known, 50)), "p95": float(np.percentile(known, 95)),
            "min": float(known.min()), "max": float(known.max())}
