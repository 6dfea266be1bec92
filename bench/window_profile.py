"""Where Parley's window spends its CPU during the spoken turns (#23): per thread from ``/proc``,
and per function on the main thread and the audio callbacks from ``py-spy``.

Same room, server and script as ``bench/peers.py`` (30 s connected and silent, then the seven
turns). While each phase runs (``--phases silent,turns``), ``py-spy record --threads --nonblocking
--format raw`` (from the peers' throwaway virtualenv) samples the window's process at 100 Hz, and every thread's CPU time is read from
``/proc`` before and after. Printed, per audio mode (speakers = echo cancellation on, headset):

* each thread's CPU (% of one core) and what it is (main loop, PortAudio input/output callback,
  native threads without Python frames; threads that ended during the turns are summed apart);
* the main thread by area (inclusive; an area is a set of frames, areas can overlap) — capture
  path, sending frames, logging, painting, receiving events, view rendering, and the samples
  whose innermost Python frame is the loop itself (native Qt: event dispatch, X11, painting in C++);
* the main thread's top functions by self and by inclusive samples, and the callbacks' top
  functions by self samples.

Run: ``make bench-window-profile`` or ``.venv/bin/python bench/window_profile.py [--modes speakers,headset]``
(about 2 minutes per mode). Needs ptrace (root, or ``kernel.yama.ptrace_scope`` 0).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import peers_env, pyspy_raw, report
from bench.harness.clients import ParleyWindow
from bench.harness.conversation import Bench, loadavg

RATE = 100
LOOP_FRAMES = ("_QEventLoop.run_forever", "_QEventLoop.run_until_complete", "Runner.run", "run (", "main (",
               "<module>")
AREAS = (
    ("capture path (Capture._drain: resample, canceller, meters, 20 ms frames)", r"^Capture\._drain "),
    ("  … of which the echo canceller (EchoControl.process)", r"^EchoControl\.process "),
    ("  … of which the speech-probability meter (SpeechMeter.update)", r"^SpeechMeter\.update "),
    ("sending frames (Link._write → RealtimeSocket.send → websockets → socket write)", r"^Link\._write "),
    ("  … of which the socket write (_SelectorSocketTransport.write)", r"^_SelectorSocketTransport\.write "),
    ("logging (any logging call: records, filters, handlers, the file)", r"\(logging/"),
    ("painting in Python (any paintEvent)", r"\.paintEvent "),
    ("  … of which LevelPlot.paintEvent", r"^LevelPlot\.paintEvent "),
    ("receiving events (Link._read: parse, core, controller)", r"^Link\._read "),
    ("rendering the view (MainWindow.render and the widgets' show_view)", r"^MainWindow\.render |\.show_view "),
    ("controller timers (Controller._tick)", r"^Controller\._tick "),
    ("the talk key's application-wide event filter (PushToTalkKey.eventFilter)", r"^PushToTalkKey\.eventFilter "),
)


def profile_turns(py_spy: Path, out: Path, stats: dict) -> Callable[[int], Callable[[], None]]:
    def start(pid: int) -> Callable[[], None]:
        before = pyspy_raw.thread_cpu(pid)
        t0 = time.monotonic()
        proc = subprocess.Popen([str(py_spy), "record", "-p", str(pid), "-f", "raw", "-o", str(out), "--threads",
                                 "--nonblocking", "-r", str(RATE), "-d", "3600"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def stop() -> None:
            after = pyspy_raw.thread_cpu(pid)
            seconds = time.monotonic() - t0
            proc.send_signal(signal.SIGINT)
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            said = [line for line in out.decode(errors="replace").splitlines() if "Samples:" in line]
            stats.update(before=before, after=after, seconds=seconds,
                         pyspy=said[-1].split("Samples:")[-1].strip() if said else "")

        return stop

    return start


def pct(samples: int, total: int) -> str:
    return f"{100 * samples / total:.1f} %" if total else "–"


def summarise(name: str, cpu_turns: float | None, raw: Path, stats: dict, phase: str = "turns") -> None:
    seconds = stats["seconds"]
    threads = pyspy_raw.parse(raw.read_text()) if raw.exists() else {}
    print(f"\n### {name}: {seconds:.0f} s {'of turns' if phase == 'turns' else 'connected and silent'}, "
          f"process CPU {report.pct(cpu_turns)} of one core (load {loadavg()})\n")
    print("| thread (from /proc) | what it is | CPU, % of one core |\n|---|---|---|")
    before, after = stats["before"], stats["after"]
    counted = 0.0
    for tid, (comm, cpu) in sorted(after.items(), key=lambda kv: -(kv[1][1] - before.get(kv[0], ("", 0.0))[1])):
        used = cpu - before.get(tid, ("", 0.0))[1]
        counted += used
        role = threads[tid].role if tid in threads else "native (no Python frames)"
        if used / seconds >= 0.001:
            print(f"| {comm} ({tid}) | {role} | {100 * used / seconds:.1f} % |")
    if cpu_turns is not None:
        print(f"| threads that ended during the {phase} (streams paused and resumed) | | "
              f"{max(0.0, cpu_turns - 100 * counted / seconds):.1f} % |")
    main = next((t for t in threads.values() if t.name == "MainThread"), None)
    if main is None:
        print(f"\n(no main-thread samples: {stats.get('pyspy', '')})")
        return
    total = main.samples
    print(f"\nMain thread: {total} py-spy samples while busy ({100 * total / (RATE * seconds):.1f} % of the "
          f"{RATE} Hz × {seconds:.0f} s; py-spy, all threads: samples {stats.get('pyspy', '?')}). Areas, inclusive:\n")
    print("| area | share of the main thread's samples |\n|---|---|")
    for label, pattern in AREAS:
        print(f"| {label} | {pct(pyspy_raw.share(main, pattern), total)} |")
    native = sum(n for stack, n in main.stacks.items() if stack and stack[-1].startswith(LOOP_FRAMES))
    print(f"| the loop itself is the innermost Python frame (native Qt work: event dispatch, X11, C++ painting) "
          f"| {pct(native, total)} |")
    print("\n| main thread, top functions by self samples | share |\n|---|---|")
    for f, n in pyspy_raw.self_time(main).most_common(15):
        print(f"| {f} | {pct(n, total)} |")
    print("\n| main thread, top functions by inclusive samples (below the loop) | share |\n|---|---|")
    shown = 0
    for f, n in pyspy_raw.inclusive(main).most_common(60):
        if f.startswith(LOOP_FRAMES) or f.startswith(("_SimpleTimer.timerEvent", "Handle._run")):
            continue
        print(f"| {f} | {pct(n, total)} |")
        shown += 1
        if shown == 20:
            break
    for role in ("PortAudio input callback", "PortAudio output callback"):
        group = [t for t in threads.values() if t.role == role]
        # only samples inside Python count here: PortAudio's own wait shows as busy native samples
        samples = sum(n for t in group for stack, n in t.stacks.items() if stack)
        if not samples:
            continue
        merged = pyspy_raw.ThreadProfile(0)
        for t in group:
            merged.stacks.update(t.stacks)
        print(f"\n| {role} ({len(group)} thread(s)), top functions by self samples in Python | share |\n|---|---|")
        for f, n in pyspy_raw.self_time(merged).most_common(8):
            print(f"| {f} | {pct(n, samples)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="speakers,headset")
    parser.add_argument("--phases", default="silent,turns", help="profile the connected-and-silent phase, the turns, or both")
    parser.add_argument("--silent", type=float, default=30.0, help="seconds connected and silent (default 30)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    peers = peers_env.ensure()
    work = Path(tempfile.mkdtemp(prefix="parley-bench-profile-"))
    print(f"machine: {report.machine()}")
    print(f"load average at the start: {loadavg()}")
    try:
        phases = args.phases.split(",")
        with Bench(work, silent_s=args.silent) as bench:
            for mode in args.modes.split(","):
                client = ParleyWindow(mode)
                raws = {phase: work / f"profile-{mode}-{phase}.txt" for phase in phases}
                stats: dict[str, dict] = {phase: {} for phase in phases}
                print(f"== {client.name} (load {loadavg()})", flush=True)
                hooks = {f"during_{phase}": profile_turns(peers.py_spy, raws[phase], stats[phase]) for phase in phases}
                result = bench.converse(client, **hooks)  # type: ignore[arg-type]
                for note in report.notes([result]):
                    print(f"  note: {note}")
                for phase in phases:
                    if stats[phase]:
                        cpu = result.cpu_turns if phase == "turns" else result.cpu_silent
                        summarise(client.name, cpu, raws[phase], stats[phase], phase)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
