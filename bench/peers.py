"""Parley side by side with the peers (#23, #24): CPU, memory and latencies of one scripted
conversation, every client on the same room, the same server and the same spoken turns.

Clients, one after the other, each in its own process tree:

* the ``openai`` SDK's realtime push-to-talk example (Textual TUI in tmux; ``k`` once before the
  first question, then server VAD takes the turns),
* the ``openai-agents`` realtime CLI demo (streams the microphone from the start),
* Parley's window under Xvfb in speakers mode (echo cancellation on) and in headset mode,
  hands-free, as ``parley`` starts it (``bench/harness/parley_window.py``),
* ``parley --headless`` with the whole conversation as its input WAV (no devices: CPU and RSS only).

The peers are installed once into a throwaway virtualenv under ``~/.cache/parley-bench`` (see
``bench/harness/peers_env.py`` for the versions and the one patch). The script: connect, 60 s
connected and silent, then seven spoken questions (synthesized offline) with 5 s spoken answers,
the 6th and 7th spoken over the answer before them. The scripted server
(``bench/harness/scripted_server.py``) fires its VAD on the first loud sample and answers at once,
so the latencies are the clients'. The room has no echo path: every client hears only the user.

Prints the machine, the load average around each run (other work on the machine moves the
figures), one table of figures and one of ratios (Parley ÷ each peer), and saves them as JSON
under ``~/.cache/parley-bench/results/``. About 3 minutes per client, 15 in all.

Run: ``make bench-peers`` or ``.venv/bin/python bench/peers.py [--silent 60] [--clients sdk,agents,aec,headset,headless]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import peers_env, report, script
from bench.harness.clients import (
    AgentsDemo,
    Client,
    ParleyHeadless,
    ParleyWindow,
    SdkExample,
)
from bench.harness.conversation import SETTLE_S, Bench, RunResult, loadavg

CLIENTS = ("sdk", "agents", "aec", "headset", "headless")
PEERS = ("sdk", "agents")


def make_client(key: str, peers: peers_env.Peers | None, bench: Bench, silent_s: float) -> Client:
    if key == "sdk":
        assert peers is not None
        return SdkExample(peers)
    if key == "agents":
        assert peers is not None
        return AgentsDemo(peers)
    if key in ("aec", "headset"):
        return ParleyWindow("speakers" if key == "aec" else "headset")
    assert bench.assets is not None
    wav = script.headless_input(bench.assets, SETTLE_S + silent_s + 2.0, bench.work / "headless-input.wav")
    return ParleyHeadless(wav, timeout_s=silent_s + 240)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--silent", type=float, default=60.0, help="seconds connected and silent (default 60)")
    parser.add_argument("--clients", default=",".join(CLIENTS), help=f"comma-separated, from {','.join(CLIENTS)}")
    parser.add_argument("--pace", type=float, default=1.0, help="the server's audio pace (1.0 = real time)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, recordings)")
    args = parser.parse_args()
    keys = [k for k in args.clients.split(",") if k]
    unknown = set(keys) - set(CLIENTS)
    if unknown:
        parser.error(f"unknown clients: {', '.join(sorted(unknown))}")
    peers_env.ensure_tools()
    peers = peers_env.ensure() if set(keys) & set(PEERS) else None
    work = Path(tempfile.mkdtemp(prefix="parley-bench-peers-"))
    print(f"machine: {report.machine()}")
    print(f"load average at the start: {loadavg()}")
    if peers is not None:
        print(f"peers: {peers.versions()} in {peers.venv}")
    results: list[RunResult] = []
    try:
        with Bench(work, silent_s=args.silent, pace=args.pace) as bench:
            for key in keys:
                client = make_client(key, peers, bench, args.silent)
                print(f"== {client.name} (load {loadavg()})", flush=True)
                results.append(bench.converse(client))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"Side by side: {args.silent:.0f} s connected and silent, then {len(script.QUESTIONS)} spoken turns with "
          f"{script.ANSWER_S:.0f} s spoken answers (questions {', '.join(str(k + 1) for k in sorted(script.BARGE_INS))} "
          "spoken over the answer before them); % of one core, process tree.")
    print()
    print(report.table(results))
    print()
    print("load average (1, 5, 15 min) before → after each run: "
          + "; ".join(f"{r.client} {r.load[0]} → {r.load[-1]}" for r in results))
    ours = [r for r, k in zip(results, keys, strict=True) if k not in PEERS]
    theirs = [r for r, k in zip(results, keys, strict=True) if k in PEERS]
    if ours and theirs:
        print()
        print(report.ratios(results, ours, theirs))
    for line in report.notes(results):
        print(f"note: {line}")
    saved = report.save(results, "peers", {"silent_s": args.silent, "pace": args.pace, "clients": keys,
                                           "patches": [p.why for p in peers_env.PATCHES]})
    print(f"\nsaved {saved}" + (f"; work directory kept: {work}" if args.keep else ""))
    return 0 if all(not r.notes for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
