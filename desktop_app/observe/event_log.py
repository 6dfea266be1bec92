"""The event log: every frame sent and received, kept cheaply and boundedly for a whole session.

The transport calls :meth:`EventLog.append` for every frame (through the observatory's frame
observer). It must be cheap: one JSON parse, the audio payload swapped for a marker, one redaction,
and two list appends — no widget is touched (a shown log view polls :meth:`EventLog.since` on its own
timer). Measured by ``bench/event_log.py``.

Memory is bounded twice: the ring keeps the newest ``capacity`` records *and* at most ``max_chars``
characters of JSON. Every record is also spilled, in batches, to a JSONL file on a background thread
(:class:`SerialWorker`), so :meth:`EventLog.export` can write the whole session — the spill file is
already in the export's format: ``{"t": <unix s>, "dir": "sent"|"received", "event": {...}}`` per
line, the headless ``--events`` format, with audio payloads replaced by their marker.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from desktop_app.log import get_logger
from desktop_app.observe.frames import AudioFormats, summarize
from desktop_app.observe.worker import SerialWorker

log = get_logger("app")

DIRECTIONS = ("sent", "received")
SPILL_PREFIX = "events-"
#: Hand the spill thread a batch at this many lines, or when the oldest pending line is this old.
_BATCH_LINES = 256
_BATCH_AGE_S = 2.0
#: Spill files left behind by a crash are removed after this long.
_STALE_SPILL_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One frame in the log. ``seq`` counts from 1 over the session; ``t`` is unix seconds."""

    seq: int
    t: float
    direction: str
    type: str
    event_json: str
    item_id: str | None = None
    audio_bytes: int = 0
    audio_ms: float = 0.0

    def event(self) -> Any:
        """The summarised event as Python data (parsed on demand: the ring keeps only text)."""
        return json.loads(self.event_json)

    def line(self) -> str:
        """This record as one JSONL line of the export (no newline)."""
        return f'{{"t": {json.dumps(round(self.t, 6))}, "dir": "{self.direction}", "event": {self.event_json}}}'


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which records a view shows: exact types (empty = all), one direction or both, and text that
    must appear (case-insensitive) in the type or the event's JSON."""

    types: frozenset[str] = frozenset()
    direction: str | None = None
    text: str = ""

    def matches(self, record: EventRecord) -> bool:
        if self.direction is not None and record.direction != self.direction:
            return False
        if self.types and record.type not in self.types:
            return False
        if self.text:
            needle = self.text.casefold()
            return needle in record.type.casefold() or needle in record.event_json.casefold()
        return True


