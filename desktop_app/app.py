"""Composition root: parse the command line, build the objects, pick the mode.

Modes: the GUI (default), ``--headless`` (files in, files out; see ``desktop_app.headless``),
``serve`` (the embedded local Realtime server) and ``--self-check``. ``--url URL [--model M]`` points
either mode at another endpoint for this run only (``args.run_override``, a temporary profile that is
never saved; see ``desktop_app.settings.launch``). Nothing else in the package
reaches for globals: what a part needs is built here and passed in.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from desktop_app import __version__

EXIT_OK = 0
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The top-level command line (``parley serve …`` is dispatched before this parser runs)."""
    parser = argparse.ArgumentParser(
        prog="parley",
        description="Talk to OpenAI Realtime speech-to-speech models. "
        "'parley serve --help' shows the embedded local server's options.",
    )
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument(
        "--quit-after",
        type=float,
        metavar="SECONDS",
        help="close the window after this many seconds (smoke tests, screenshots)",
    )
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="print versions, Qt platform, audio devices, keyring backend and a local-server "
        "round-trip, then exit (0 when all is well)",
    )
    parser.add_argument(
        "--model",
        metavar="MODEL",
        help="the Realtime model for this run (any model id; default: the URL's model= or the saved one); "
        "with --url the window connects there without saving a profile",
    )
    from desktop_app.headless.options import add_arguments

    add_arguments(parser)
    return parser


def apply_run_override(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Check ``--url``/``--model`` and put the temporary endpoint in ``args.run_override``.

    Bad values are a usage error (exit 2) with one sentence. Headless mode reads its model from the
    URL, so there ``--model`` is written into the URL's ``model=`` query.
    """
    from desktop_app.settings.launch import run_override, with_model

    try:
        args.run_override = run_override(args.url, args.model)
    except ValueError as exc:
        parser.error(str(exc))
    if args.headless and args.url and args.model:
        args.url = with_model(args.url, args.model)


def run_gui(args: argparse.Namespace) -> int:
    """Start the Qt application on a qasync loop and run until the window closes."""
    from desktop_app.ui.bootstrap import run  # Qt is imported only when the GUI is wanted

    return run(args)


def setup_file_logging(level: str) -> None:
    """Console logging at ``level`` plus the rotating DEBUG log file in the platform's log directory.

    A log directory that cannot be created (read-only home, odd sandbox) costs the file, not the run.
    """
    from desktop_app import paths
    from desktop_app.log import get_logger, setup_logging

    try:
        log_file = paths.log_file()
        paths.ensure_dir(log_file.parent)
        setup_logging(level, log_file=log_file)
    except OSError as exc:
        setup_logging(level)
        get_logger("app").warning("! no log file: %s", exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``parley`` and ``python -m desktop_app``; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--list-audio-devices"]:  # the device watcher's helper (audio/device_watch.py)
        from desktop_app.audio.device_watch import list_ids_json

        print(list_ids_json())
        return EXIT_OK
    from desktop_app.voicepack.store import activate

    activate()  # the offline voice pack's engines, when one was downloaded (source run and bundle alike)
    if argv and argv[0] == "serve":
        from desktop_app.local_server.cli import main as serve_main

        return serve_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_run_override(parser, args)
    # Headless output is files plus one clear line on failure: no log lines on the console unless a
    # level was asked for; the log file keeps everything.
    quiet = args.headless and "--log-level" not in argv
    setup_file_logging("CRITICAL" if quiet else args.log_level)
    if args.self_check:
        from desktop_app.selfcheck import run as self_check

        return self_check(args)
    if args.headless:
        from desktop_app.headless.run import run as run_headless

        return run_headless(args)
    return run_gui(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
