"""``parley serve`` / ``python -m desktop_app.local_server``: run the local Realtime server until Ctrl+C.

It prints the URL to connect to, loads the speech models in the background (so the first turn is
quick), and on Ctrl+C or SIGTERM closes every session with a close frame and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from desktop_app.local_server.faults import FaultSpecError, parse_faults
from desktop_app.local_server.server import LocalServer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
KEY_ENV = "PARLEY_SERVER_API_KEY"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley serve",
        description="Run Parley's embedded GA Realtime server (offline speech in and out, no OpenAI).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other "
                        "address needs an API key)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765, 0 = any free port)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--api-key", metavar="KEY", default=os.environ.get(KEY_ENV),
                      help=f"require this key (Authorization: Bearer or api-key); also read from ${KEY_ENV}")
    auth.add_argument("--no-auth", action="store_true", help="accept any client (the default on loopback)")
    parser.add_argument("--faults", metavar="SPEC", default="", help="inject faults, e.g. 'seed=1,drop_mid_audio=3' "
                        "(see desktop_app/local_server/faults.py)")
    parser.add_argument("--session-limit", metavar="S", type=float, default=3600.0,
                        help="end sessions with session_expired after S seconds (default 3600)")
    parser.add_argument("--audio-budget", metavar="S", type=float, default=900.0,
                        help="keep the newest S seconds of each conversation's audio (default 900); older items "
                        "keep their transcripts")
    parser.add_argument("--allow-origin", metavar="ORIGIN", action="append", default=[],
                        help="let browser pages from this origin connect (repeatable)")
    parser.add_argument("--max-sessions", type=int, default=100, help="concurrent sessions (default 100)")
    parser.add_argument("--pace", type=float, default=1.0, help="audio pacing: 1 = real time (default), "
                        "2 = twice as fast, 0 = unpaced")
    parser.add_argument("--chunk-ms", type=int, default=50, help="audio per delta, 20–100 ms (default 50)")
    parser.add_argument("--asr", default="auto", choices=["auto", "whisper", "sphinx", "none"])
    parser.add_argument("--tts", default="auto", choices=["auto", "piper", "espeak", "tone"])
    parser.add_argument("--workers", type=int, default=2, help="speech workers of each kind (default 2)")
    parser.add_argument("--worker-threads", action="store_true",
                        help="run speech in threads instead of worker processes (less memory, worse under load)")
    parser.add_argument("--seed", type=int, help="seed the ids (and nothing else; faults take seed=N)")
    parser.add_argument("--report-timing", action="store_true",
                        help="at exit, print how late paced audio chunks and loop wake-ups were (benchmarks)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


async def _watch_loop(lags: list[float], period: float = 0.01) -> None:
    """Record how late each 10 ms wake-up of the event loop is (the server's own scheduling delay)."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + period
        await asyncio.sleep(period)
        lags.append(max(0.0, loop.time() - due))


def _percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p50, p95 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {p50 * 1000:.1f} ms p95 {p95 * 1000:.1f} ms max {ordered[-1] * 1000:.1f} ms ({len(values)})"


async def serve(server: LocalServer, out: TextIO = sys.stdout, report_timing: bool = False) -> None:
    """Run ``server`` until SIGINT/SIGTERM, then shut it down cleanly."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    watcher = loop.create_task(_watch_loop(lags)) if report_timing else None
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C arrives as KeyboardInterrupt
            pass
    await server.start()
    auth = "an API key is required" if server.options.api_key else "no authentication, loopback only"
    print(f"Parley local Realtime server: {server.url}", file=out)
    print(f"  SDK base URL: {server.url_base}  ({auth})", file=out)
    print("  Press Ctrl+C to stop.", file=out, flush=True)
    warm = loop.run_in_executor(None, server.pool.warm_up)
    try:
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await server.stop()
        if not warm.done():
            warm.cancel()
    if report_timing:
        print(f"timing: audio chunk lateness {_percentiles(server.pacing_delays or [])}", file=out)
        print(f"timing: loop wake-up lateness {_percentiles(lags)}", file=out)
    print("Stopped.", file=out, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``parley serve``; returns the exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from desktop_app.log import setup_logging

    setup_logging(args.log_level)
    logging.getLogger("parley.server.websockets").setLevel(logging.WARNING)  # our own lines say it
    try:
        server = LocalServer(
            args.host, args.port, api_key=None if args.no_auth else args.api_key, faults=parse_faults(args.faults),
            session_limit_s=args.session_limit, audio_budget_s=args.audio_budget,
            allowed_origins=tuple(args.allow_origin), max_sessions=args.max_sessions, pace=args.pace, chunk_ms=args.chunk_ms, asr=args.asr, tts=args.tts,
            speech_workers=args.workers, speech_processes=not args.worker_threads, seed=args.seed,
            collect_pacing=args.report_timing,
        )
    except (ValueError, FaultSpecError) as exc:
        print(f"parley serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(serve(server, report_timing=args.report_timing))
    except OSError as exc:  # the port is taken, the address does not exist …
        print(f"parley serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        pass
    return EXIT_OK
