"""Event-log benchmark: memory and per-frame cost over a simulated 60-minute hands-free session.

Feeds the app's frame observer — ``ConversationLog.frame_observer``, what the window's controllers
are given: the observatory (event log + monitor + usage/spend/error dispatch) and the history's
audio tap (recording off, the default) — with a session's worth of frames on a simulated clock: the
microphone's 50 appends a second (50 ms of PCM each) for the whole hour, the assistant answering
half of the time (100 ms audio deltas, transcript deltas) and the per-turn events of a turn every
15 s. The spill file goes to a temp folder, written by its own thread as in the app.

Prints the RSS growth from before the first frame to after the last (budget: < 20 MB), the
per-frame cost of the observer (mean, p50, p99) and what that is as a share of one core at the
session's frame rate, and the spill file's size. Exit 0 when the memory budget holds.

Run: ``.venv/bin/python bench/event_log.py [--minutes 60]`` (a few seconds of CPU per hour).
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BUDGET_MB = 20.0
APPENDS_PER_S = 50
DELTAS_PER_S = 10
TURN_EVERY_S = 15


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def frame_pool() -> dict[str, list[str]]:
    """Ready-made frame texts (distinct payloads, so nothing is shared by accident)."""
    from tests.realtime import frames as F

    appends = [json.dumps({"type": "input_audio_buffer.append", "event_id": f"evt_{i}",
                           "audio": base64.b64encode(os.urandom(2400)).decode()}) for i in range(64)]
    deltas = [json.dumps({"type": "response.output_audio.delta", "event_id": f"event_{i}",
                          "response_id": "resp_1", "item_id": f"item_{i}", "output_index": 0, "content_index": 0,
                          "delta": base64.b64encode(os.urandom(4800)).decode()}) for i in range(64)]
    words = [json.dumps(F.transcript_delta("resp_1", "item_A", f" word{i}")) for i in range(64)]
    turn = [json.dumps(e) for e in (
        F.speech_started("item_U"), F.speech_stopped("item_U"), F.committed("item_U"),
        F.item_added(F.user_audio_item("item_U")), F.item_done(F.user_audio_item("item_U")),
        F.transcription_completed("item_U", "what is the weather like today"),
        F.response_created("resp_1"), F.output_item_added("resp_1", F.assistant_item("item_A")),
        F.part_added("resp_1", "item_A"), F.audio_done("resp_1", "item_A"),
        F.transcript_done("resp_1", "item_A", "It is sunny with a light breeze all afternoon."),
        F.part_done("resp_1", "item_A"), F.output_item_done("resp_1", F.assistant_item("item_A", "completed")),
        F.response_done("resp_1"), F.rate_limits())]
    return {"append": appends, "delta": deltas, "word": words, "turn": turn}


def session(minutes: float, pool: dict[str, list[str]]):
    """(t, direction, text) for the whole session, in time order, generated lazily."""
    steps_per_s = 50  # 20 ms steps
    turn_steps = TURN_EVERY_S * steps_per_s
    for step in range(int(minutes * 60 * steps_per_s)):
        t = step / steps_per_s
        yield t, "sent", pool["append"][step % 64]  # 50 appends/s
        in_turn = step % turn_steps
        if in_turn == 0:
            for text in pool["turn"]:
                yield t, "received", text
        answering = in_turn >= turn_steps // 2  # the assistant talks for the second half of each turn
        if answering and step % (steps_per_s // DELTAS_PER_S) == 0:
            yield t, "received", pool["delta"][step % 64]
            yield t, "received", pool["word"][step % 64]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()

    from desktop_app.history.service import History
    from desktop_app.observe.observatory import Observatory
    from desktop_app.ui.conversation_log import ConversationLog

    pool = frame_pool()
    spill = Path(tempfile.mkdtemp(prefix="parley-bench-spill-"))
    sim = [1_700_000_000.0]
    history = History(spill / "history.sqlite3")
    obs = Observatory(model="gpt-realtime-2.1", spill_dir=spill, ledger=history)
    observe = ConversationLog(obs, history).frame_observer
    obs.events._clock = lambda: sim[0]  # simulated time for the log's timestamps and batching
    total = sum(1 for _ in session(args.minutes, pool))
    costs = array.array("q", bytes(8 * total))  # allocated before the baseline: not the log's memory
    gc.collect()
    before = rss_mb()
    frames = 0
    peak = before
    started = time.perf_counter()
    for t, direction, text in session(args.minutes, pool):
        sim[0] = 1_700_000_000.0 + t
        t0 = time.perf_counter_ns()
        observe(direction, text)
        costs[frames] = time.perf_counter_ns() - t0
        frames += 1
        if frames % 20_000 == 0:
            peak = max(peak, rss_mb())
    wall = time.perf_counter() - started
    export = spill / "export.jsonl"
    lines = obs.events.export_now(export)  # drains the spill thread too
    gc.collect()
    after = rss_mb()
    peak = max(peak, after)
    spill_mb = (obs.events.spill_path.stat().st_size / 1e6) if obs.events.spill_path else 0.0
    growth = after - before
    per_s = frames / (args.minutes * 60)
    mean_us = statistics.fmean(costs) / 1000
    p50, p99 = (statistics.quantiles(costs, n=100)[i] / 1000 for i in (49, 98))
    obs.close()
    asyncio.run(history.close())
    export.unlink()
    shutil.rmtree(spill)
    print(f"simulated {args.minutes:g} min hands-free: {frames:,} frames ({per_s:.0f}/s), "
          f"{lines:,} exported lines, ring {len(obs.events):,} records")
    print(f"RSS before {before:.1f} MB, after {after:.1f} MB, peak {peak:.1f} MB: "
          f"growth {growth:.1f} MB (budget < {BUDGET_MB:g} MB, ratio {growth / BUDGET_MB:.2f})")
    print(f"observer per frame: mean {mean_us:.1f} µs, p50 {p50:.1f} µs, p99 {p99:.1f} µs "
          f"→ {mean_us * per_s / 1e4:.2f} % of one core at {per_s:.0f} frames/s "
          f"(ran {wall:.1f} s for the whole session)")
    print(f"spill file {spill_mb:.1f} MB for the session ({spill_mb / args.minutes * 60:.1f} MB per hour)")
    return 0 if growth < BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
