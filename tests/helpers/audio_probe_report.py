"""What an :class:`~tests.helpers.audio_probe.AudioProbe` recorded, as text: :func:`summary`, one line
of figures for a passing run (to compare runs), and :func:`report`, the timeline a failure message
carries — events, long garbage collections, late output callbacks and jumps of the DAC timeline, how
late each resume after idle was stamped, per answer how deeply the echo was cancelled, and the echo
guard's decisions around each focus time. The probe's :meth:`~tests.helpers.audio_probe.AudioProbe.summary`
and :meth:`~tests.helpers.audio_probe.AudioProbe.report` call these; they only read what it recorded.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tests.helpers.audio_probe import AudioProbe


def summary(probe: AudioProbe) -> str:
    """One line of figures for a passing run (to compare runs)."""
    trace = probe.guard_frames
    users = np.zeros(len(trace), bool)
    for start, seconds, _ in probe.user:
        users |= (trace[:, 0] >= start) & (trace[:, 0] <= start + seconds + 1.5)  # pw-cat starts late
    echo = trace[(trace[:, 1] > -60) & ~users]  # the assistant audible, the user silent
    c = probe.counters
    late = [float(what.rsplit("stamped ", 1)[1].split(" ms")[0]) for _, what in _resumes(probe)]
    sent, muted = echo[echo[:, 9] > 0], echo[echo[:, 9] == 0]  # what reached the server, what did not
    sent_max = float(np.nanmax(sent[:, 3])) if len(sent) else float("nan")
    muted_max = float(np.nanmax(muted[:, 3])) if len(muted) else float("nan")
    loads = [lo[0] for _, lo, _ in probe.loads]
    busy = [b for _, _, b in probe.loads if not np.isnan(b)]
    return (f"{time.monotonic() - probe.t0:.0f} s; load {min(loads, default=0):.2f}–{max(loads, default=0):.2f}, "
            f"cores busy ≤ {100 * max(busy, default=0):.0f} %; GC {len(probe.gcs)} runs, longest "
            f"{max((g[1] for g in probe.gcs), default=0.0):.1f} ms; output underflows {c.get('OUTPUT UNDERFLOWS')}, "
            f"input overflows {c.get('INPUT OVERFLOWS')}, output timeline breaks {len(_output_events(probe))}, "
            f"resumes stamped late by {min(late, default=0.0):+.1f}…{max(late, default=0.0):+.1f} ms; "
            f"re-warm-ups {c.get('guard re-warm-ups')}, re-pairings {c.get('canceller re-pairings')}, "
            f"frames without reference {c.get('canceller frames without reference')}; echo frames "
            f"{len(echo)}, their excess max {np.nanmax(echo[:, 4]) if len(echo) else float('nan'):.1f} dB, "
            f"residual sent max {sent_max:.1f} dBFS (muted: {muted_max:.1f}); "
            f"server speech starts {len(probe.speech_started)}, unexpected {len(probe.unexpected_speech())}")


def report(probe: AudioProbe, focus: list[float] | None = None, window: tuple[float, float] = (-1.5, 0.4)) -> str:
    """The timeline as text: events, long collections, late callbacks, load; then the guard's
    decisions around each ``focus`` time (default: every unexpected speech start)."""
    t0 = probe.t0
    focus = probe.unexpected_speech() if focus is None else focus
    lines = [f"--- audio probe: {time.monotonic() - t0:.1f} s recorded ---"]
    lines += [f"load {lo[0]:.2f}/{lo[1]:.2f}/{lo[2]:.2f}, both cores {100 * busy:.0f} % busy at {t - t0:7.2f}"
              for t, lo, busy in probe.loads[:: max(1, len(probe.loads) // 12)]]
    long_gcs = [g for g in probe.gcs if g[1] >= 5.0]
    lines.append(f"garbage collections: {len(probe.gcs)}, {len(long_gcs)} of them ≥ 5 ms, longest "
                 f"{max((g[1] for g in probe.gcs), default=0.0):.1f} ms; gc frozen objects {gc.get_freeze_count()}")
    events = list(probe.events)
    events += [(g[0], f"GC generation {g[2]} took {g[1]:.1f} ms ({g[3]} collected)") for g in long_gcs]
    events += _output_events(probe) + _resumes(probe)
    events += [(f, "<<< FOCUS") for f in focus]
    lines += [f"{t - t0:8.3f}  {what}" for t, what in sorted(events)]
    lines += _answer_lines(probe)
    for f in focus:
        lines += _trace_lines(probe, f + window[0], f + window[1])
    return "\n".join(lines)


def _output_events(probe: AudioProbe) -> list[tuple[float, str]]:
    out = probe.output_blocks
    if len(out) < 2:
        return []
    events = []
    rate = probe.engine.echo.far.rate or 48000
    period = float(np.median(out[:, 2])) / rate
    gaps = np.diff(out[:, 0])
    resumed = gaps > 0.3  # the stream was suspended while idle: not a break
    events += [(out[k + 1, 0], f"output callback {1000 * gaps[k]:.0f} ms after the previous one")
               for k in np.flatnonzero((gaps > period + 0.015) & ~resumed)]
    jump = out[1:, 1] - (out[:-1, 1] + out[:-1, 2] / rate)
    # PortAudio's DAC estimates jitter by ±6 ms in pairs; the reference breaks a run at 15 ms
    events += [(out[k + 1, 0], f"DAC timeline jumped {1000 * jump[k]:+.1f} ms")
               for k in np.flatnonzero((np.abs(jump) > 0.010) & ~resumed)]
    return events


def _resumes(probe: AudioProbe) -> list[tuple[float, str]]:
    """Each resume after idle, with how late its first block's DAC time was stamped against the
    run's later blocks: the reference timeline of the answer that follows is anchored there."""
    out = probe.output_blocks
    gaps = np.diff(out[:, 0]) if len(out) > 1 else np.zeros(0)
    rate = probe.engine.echo.far.rate or 48000
    events = []
    for k in np.flatnonzero(gaps > 0.3) + 1:
        run = out[k : k + 100]
        breaks = np.flatnonzero(np.diff(run[:, 0]) > 0.3)
        run = run[: breaks[0] + 1] if len(breaks) else run
        anchors = run[:, 1] - np.concatenate(([0.0], np.cumsum(run[:-1, 2]))) / rate
        later = anchors[1:6]  # the next blocks only: an underflow soon after would move the median
        late_ms = 1000 * (anchors[0] - float(np.median(later))) if len(later) else 0.0
        events.append((out[k, 0], f"output stream resumed after {gaps[k - 1]:.1f} s idle; "
                                  + f"its first DAC time stamped {late_ms:+.1f} ms late"))
    return events


