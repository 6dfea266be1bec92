"""The headless mode's output files, in their documented formats.

* ``--events``: one JSON object per line, ``{"t": <unix seconds>, "dir": "sent"|"received",
  "event": {...}}`` — every frame, audio payloads kept (a reviewer replays them), secrets redacted.
  Lines are flushed as they are written, so a crash or a dropped connection keeps everything so far.
* ``--transcript``: ``{"turns": [{"role", "item_id", "text", "truncated", "heard"}], "usage": {...}}``
  (``heard``: the part of an interrupted answer that was played, the rest never was; otherwise the
  whole text); with ``--tools`` also ``"tools": [{"item_id", "name", "arguments", "status", "output"}]``.
* ``--output``: the assistant audio as played, 24 kHz mono 16-bit WAV.
"""

from __future__ import annotations

import json
import os
import time
import wave
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from desktop_app.log import redact


class EventLog:
    """Appends frames to a JSONL file as they pass the transport (a ``FrameObserver``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "w", encoding="utf-8")  # noqa: SIM115 — closed in close()
        self.count = 0

    def __call__(self, direction: str, text: str) -> None:
        try:
            event: Any = json.loads(text)
        except ValueError:
            event = {"unparsed": text}
        line = json.dumps({"t": round(time.time(), 6), "dir": direction, "event": event})
        self._file.write(redact(line) + "\n")
        self._file.flush()
        self.count += 1

    def close(self) -> None:
        self._file.close()


def write_transcript(path: Path, turns: Iterable[dict], usage: dict, tools: Iterable[dict] | None = None) -> None:
    """Write the transcript JSON atomically (a crash never leaves half a file)."""
    document: dict[str, Any] = {"turns": list(turns), "usage": usage}
    if tools is not None:
        document["tools"] = list(tools)
    _atomic_write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


class WavWriter:
    """Streams 16-bit mono PCM to a WAV file; the header is fixed up on close."""

    def __init__(self, path: Path, rate: int = 24000) -> None:
        self.path = path
        self._wav = wave.open(str(path), "wb")  # noqa: SIM115 — closed in close()
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)
        self.frames = 0

    def write(self, pcm16: bytes) -> None:
        self._wav.writeframes(pcm16)
        self.frames += len(pcm16) // 2

    def close(self) -> None:
        self._wav.close()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
