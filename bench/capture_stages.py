"""Where the user's voice spends its time on the way to the server (#24), stage by stage, in
Parley's window — speakers mode (echo cancellation on) and headset mode, hands-free and
push-to-talk — next to the peers' totals measured in the same run.

Same room, server and script as ``bench/peers.py`` (no silent minute). For every question the
talker's first loud sample is dated at the microphone sink (its DAC time) and then again at each
stage, by an onset detector on the audio passing through it (``bench/harness/stages.py``, installed
on the engine's capture tap and around the socket's ``send``):

====================================  ==========================================================
acoustic onset → ADC time stamp       the ADC time Parley's capture computes for that sample
                                      (should be ≈ 0: a check of the clocks)
ADC → input callback                  device input latency + block fill (PortAudio, PipeWire)
callback → canceller out              loop wake-up, resampler look-ahead, the canceller's 10 ms
                                      re-chunk and its algorithmic delay (speakers mode), or the
                                      resampler alone (headset mode)
canceller → 20 ms frame               re-chunking into the 20 ms frames that are sent
frame → append handed to the          encode, base64, JSON, the controller, the link's outbox and
transport                             writer task (the send path up to ``RealtimeSocket.send``)
transport → server onset              the DEBUG log record, websockets' framing and write,
                                      loopback TCP and the server's read
total (= sound at the mic → speech_started)
====================================  ==========================================================

Prints p50 / p95 in ms per stage and configuration, and the peers' totals (hands-free).
About 75 s per client run; ``--rounds 2`` (default) runs each configuration twice (14 onsets).

Run: ``make bench-capture-stages`` or ``.venv/bin/python bench/capture_stages.py [--rounds 2] [--no-peers]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import peers_env, report
from bench.harness.clients import AgentsDemo, Client, ParleyWindow, SdkExample
from bench.harness.conversation import Bench, RunResult, loadavg
from bench.harness.stage_figures import SEND_CALL, STAGES, stage_deltas

CONFIGS = (("speakers", "hands_free"), ("speakers", "push_to_talk"), ("headset", "hands_free"), ("headset", "push_to_talk"))


def label(audio_mode: str, turn_mode: str) -> str:
    return ("AEC" if audio_mode == "speakers" else "headset") + (", PTT" if turn_mode == "push_to_talk" else ", hands-free")


def cell(values: list[float]) -> str:
    if not values:
        return "–"
    v = np.array(values) * 1000
    return f"{np.percentile(v, 50):.1f} / {np.percentile(v, 95):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs per configuration (7 onsets each)")
    parser.add_argument("--no-peers", action="store_true", help="Parley only")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--configs", default=",".join(f"{a}:{t}" for a, t in CONFIGS),
                        help="which of Parley's configurations, comma-separated audio_mode:turn_mode "
                             "(default: all four)")
    args = parser.parse_args()
    peers_env.ensure_tools()
    peers = None if args.no_peers else peers_env.ensure()
    work = Path(tempfile.mkdtemp(prefix="parley-bench-stages-"))
    print(f"machine: {report.machine()}")
    print(f"load average at the start: {loadavg()}")
    deltas: dict[str, dict[str, list[float]]] = {}
    totals: dict[str, list[float]] = {}
    split: dict[bool, dict[str, list[float]]] = {False: {}, True: {}}  # by "spoken over the answer"
    loads: list[str] = []
    try:
        with Bench(work, silent_s=0.0) as bench:
            runs: list[tuple[str, Client, Path | None]] = []
            chosen = [tuple(c.split(":", 1)) for c in args.configs.split(",") if c]
            unknown = [c for c in chosen if c not in CONFIGS]
            if unknown:
                parser.error(f"unknown configuration(s) {unknown}; known: {CONFIGS}")
            for audio_mode, turn_mode in chosen:
                for k in range(args.rounds):
                    marks_file = work / f"stages-{audio_mode}-{turn_mode}-{k}.jsonl"
                    name = "Parley " + label(audio_mode, turn_mode)
                    runs.append((name, ParleyWindow(audio_mode, turn_mode, marks_file, label=f"{name} #{k + 1}"), marks_file))
            if peers is not None:
                for k in range(args.rounds):
                    for peer in (AgentsDemo(peers), SdkExample(peers)):
                        name = peer.name
                        peer.name = f"{name} #{k + 1}"
                        runs.append((name, peer, None))
            for name, client, stages in runs:
                print(f"== {client.name} (load {loadavg()})", flush=True)
                result: RunResult = bench.converse(client)
                loads.append(f"{client.name}: {result.load[0]} → {result.load[-1]}")
                for note in report.notes([result]):
                    print(f"  note: {note}")
                totals.setdefault(name, []).extend(v for v in result.values("mic_to_server") if v is not None)
                for barge in (False, True):
                    split[barge].setdefault(name, []).extend(
                        v for v in result.values("mic_to_server", barge=barge) if v is not None)
                print("  sound at the mic → speech_started per question (ms): " + ", ".join(
                    "–" if v is None else f"{v * 1000:.1f}" for v in result.values("mic_to_server")))
                print(f"  CPU during the turns: {result.cpu_turns:.1f} % of a core" if result.cpu_turns is not None
                      else "  CPU during the turns: –")
                if stages is not None and stages.with_suffix(".counters.json").exists():
                    print(f"  engine: {stages.with_suffix('.counters.json').read_text()}")
                if stages is not None:
                    if not stages.exists():
                        print(f"  ! no stage marks from {client.name}")
                        continue
                    marks = [json.loads(line) for line in stages.read_text().splitlines() if line]
                    server = [m for m in result.server_marks if m["ev"] == "onset"]
                    run = stage_deltas(result.utterances, marks, server)
                    for stage, values in run.items():
                        deltas.setdefault(name, {}).setdefault(stage, []).extend(values)
                    for i, onset in enumerate(zip(*(run[s] for s in STAGES[1:]), strict=True)):
                        print(f"  onset {i + 1}: " + " · ".join(f"{v * 1000:.1f}" for v in onset)
                              + "  (ADC→callback · →canceller · →frame · →transport · →server · total, ms)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("Sound at the microphone → the server's speech_started, per stage: ms p50 / p95 "
          f"({args.rounds} × 7 onsets per configuration; the 6th and 7th questions of each run spoken over the answer)")
    print()
    names = list(deltas)
    print("| stage | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for stage in (*STAGES, SEND_CALL):
        print(f"| {stage} | " + " | ".join(cell(deltas[n].get(stage, [])) for n in names) + " |")
    print()
    print("Totals side by side (sound at the mic → speech_started), ms p50 / p95:")
    print()
    print("| | " + " | ".join(totals) + " |")
    print("|---|" + "---|" * len(totals))
    print("| total | " + " | ".join(cell(v) for v in totals.values()) + " |")
    print("| … questions 1–5 | " + " | ".join(cell(split[False].get(n, [])) for n in totals) + " |")
    print("| … questions 6–7 (spoken over the answer) | " + " | ".join(cell(split[True].get(n, [])) for n in totals) + " |")
    print("| onsets | " + " | ".join(str(len(v)) for v in totals.values()) + " |")
    print()
    print("load average (1, 5, 15 min) before → after each run: " + "; ".join(loads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
