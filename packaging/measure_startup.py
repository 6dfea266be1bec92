"""Time Parley from process start to its window being shown, on a private Xvfb display.

    .venv/bin/python packaging/measure_startup.py dist/Parley/parley          # the bundle
    .venv/bin/python packaging/measure_startup.py .venv/bin/python -m desktop_app   # from source

Starts one ``Xvfb`` (so the X server's own start-up is not counted), then runs the command
``--runs`` times with ``--quit-after 0`` and measures the wall time from spawning it to the
``window shown`` log line on its stderr. The first run is "cold" (files not yet in the page cache);
the median of the others is the "warm" figure. Prints both; the exit status is the app's.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

MARKER = "window shown"


@contextmanager
def xvfb_display() -> Iterator[str]:
    """A private Xvfb server for the duration of the block; yields its DISPLAY value."""
    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb is not installed (Debian: xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as ready:  # Xvfb writes the display number once it accepts clients
            number = ready.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def time_to_window(command: Sequence[str], env: dict[str, str], timeout: float = 30.0) -> tuple[float, float]:
    """(wall seconds from spawn to the ``window shown`` log line, CPU seconds of the whole run).

    The CPU time (user + system, start to exit) barely depends on what else the machine is doing,
    so it is the figure to compare between runs on a busy machine. Raises if no window appears.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*command, "--quit-after", "0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    shown = None
    lines = []
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if shown is None and MARKER in line:
            shown = time.perf_counter() - started
    code = proc.wait(timeout=timeout)
    if code != 0 or shown is None:
        raise RuntimeError(f"{command[0]} exited {code} without showing its window:\n{''.join(lines[-20:])}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return shown, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(command: Sequence[str], runs: int = 5) -> dict[str, float]:
    """Cold (first) and warm (median of the rest) start-up times, in seconds, on a private Xvfb."""
    with xvfb_display() as display, tempfile.TemporaryDirectory(prefix="parley-startup-") as home:
        env = dict(os.environ, DISPLAY=display, PARLEY_HOME=home, QT_QPA_PLATFORM="xcb")
        env.pop("WAYLAND_DISPLAY", None)
        results = [time_to_window(command, env) for _ in range(max(2, runs))]
    times, cpu = [wall for wall, _ in results], [used for _, used in results]
    return {"cold": times[0], "warm": statistics.median(times[1:]), "best": min(times[1:]), "runs": len(times),
            "cpu": statistics.median(cpu[1:]), "load": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="how to start Parley")
    args = parser.parse_args(argv)
    if not args.command:
        parser.error("give the command that starts Parley, e.g. dist/Parley/parley")
    figures = measure(args.command, args.runs)
    print(
        f"start-up to window shown: warm {figures['warm']:.2f} s (median of {figures['runs'] - 1}, "
        f"best {figures['best']:.2f} s), cold {figures['cold']:.2f} s; CPU per run {figures['cpu']:.2f} s; "
        f"load average {figures['load']:.1f} on {os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