class EventLog:
    """Frames of one app session: a bounded ring for views, a spill file for the export.

    ``spill_dir`` None keeps only the ring (the export then holds what the ring holds).
    """

    def __init__(
        self,
        spill_dir: Path | None,
        *,
        capacity: int = 5000,
        max_chars: int = 8_000_000,
        max_spill_bytes: int = 512 * 1024 * 1024,
        worker: SerialWorker | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.capacity = capacity
        self.max_chars = max_chars
        self.max_spill_bytes = max_spill_bytes
        self.formats = AudioFormats()
        self._clock = clock
        self._ring: deque[EventRecord] = deque()
        self._ring_chars = 0
        self._seq = 0
        self._types: dict[str, int] = {}
        self._pending: list[str] = []
        self._pending_since = 0.0
        self._pending_last_seq = 0
        self._spill_dir = spill_dir
        self._own_worker = worker is None and spill_dir is not None
        self._worker = worker if worker is not None else (SerialWorker("event-log") if spill_dir else None)
        # Written only on the worker thread:
        self._spill_path: Path | None = None
        self._spill_file: IO[str] | None = None
        self._spilled_bytes = 0
        self._spilled_through = 0  # seq of the last line in the spill file
        self.spill_dropped = 0  # lines not spilled because the file reached max_spill_bytes
        self._closed = False
        if self._worker is not None and spill_dir is not None:
            self._worker.fire(partial(_remove_stale_spills, spill_dir), "removing old event-log spill files")

    # --- the hot path --------------------------------------------------------------------------

    def append(self, direction: str, text: str) -> tuple[EventRecord, dict[str, Any] | None]:
        """Log one frame; returns the record and the parsed (summarised) event for other observers."""
        now = self._clock()
        summary = summarize(text, self.formats)
        self._seq += 1
        record = EventRecord(self._seq, now, direction, summary.type, summary.event_json,
                             summary.item_id, summary.audio_bytes, summary.audio_ms)
        self._ring.append(record)
        self._ring_chars += len(record.event_json)
        while len(self._ring) > self.capacity or (self._ring_chars > self.max_chars and len(self._ring) > 1):
            self._ring_chars -= len(self._ring.popleft().event_json)
        self._types[record.type] = self._types.get(record.type, 0) + 1
        if self._worker is not None and not self._closed:
            if not self._pending:
                self._pending_since = now
            self._pending.append(record.line())
            self._pending_last_seq = record.seq
            if len(self._pending) >= _BATCH_LINES or now - self._pending_since >= _BATCH_AGE_S:
                self._hand_over()
        return record, summary.event

    def _hand_over(self) -> None:
        if self._pending and self._worker is not None and not self._worker.closed:
            lines, self._pending = self._pending, []
            self._worker.fire(partial(self._write_lines, lines, self._pending_last_seq), "writing the event log")

    # --- reading -------------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The newest record's ``seq`` (0 before the first frame)."""
        return self._seq

    @property
    def first_seq_in_memory(self) -> int:
        """The oldest record still in the ring (older ones are only in the spill file)."""
        return self._ring[0].seq if self._ring else self._seq + 1

    def __len__(self) -> int:
        return len(self._ring)

    def types(self) -> dict[str, int]:
        """Every frame type seen this session, with how many of each."""
        return dict(self._types)

    def since(self, seq: int, filt: EventFilter | None = None) -> list[EventRecord]:
        """Records in the ring newer than ``seq`` (matching ``filt``), oldest first."""
        if not self._ring or seq >= self._seq:
            return []
        start = max(0, len(self._ring) - (self._seq - seq))
        found = [self._ring[i] for i in range(start, len(self._ring))]
        return found if filt is None else [r for r in found if filt.matches(r)]

    def records(self, filt: EventFilter | None = None) -> list[EventRecord]:
        """Every record in the ring (matching ``filt``), oldest first."""
        return list(self._ring) if filt is None else [r for r in self._ring if filt.matches(r)]

    def last(self, n: int) -> list[EventRecord]:
        """The newest ``n`` records (for a diagnostic bundle)."""
        return list(self._ring)[-n:] if n > 0 else []

    # --- export and lifetime -------------------------------------------------------------------

    async def export(self, path: Path) -> int:
        """Write the whole session as JSONL to ``path`` off the loop; returns the number of lines."""
        self._hand_over()
        tail = list(self._ring)
        if self._worker is None:
            return _write_export(path, None, 0, tail)
        return await self._worker.run(partial(self._export_job, path, tail))

    def export_now(self, path: Path) -> int:
        """:meth:`export` for callers without a loop (tests, shutdown): blocks until written."""
        self._hand_over()
        tail = list(self._ring)
        if self._worker is None:
            return _write_export(path, None, 0, tail)
        return self._worker.submit(partial(self._export_job, path, tail)).result()

    def close(self) -> None:
        """Stop spilling and delete the spill file (blocks until the spill thread is done)."""
        self._pending.clear()
        self._closed = True
        if self._worker is not None and not self._worker.closed:
            self._worker.submit(self._delete_spill).result()
            if self._own_worker:
                self._worker.close()

    @property
    def spill_path(self) -> Path | None:
        """The spill file, once the first batch was written (for tests and the diagnostics)."""
        return self._spill_path

    # --- worker-thread side --------------------------------------------------------------------

    def _write_lines(self, lines: list[str], last_seq: int) -> None:
        if self._spill_file is None:
            if self._spill_dir is None:
                return
            self._spill_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, name = tempfile.mkstemp(prefix=SPILL_PREFIX, suffix=".jsonl", dir=self._spill_dir)
            self._spill_file = os.fdopen(fd, "w", encoding="utf-8")
            self._spill_path = Path(name)
        if self.spill_dropped:  # full: stay full, so the file never has a gap in the middle
            self.spill_dropped += len(lines)
            return
        room = self.max_spill_bytes - self._spilled_bytes
        text = "\n".join(lines) + "\n"
        size = len(text.encode("utf-8"))
        if size > room:  # write what fits, line by line; the rest stays in the ring only
            kept: list[str] = []
            size = 0
            for line in lines:
                line_size = len(line.encode("utf-8")) + 1
                if size + line_size > room:
                    break
                kept.append(line)
                size += line_size
            if not self.spill_dropped:
                log.warning("! event log spill file reached %d bytes; newer frames are kept in memory only",
                            self.max_spill_bytes)
            self.spill_dropped += len(lines) - len(kept)
            last_seq -= len(lines) - len(kept)
            text = "".join(line + "\n" for line in kept)
        if text:
            self._spill_file.write(text)
            self._spilled_bytes += size
            self._spilled_through = last_seq

    def _export_job(self, path: Path, ring: list[EventRecord]) -> int:
        if self._spill_file is not None:
            self._spill_file.flush()
        return _write_export(path, self._spill_path, self._spilled_through, ring)

    def _delete_spill(self) -> None:
        if self._spill_file is not None:
            self._spill_file.close()
            self._spill_file = None
        if self._spill_path is not None:
            self._spill_path.unlink(missing_ok=True)


def _write_export(path: Path, spill: Path | None, spilled_through: int, ring: Iterable[EventRecord]) -> int:
    """The spill file's lines, then ring records it does not hold; written to a temp file, renamed."""
    tmp = path.with_name(path.name + ".part")
    count = 0
    with open(tmp, "w", encoding="utf-8") as out:
        if spill is not None:
            with open(spill, encoding="utf-8") as src:
                for line in src:
                    out.write(line)
                    count += 1
        for record in ring:
            if record.seq > spilled_through:
                out.write(record.line() + "\n")
                count += 1
    os.replace(tmp, path)
    return count


def _remove_stale_spills(folder: Path) -> None:
    if not folder.is_dir():
        return
    cutoff = time.time() - _STALE_SPILL_S
    for old in folder.glob(f"{SPILL_PREFIX}*.jsonl"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError as exc:  # another Parley may have removed it first
            log.debug("= could not remove %s: %r", old, exc)
