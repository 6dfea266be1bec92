"""CPU time and memory of a process tree, read from ``/proc`` (Linux).

CPU is user + system time of the process and all its live descendants, in seconds; a figure over
an interval is Δcpu / Δwall, as % of one core. Threads are included (they are the process's).
RSS is the sum of ``VmRSS`` over the tree; ``VmHWM`` is the peak of the main process.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            found += [int(c) for c in text.split()]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and every live descendant."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def parse_stat(text: str) -> float:
    """utime + stime in seconds from the text of ``/proc/PID/stat`` (the command may hold spaces
    and parentheses: fields are counted after the last ')')."""
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # fields 14 and 15 of stat(5)


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            total += parse_stat(Path(f"/proc/{p}/stat").read_text())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def rss_mib(pid: int) -> float:
    return sum(_status_kib(p, "VmRSS") for p in tree(pid)) / 1024.0


def peak_rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmHWM") / 1024.0


@dataclass
class Sample:
    wall: float
    cpu: float
    rss: float


class Meter:
    """Samples a process tree; :meth:`cpu_percent` between two marks."""

    def __init__(self, pid: int, tree: bool = True) -> None:
        self.pid = pid
        self.tree = tree  # False: the process alone (a tmux server, whose children are the client)
        self.marks: dict[str, Sample] = {}
        self.rss_trace: list[tuple[float, float]] = []

    def sample(self) -> Sample:
        if self.tree:
            s = Sample(time.monotonic(), cpu_seconds(self.pid), rss_mib(self.pid))
        else:
            s = Sample(time.monotonic(), parse_stat(Path(f"/proc/{self.pid}/stat").read_text()),
                       _status_kib(self.pid, "VmRSS") / 1024.0)
        self.rss_trace.append((s.wall, s.rss))
        return s

    def mark(self, name: str) -> Sample:
        s = self.marks[name] = self.sample()
        return s

    def cpu_percent(self, start: str, end: str) -> float:
        a, b = self.marks[start], self.marks[end]
        return 100.0 * (b.cpu - a.cpu) / max(1e-9, b.wall - a.wall)
