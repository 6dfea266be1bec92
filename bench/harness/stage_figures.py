"""Per-stage delays of the microphone path from the stage marks of one window run (pure)."""

from __future__ import annotations

from typing import Any

from bench.harness.analysis import Utterance

STAGES = (
    "acoustic onset → ADC time stamp",
    "ADC → input callback",
    "callback → canceller out",
    "canceller → 20 ms frame",
    "frame → append handed to the transport",
    "transport → server onset",
    "total",
)
SEND_CALL = "(inside the transport: send() called → returned)"
WINDOW_S = 1.0  # a stage's onset belongs to the question whose onset came at most this long before


def _first(marks: list[dict[str, Any]], stage: str, after: float, key: str = "t") -> dict[str, Any] | None:
    for m in marks:
        if m.get("stage", m.get("ev")) == stage and after <= m[key] < after + WINDOW_S:
            return m
    return None


def stage_deltas(utterances: list[Utterance], stage_marks: list[dict[str, Any]],
                 server_onsets: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Seconds spent in each of :data:`STAGES`, one value per question whose onset every stage saw."""
    out: dict[str, list[float]] = {s: [] for s in (*STAGES, SEND_CALL)}
    marks = sorted(stage_marks, key=lambda m: m["t"])
    server = sorted(server_onsets, key=lambda m: m["t"])
    for u in utterances:
        start = u.onset - 0.05
        callback = _first(marks, "callback", start, key="adc")
        canceller = _first(marks, "canceller", start)
        frame = _first(marks, "frame", start)
        socket = _first(marks, "send", start)
        onset = _first(server, "onset", start)
        if None in (callback, canceller, frame, socket, onset):
            continue
        assert callback and canceller and frame and socket and onset
        chain = [u.onset, callback["adc"], callback["t"], canceller["t"], frame["t"], socket["t"], onset["t"]]
        for stage, a, b in zip(STAGES, chain, chain[1:], strict=False):
            out[stage].append(b - a)
        out["total"].append(onset["t"] - u.onset)
        out[SEND_CALL].append(socket["returned"] - socket["t"])
    return out
