"""Composition root: parse the command line, build the objects, pick the mode.

Modes: the GUI (default), ``--headless`` (files in, files out; see ``desktop_app.headless``),
``serve`` (the embedded local Realtime server) and ``--self-check``. Nothing else in the package
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
    return parser


def run_gui(args: argparse.Namespace) -> int:
    """Start the Qt application on a qasync loop and run until the window closes."""
    from desktop_app.ui.bootstrap import run  # Qt is imported only when the GUI is wanted

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``parley`` and ``python -m desktop_app``; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        from desktop_app.local_server.cli import main as serve_main

        return serve_main(argv[1:])
    args = build_parser().parse_args(argv)
    from desktop_app.log import setup_logging

    setup_logging(args.log_level)
    return run_gui(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