def _answer_lines(probe: AudioProbe) -> list[str]:
    """Per answer (the assistant playing): how deeply the echo was cancelled, its worst 100 ms,
    how many frames were muted and how close the residual came to being taken for speech."""
    playing = [t for t, what in probe.events if what == "assistant playing"]
    silent = [t for t, what in probe.events if what == "assistant silent"]
    trace = probe.guard_frames
    lines = ["answers (cancellation = microphone − residual on the assistant's frames alone):"]
    for start in playing:
        end = min([t for t in silent if t > start], default=time.monotonic())
        rows = trace[(trace[:, 0] >= start) & (trace[:, 0] <= end + 0.1)]
        echo = rows[(rows[:, 1] > -60) & (rows[:, 5] == 0)]
        if not len(echo):
            continue
        depth = echo[:, 2] - echo[:, 3]
        sent = float(np.nanmax(echo[echo[:, 9] > 0, 3])) if (echo[:, 9] > 0).any() else float("nan")
        worst = min((float(np.median(depth[k : k + 10])) for k in range(0, max(1, len(depth) - 9), 5)),
                    default=float("nan"))
        lines.append(f"  {start - probe.t0:7.2f}–{end - probe.t0:7.2f} s: median {np.median(depth):5.1f} dB, worst "
                     f"100 ms {worst:5.1f} dB, {int((rows[:, 9] == 0).sum())} frames muted, max excess "
                     f"{np.nanmax(rows[:, 4]):5.1f} dB, residual sent max {sent:6.1f} dBFS")
    return lines


def _trace_lines(probe: AudioProbe, a: float, b: float) -> list[str]:
    trace = probe.guard_frames
    rows = trace[(trace[:, 0] >= a) & (trace[:, 0] <= b)]
    head = (f"echo guard frames {a - probe.t0:.2f}…{b - probe.t0:.2f} s "
            "(ADC time; dBFS; excess = residual − threshold):")
    lines = [head, "      t     far    near     res  excess score spk warm dist gain  erle"]
    interesting = rows[(rows[:, 4] > -12) | (rows[:, 5] > 0) | (rows[:, 9] < 1) | (rows[:, 8] > 0)]
    shown = interesting if len(interesting) <= 80 else interesting[:: len(interesting) // 80 + 1]
    for r in shown:
        lines.append(f"{r[0] - probe.t0:8.2f} {r[1]:6.1f} {r[2]:7.1f} {r[3]:7.1f} {r[4]:7.1f} {r[5]:5.1f} "
                     f"{int(r[6]):3d} {int(r[7]):4d} {int(r[8]):4d} {r[9]:4.2f} {r[10]:5.1f}")
    if len(rows):
        lines.append(f"  ({len(rows)} frames, {len(interesting)} shown as interesting; max excess "
                     f"{np.nanmax(rows[:, 4]):.1f} dB, residual max {np.nanmax(rows[:, 3]):.1f} dBFS)")
    else:
        lines.append("  (no guard frames recorded there)")
    return lines
