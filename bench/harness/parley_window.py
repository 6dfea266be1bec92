"""Parley's window as a person runs it, pointed at the bench's server (run in its own process).

The same start-up as ``parley`` (``desktop_app.app.main`` → ``ui.bootstrap.run``): file logging
(console at INFO, the rotating DEBUG log file), QApplication, qasync, ``build_window`` with the
real audio engine, ``window.show()`` — plus the settings a person would have chosen in a fresh
``PARLEY_HOME``: a custom endpoint at ``--url``, the audio mode (speakers = echo cancellation on,
headset = off) and the turn mode (hands-free or push-to-talk); then it connects, as a click on
Connect would. It writes ``--status`` (JSON: pid, the push-to-talk button's screen centre) once the
window shows, and stops cleanly on SIGTERM.

``--stages FILE`` installs :class:`~bench.harness.stages.StageRecorder` on the engine's capture tap
and the socket, and writes its marks to FILE at exit (``bench/capture_stages.py``).

``--tracemalloc FILE`` traces Python allocations (numpy's included) and writes to FILE, every minute
from the second on, what grew since the end of the first minute, by line (``bench/long_session.py``:
where a slope in RSS comes from; native memory, Qt's, does not show there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def engine_counters(engine: Any) -> dict[str, float]:
    """The engine's own health figures at the end of a run: the streams as opened, input overflows,
    output underflows (device and queue), references the canceller waited for or missed, its CPU."""
    capture, playback, canceller = engine.capture, engine.playback, engine.echo.canceller
    out: dict[str, float] = {}
    if capture is not None:
        out.update(in_block=capture.blocksize_frames, in_rate=capture.samplerate,
                   in_latency_ms=round(1000 * capture.latency_s, 1), in_overflows=capture.overflows,
                   callbacks=capture.callbacks, drains=capture.drains, early_sends=capture.early_sends)
    if playback is not None:
        out.update(out_latency_ms=round(1000 * playback.latency_s, 1), out_underflows=playback.device_underflows)
    out["queue_underruns"] = engine.queue.underruns
    if canceller is not None:
        out.update(far_waits=canceller.far_waits, far_late=canceller.far_late, repairs=canceller.repairs, aec_frames=canceller.frames,
                   light_frames=canceller.light_frames, switches=canceller.switches, aec_cpu_s=round(canceller.cpu_s, 2))
    return out


async def _trace_growth(path: Path, every_s: float = 60.0, top: int = 25) -> None:
    """Every ``every_s``, write the ``top`` lines whose allocations grew most since the first minute."""
    import tracemalloc

    await asyncio.sleep(every_s)
    base = tracemalloc.take_snapshot()
    minutes = 1
    while True:
        await asyncio.sleep(every_s)
        minutes += 1
        stats = tracemalloc.take_snapshot().compare_to(base, "traceback")
        lines = [f"== minute {minutes}: traced {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MiB"]
        for stat in stats[:top]:
            lines.append(f"{stat.size_diff / 2**10:+9.1f} KiB {stat.count_diff:+6d} blocks")
            lines += [f"      {frame.filename}:{frame.lineno}" for frame in stat.traceback[-4:]]
        path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--audio-mode", choices=["speakers", "headset"], default="speakers")
    parser.add_argument("--turn-mode", choices=["hands_free", "push_to_talk"], default="hands_free")
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--stages", type=Path)
    parser.add_argument("--tracemalloc", type=Path)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    assert os.environ.get("PARLEY_HOME"), "the bench gives the window a fresh PARLEY_HOME"
    if args.tracemalloc is not None:
        import tracemalloc

        tracemalloc.start(8)

    from desktop_app.app import setup_file_logging

    setup_file_logging(args.log_level)

    import qasync
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication

    from desktop_app.settings.profiles import CustomProfile, LocalProfile
    from desktop_app.settings.store import SettingsStore
    from desktop_app.tasks import install_loop_handler
    from desktop_app.ui import icons
    from desktop_app.ui.bootstrap import build_engine, build_window

    app = cast(QApplication, QApplication.instance() or QApplication([]))
    app.setApplicationName("Parley")
    app.setOrganizationName("Parley")
    app.setDesktopFileName("parley")
    app.setWindowIcon(icons.app_icon())
    store = SettingsStore()
    store.update(profiles=(CustomProfile(name="Bench server", url=args.url), LocalProfile(name="Local server")),
                 active_profile="Bench server", audio_mode=args.audio_mode, turn_mode=args.turn_mode,
                 # the scripted server bills like the real one: the default $5 per conversation stopped
                 # the 60-minute run at minute 8 (microphone off until the user agrees)
                 spend_limit_session_usd=None, spend_limit_day_usd=None)
    recorder = None
    if args.stages is not None:
        from bench.harness.stages import StageRecorder, watch_socket

        recorder = StageRecorder()
        watch_socket(recorder)

    async def run() -> int:
        quitting = asyncio.Event()
        loop = asyncio.get_running_loop()
        engine = build_engine()
        if engine is not None and recorder is not None:
            engine.capture_tap = recorder
        window = build_window(quitting.set, engine=engine, store=store)
        # as bootstrap.run: an exception in a loop callback reaches the log and the banner
        install_loop_handler(loop, lambda sentence: window.session.notify(sentence, "warning"))
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, quitting.set)
        window.show()
        if args.tracemalloc is not None:
            window.run(_trace_growth(args.tracemalloc))
        window.run(window.session.open_conversation())  # what a click on Connect does
        await asyncio.sleep(0.5)  # laid out and mapped
        talk = window.talk.talk
        centre = talk.mapToGlobal(QPoint(talk.width() // 2, talk.height() // 2))
        args.status.write_text(json.dumps({"pid": os.getpid(), "ptt": [centre.x(), centre.y()]}))
        await quitting.wait()
        if engine is not None and args.stages is not None:
            args.stages.with_suffix(".counters.json").write_text(json.dumps(engine_counters(engine)))
        await window.shutdown()
        if recorder is not None:
            recorder.save(args.stages)
        return 0

    return int(qasync.run(run()))


if __name__ == "__main__":
    sys.exit(main())
