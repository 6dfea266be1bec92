"""Printing the side-by-side figures as Markdown tables (readable in a terminal, pasted into
``docs/benchmarks.md`` as they are), the machine they were measured on, and a JSON copy."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.harness.analysis import summary
from bench.harness.conversation import RunResult


def machine() -> str:
    """One line on the machine: CPU, cores, memory, kernel, Python, PipeWire, PortAudio."""
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    try:
        pipewire = subprocess.run(["pipewire", "--version"], capture_output=True, text=True, timeout=5,
                                  check=False).stdout.split()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        pipewire = "?"
    try:
        import sounddevice as sd

        portaudio = sd.get_portaudio_version()[1].split(",")[0]
    except (OSError, ImportError):
        portaudio = "?"
    return (f"{cpu}, {os.cpu_count()} cores, {mem_kib / 1048576:.0f} GiB, Linux {platform.release()}, "
            f"Python {platform.python_version()}, PipeWire {pipewire}, {portaudio}")


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"


def p50_max(values: list[float | None]) -> str:
    s = summary(values)
    if not s["n"]:
        return "–"
    return f"{ms(s['p50'])} ({ms(s['min'])}–{ms(s['max'])})"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def mib(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} MiB"


def rows(results: list[RunResult]) -> list[tuple[str, list[str]]]:
    return [
        ("CPU connected, silent (% of one core)", [pct(r.cpu_silent) for r in results]),
        ("CPU during turns (mean)", [pct(r.cpu_turns) for r in results]),
        ("its display server, outside the tree (Xvfb for the window, tmux for the TUI): silent / turns",
         [f"{pct(r.display_cpu_silent)} / {pct(r.display_cpu_turns)}" if r.display_cpu_turns is not None else "–"
          for r in results]),
        ("RSS after the turns", [mib(r.rss_mib) for r in results]),
        ("RSS peak during the turns", [mib(r.peak_rss_mib) for r in results]),
        ("sound at the mic → server onset (speech_started), 5 normal turns: ms p50 (min–max)",
         [p50_max(r.values("mic_to_server", barge=False)) for r in results]),
        ("… the 2 turns spoken over the answer", [p50_max(r.values("mic_to_server", barge=True)) for r in results]),
        ("end of user speech → first answer sample at the speaker (incl. the server's fixed 500 ms)",
         [p50_max(r.values("end_to_answer")) for r in results]),
        ("first delta sent → first answer sample at the speaker", [p50_max(r.values("delta_to_speaker")) for r in results]),
        ("barge-in onset → speaker silent, each run (ms)",
         [" / ".join(ms(v) for v in r.values("barge_to_silent", barge=True)) or "–" for r in results]),
        ("audio appended to the server (frames/s while streaming)",
         [f"{r.appends['appends'] / r.appends['audio_s']:.0f}" if r.appends.get("audio_s") else "–" for r in results]),
    ]


def table(results: list[RunResult]) -> str:
    head = "| | " + " | ".join(r.client for r in results) + " |"
    sep = "|---|" + "---|" * len(results)
    body = [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows(results)]
    return "\n".join([head, sep, *body])


def _p50(values: list[float | None]) -> float | None:
    p50 = summary(values)["p50"]
    return None if p50 is None else float(p50)


RATIO_ROWS: tuple[tuple[str, Any], ...] = (
    ("CPU silent", lambda r: r.cpu_silent),
    ("CPU during turns", lambda r: r.cpu_turns),
    ("RSS", lambda r: r.rss_mib),
    ("mic → server p50", lambda r: _p50(r.values("mic_to_server"))),
    ("end of speech → answer p50", lambda r: _p50(r.values("end_to_answer"))),
    ("barge-in → silent p50", lambda r: _p50(r.values("barge_to_silent", barge=True))),
)


def ratios(results: list[RunResult], ours: list[RunResult], peers: list[RunResult]) -> str:
    """Every Parley run ÷ every peer, per figure (below 1.0: Parley is lighter or faster)."""
    columns = [(a, b) for a in ours for b in peers]
    head = "| Parley ÷ peer | " + " | ".join(f"{a.client} ÷ {b.client}" for a, b in columns) + " |"
    sep = "|---|" + "---|" * len(columns)
    body = []
    for name, get in RATIO_ROWS:
        cells = []
        for a, b in columns:
            x, y = get(a), get(b)
            cells.append("–" if x is None or y is None or y == 0 else f"{x / y:.2f}×")
        body.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join([head, sep, *body])


def notes(results: list[RunResult]) -> list[str]:
    out = []
    for r in results:
        for n in r.notes:
            out.append(f"{r.client}: {n}")
        for t in r.turns:
            for n in t.notes:
                out.append(f"{r.client}, question {t.index + 1}: {n}")
    return out


def save(results: list[RunResult], name: str, extra: dict[str, Any]) -> Path:
    from bench.harness.peers_env import cache_dir

    out = cache_dir() / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    data = {"machine": machine(), **extra, "results": [dataclasses.asdict(r) for r in results]}
    path.write_text(json.dumps(data, indent=1))
    (out / f"{name}-latest.json").write_text(json.dumps(data, indent=1))
    return path
