"""Notes: append a line to, or read from, a notebook file in Parley's data folder.

A notebook is ``<data>/notes/<name>.md`` (``notes`` by default), one note a line with its date. The
name is restricted by the schema to letters, digits, spaces, ``_`` and ``-``, and the path is
still confined to the notes folder (:func:`~desktop_app.tools.security.confine_path`), so no
argument can read or write anything else. File work runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from desktop_app.paths import ensure_dir
from desktop_app.tools.security import confine_path
from desktop_app.tools.spec import CallContext, ToolError, ToolSpec

MAX_NOTE = 2_000
MAX_FILE = 1_000_000
NOTEBOOK = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$",
            "description": "Notebook name (default: notes)"}


class Notebooks:
    """The notes folder and the file operations on it."""

    def __init__(self, folder: Path, now: Callable[[], datetime] = datetime.now) -> None:
        self.folder = folder
        self._now = now
        self._lock = asyncio.Lock()

    def path(self, notebook: str) -> Path:
        ensure_dir(self.folder)
        return confine_path(f"{notebook}.md", [self.folder])

    def _read_lines(self, path: Path) -> list[str]:
        if not path.exists():
            return []
        if path.stat().st_size > MAX_FILE:
            raise ToolError(f"The notebook {path.stem} is over 1 MB; open it yourself at {path}.")
        return [line[2:] if line.startswith("- ") else line
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]

    def append(self, notebook: str, text: str) -> int:
        path = self.path(notebook)
        line = " ".join(text.split())  # one note, one line: a newline in the text cannot forge another note
        if not line:
            raise ToolError("The note is empty.")
        count = len(self._read_lines(path))
        with path.open("a", encoding="utf-8") as out:
            out.write(f"- {self._now():%Y-%m-%d %H:%M} {line}\n")
        return count + 1

    def read(self, notebook: str, last: int, contains: str) -> tuple[list[str], int]:
        lines = self._read_lines(self.path(notebook))
        if contains:
            lines = [line for line in lines if contains.lower() in line.lower()]
        return lines[-last:], len(lines)


def make_notes_tools(folder: Path, now: Callable[[], datetime] = datetime.now) -> list[ToolSpec]:
    books = Notebooks(folder, now)

    async def append_note(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        notebook = args.get("notebook") or "notes"
        async with books._lock:
            count = await asyncio.to_thread(books.append, notebook, args["text"])
        return {"saved": True, "notebook": notebook, "notes_in_notebook": count}

    async def read_notes(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        notebook = args.get("notebook") or "notes"
        lines, total = await asyncio.to_thread(books.read, notebook, int(args.get("last", 10)), args.get("contains", ""))
        return {"notebook": notebook, "notes": lines, "matching": total}

    return [
        ToolSpec(
            name="append_note", title="Write a note", run=append_note, side_effecting=True,
            description="Save a short note for the user (a reminder, a shopping item, an idea) in their notebook.",
            parameters={"type": "object", "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE},
                "notebook": NOTEBOOK,
            }, "required": ["text"]},
        ),
        ToolSpec(
            name="read_notes", title="Read notes", run=read_notes,
            description="Read the user's most recent notes, optionally only those containing some words.",
            parameters={"type": "object", "properties": {
                "notebook": NOTEBOOK,
                "last": {"type": "integer", "minimum": 1, "maximum": 50, "description": "How many (default 10)"},
                "contains": {"type": "string", "maxLength": 100},
            }},
        ),
    ]
