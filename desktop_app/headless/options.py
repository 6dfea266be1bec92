"""The headless command-line options, kept free of heavy imports so the GUI starts fast."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The headless options (they extend the top-level parser of ``parley``)."""
    group = parser.add_argument_group("headless mode")
    group.add_argument("--headless", action="store_true", help="run one conversation from files, no window")
    group.add_argument("--url", help="Realtime WebSocket URL (default: the configured endpoint)")
    group.add_argument("--input", type=Path, help="WAV to speak (any rate/channels)")
    group.add_argument("--mode", choices=["vad", "ptt"], default="vad", help="turn detection (default vad)")
    group.add_argument("--transport", choices=["websocket", "webrtc"],
                       help="how the conversation travels (default: the endpoint profile's, else websocket)")
    group.add_argument("--voice", help="assistant voice")
    group.add_argument("--instructions", help="instructions for the assistant")
    group.add_argument("--output", type=Path, help="assistant audio as played (24 kHz mono WAV)")
    group.add_argument("--transcript", type=Path, help="transcript JSON")
    group.add_argument("--events", type=Path, help="every frame sent and received (JSONL)")
    group.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds (default 60)")
    group.add_argument("--fast", action="store_true", help="stream the input faster than real time")
    group.add_argument("--tools", choices=["off", "ask-deny", "allow"], default="off",
                       help="offer the assistant your tools (settings, tools.toml, MCP servers); a call that "
                            "would ask is refused (ask-deny) or allowed (allow); default off")
    group.add_argument("--api-key", help=argparse.SUPPRESS)  # tests; users use the keyring or env
