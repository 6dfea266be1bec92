"""Reading ``py-spy record --format raw --threads`` output: where a process's Python threads spend
their samples, per function, and what each thread is for.

A raw line is ``thread (TID): NAME;outer frame;…;inner frame COUNT`` (unnamed threads have no
``: NAME``); a frame is ``function (file:line)``. Samples of a thread waiting in the kernel are
dropped by py-spy (no ``--idle``), so a thread's samples ÷ (rate × seconds) approximates its share
of a core — but native threads (Qt's, PortAudio's, PipeWire's) show as busy whenever sampled, so
per-thread CPU is taken from ``/proc`` (:func:`thread_cpu`) and py-spy only says *where* in Python.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness.procstat import parse_stat

_HEAD = re.compile(r"^thread \((\d+)\)(?::\s*([^;]*))?$")
_FRAME = re.compile(r"^(.*) \(([^()]*?)(?::\d+)?\)$")


def function_of(frame: str) -> str:
    """``Link._write (desktop_app/controller/link.py:96)`` → ``Link._write (desktop_app/controller/link.py)``."""
    m = _FRAME.match(frame)
    return f"{m.group(1)} ({m.group(2)})" if m else frame


@dataclass
class ThreadProfile:
    tid: int
    name: str = ""
    samples: int = 0
    stacks: Counter = field(default_factory=Counter)  # tuple of functions (outer → inner) → samples

    @property
    def role(self) -> str:
        text = " ".join(f for stack in self.stacks for f in stack)
        if self.name == "MainThread":
            return "main (Qt + asyncio loop)"
        if "Capture._callback" in text:
            return "PortAudio input callback"
        if "Playback._callback" in text:
            return "PortAudio output callback"
        if not text:
            return "native (no Python frames)"
        return "other Python thread"


def parse(text: str) -> dict[int, ThreadProfile]:
    threads: dict[int, ThreadProfile] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        stack_text, _, count = line.rpartition(" ")
        parts = stack_text.split(";")
        m = _HEAD.match(parts[0])
        if m is None:
            continue
        tid = int(m.group(1))
        t = threads.setdefault(tid, ThreadProfile(tid))
        if m.group(2):
            t.name = m.group(2).strip()
        t.samples += int(count)
        t.stacks[tuple(function_of(f) for f in parts[1:])] += int(count)
    return threads


def inclusive(t: ThreadProfile) -> Counter:
    """Samples in which each function was on the stack (once per sample)."""
    out: Counter = Counter()
    for stack, n in t.stacks.items():
        for f in set(stack):
            out[f] += n
    return out


def self_time(t: ThreadProfile) -> Counter:
    """Samples in which each function was the innermost Python frame (native code it called included)."""
    out: Counter = Counter()
    for stack, n in t.stacks.items():
        if stack:
            out[stack[-1]] += n
    return out


def share(t: ThreadProfile, pattern: str) -> int:
    """Samples whose stack holds a frame matching ``pattern`` (a regex on ``function (file)``)."""
    rx = re.compile(pattern)
    return sum(n for stack, n in t.stacks.items() if any(rx.search(f) for f in stack))


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of every live thread of ``pid``: ``{tid: (comm, seconds)}``."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[int(task.name)] = ((task / "comm").read_text().strip(), parse_stat((task / "stat").read_text()))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out
