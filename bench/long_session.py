"""Memory over a long conversation (#23): is Parley's window's RSS flat over a 60-minute session?

Parley's window as ``parley`` runs it (Xvfb, the real audio engine in speakers mode: echo
cancellation on), on the bench's room and scripted server (``bench/harness``, as ``bench/peers.py``),
holds one conversation for ``--minutes`` (default 60): the seven questions over and over, each 1.5 s
after the previous answer (5 s of speech) was sent in full — about six turns a minute, a busy hour:
~360 turns, their transcripts, ~30 minutes of answers played and an hour of microphone streamed.
The client's RSS (process tree) is sampled every second.

Prints the RSS at 1, 2, 5, 10, 15, 20, 30, 40, 50 and 60 minutes (and the end), the growth from the
end of minute 2 (every code path warmed up) to the end, the least-squares slope over the same span
(MiB per hour) and the peak; exit 0 when the growth is under the budget (20 MB). The session limit
is the server's default (the client refreshes its session two minutes before its 60-minute limit:
a long run includes that reconnection and the replay of the conversation into the new session).

Run: ``make bench-long-session`` or ``.venv/bin/python bench/long_session.py [--minutes 60]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import report, script
from bench.harness.clients import ParleyWindow
from bench.harness.conversation import PAUSE_S, SETTLE_S, Bench, loadavg
from bench.harness.procstat import Meter
from bench.harness.room import Talker

BUDGET_MB = 20.0
WARM_S = 120.0
CHECKPOINTS_MIN = (1, 2, 5, 10, 15, 20, 30, 40, 50, 60)


def rss_at(trace: list[tuple[float, float]], t0: float, seconds: float) -> float | None:
    """The last sample at or before ``t0 + seconds``."""
    before = [rss for t, rss in trace if t <= t0 + seconds]
    return before[-1] if before else None


def converse(bench: Bench, client: ParleyWindow, minutes: float) -> tuple[Meter, float, int]:
    """Run ``client`` through questions until ``minutes`` have passed; returns the meter, the start
    of the conversation and the number of answers heard in full."""
    assert bench.assets is not None
    env = dict(os.environ, **bench.room.client_env(), DISPLAY=bench.display)
    client.xvfb_pid = None
    talker = Talker()
    talker.start()
    started = time.monotonic()
    client.start(env, bench.url, bench.work / "long-session")
    meter = Meter(client.pid)
    answered = 0
    try:
        bench._wait(lambda: client.ready() and bench._connected(started), 90, "the client to connect", client)
        bench._idle(SETTLE_S, meter)
        t0 = time.monotonic()
        conns = lambda: bench.server_log.conns_since(started)  # several after a refresh
        k = 0
        while time.monotonic() - t0 < minutes * 60:
            said = len(talker.said)
            talker.say(k % len(script.QUESTIONS), bench.assets.questions[k % len(script.QUESTIONS)])
            bench._wait(lambda said=said: len(talker.said) > said, 30, "the talker", client, meter)  # type: ignore[misc]
            onset = talker.said[-1].onset
            response = bench._wait_mark(conns, "response", onset, meter, client)
            if response is not None:
                done = bench._wait_mark(conns, "response_done", response["t"], meter, client,
                                        response_id=response["response_id"])
                answered += done is not None
            if not client.alive():
                raise RuntimeError(f"the window exited after {(time.monotonic() - t0) / 60:.1f} min")
            bench._idle(PAUSE_S, meter)
            k += 1
            if k % 30 == 0:
                print(f"  {(time.monotonic() - t0) / 60:5.1f} min: {k} questions, RSS {meter.rss_trace[-1][1]:.1f} MiB "
                      f"(load {loadavg()})", flush=True)
        meter.sample()
        return meter, t0, answered
    finally:
        client.stop()
        talker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--mode", default="speakers", choices=["speakers", "headset"])
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--tracemalloc", type=Path, help="write the window's allocation growth by line here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parley-bench-long-"))
    print(f"machine: {report.machine()}")
    print(f"load average at the start: {loadavg()}")
    client = ParleyWindow(args.mode, tracemalloc=args.tracemalloc)
    try:
        with Bench(work) as bench:
            print(f"== {client.name}, {args.minutes:g} minutes (load {loadavg()})", flush=True)
            meter, t0, answered = converse(bench, client, args.minutes)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    trace = meter.rss_trace
    end = trace[-1][0] - t0
    print(f"\n{client.name}: {end / 60:.1f} minutes, {answered} answers heard in full (load {loadavg()})\n")
    print("| minutes into the conversation | RSS (MiB) |\n|---|---|")
    for minute in [m for m in CHECKPOINTS_MIN if m * 60 <= end] + [end / 60]:
        rss = rss_at(trace, t0, minute * 60)
        print(f"| {minute:.1f} | {rss:.1f} |" if rss is not None else f"| {minute:.1f} | – |")
    warm = rss_at(trace, t0, WARM_S)
    span = [(t - t0, rss) for t, rss in trace if t - t0 >= WARM_S]
    peak = max(rss for _, rss in trace)
    if warm is None or len(span) < 2:
        print("\n(too short to judge the growth: run at least 3 minutes)")
        return 1
    growth_mb = (trace[-1][1] - warm) * 1.048576  # MiB → MB
    slope = float(np.polyfit([t for t, _ in span], [r for _, r in span], 1)[0]) * 3600
    print(f"\ngrowth from minute {WARM_S / 60:.0f} to the end: {trace[-1][1] - warm:+.1f} MiB ({growth_mb:+.1f} MB; "
          f"budget < {BUDGET_MB:.0f} MB); slope {slope:+.1f} MiB per hour; peak {peak:.1f} MiB")
    return 0 if growth_mb < BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
