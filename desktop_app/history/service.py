"""The history as the app uses it: asynchronous, and never in the UI loop's way.

:class:`History` owns the database connection, which lives on one writer thread
(:class:`~desktop_app.observe.worker.SerialWorker`): the loop only hands jobs over. Reads are awaited
(``await history.conversations()``); writes are queued and return at once. A write that fails is
logged with its detail and reported once as a sentence through ``on_notice``.

:class:`ConversationRecorder` is what the controller feeds while a conversation runs — the
transcript on every change (only lines that changed are written, interim lines at the end), tool
calls, each turn's timings, the usage, and audio if the user turned recording on (up to a cap).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from desktop_app import paths
from desktop_app.history import db
from desktop_app.history.export import replay_items, to_json, to_markdown
from desktop_app.history.records import (
    ConversationSummary,
    SavedConversation,
    SavedEntry,
    SavedTurn,
    SearchHit,
    TranscriptLike,
)
from desktop_app.history.schema import Opened, connect, migrate, open_history
from desktop_app.history.search import HistorySearch
from desktop_app.log import get_logger
from desktop_app.observe.turns import TurnRecord
from desktop_app.observe.usage_meter import UsageSnapshot
from desktop_app.observe.worker import SerialWorker

log = get_logger("app")

T = TypeVar("T")

FILE_NAME = "history.sqlite3"
#: Recorded audio is written in pieces of at most this many seconds.
AUDIO_CHUNK_S = 10


def default_path() -> Path:
    """``history.sqlite3`` in Parley's data directory."""
    return paths.data_dir() / FILE_NAME


class History:
    """The conversation history at ``path``; build once in the composition root, ``await open()``."""

    def __init__(self, path: Path | None = None, *, on_notice: Callable[[str], None] | None = None,
                 audio_cap_bytes: int = 500 * 1024 * 1024, clock: Callable[[], float] = time.time) -> None:
        self.path = path if path is not None else default_path()
        self.on_notice = on_notice
        self.audio_cap_bytes = audio_cap_bytes
        self.notices: list[str] = []
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: list[Callable[[], None]] = []
        self._reported: set[str] = set()
        self._conn: sqlite3.Connection | None = None
        self._persistent = False
        self.audio_bytes = 0  # recorded audio in the whole history, kept current on the loop side
        self._worker = SerialWorker("history", on_error=self._job_failed)
        self._opening = self._worker.submit(self._open_job)  # every later job runs after it

    # --- lifetime ------------------------------------------------------------------------------

    async def open(self) -> list[str]:
        """Wait until the database is open; returns the notices (moved aside, newer version …)."""
        self._loop = asyncio.get_running_loop()
        opened = await asyncio.wrap_future(self._opening)
        if opened.notice:
            self._notify(opened.notice)
        self.audio_bytes = await self._worker.run(lambda: db.audio_total(self._db()))
        return list(self.notices)

    async def flush(self) -> None:
        """Wait until every write queued so far is on disk."""
        await self._worker.drain()

    async def close(self) -> None:
        """Finish the queued writes and close the database (the loop keeps running meanwhile)."""
        if self._worker.closed:
            return
        await self._worker.run(self._close_job)
        await self._worker.aclose()

    @property
    def persistent(self) -> bool:
        """False when the history runs in memory this session (the file was from a newer Parley)."""
        return self._persistent

    def searcher(self) -> HistorySearch:
        """The search the tools call (reads the file itself; finds nothing when the history is not
        persistent). Call after :meth:`open`."""
        return HistorySearch(self.path if self._persistent else None)

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (on the loop) whenever the list of conversations may have changed;
        returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- reading -------------------------------------------------------------------------------

    async def conversations(self, limit: int = 500, offset: int = 0) -> list[ConversationSummary]:
        """The newest conversations first."""
        return await self._read(lambda c: db.list_conversations(c, limit, offset))

    async def load(self, conversation_id: str) -> SavedConversation | None:
        return await self._read(lambda c: db.load(c, conversation_id))

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over every saved line (and the titles), best matches first."""
        return await self._read(lambda c: db.search(c, query, limit))

    async def replay_items(self, conversation_id: str) -> list[dict[str, Any]]:
        """What "continue" sends: the saved conversation as text items (the reconnect replay rules)."""
        saved = await self.load(conversation_id)
        return replay_items(saved) if saved is not None else []

    async def export(self, conversation_id: str, path: Path, fmt: Literal["markdown", "json"]) -> bool:
        """Write the conversation as Markdown or JSON to ``path``; False if it no longer exists."""
        saved = await self.load(conversation_id)
        if saved is None:
            return False
        text = to_markdown(saved) if fmt == "markdown" else to_json(saved)
        await self._worker.run(partial(_write_text, path, text))
        return True

    async def audio(self, conversation_id: str) -> list[tuple[str, str, int, bytes]]:
        """The recorded audio, ``(item_id, role, rate, pcm16)`` pieces in recording order."""
        return await self._read(lambda c: db.load_audio(c, conversation_id))

    async def day_spend(self, day: str) -> float:
        """Dollars spent on ``day`` (``YYYY-MM-DD``) as recorded so far."""
        return await self._read(lambda c: db.day_spend(c, day))

    # --- changing ------------------------------------------------------------------------------

    async def rename(self, conversation_id: str, title: str) -> bool:
        done = await self._read(lambda c: db.rename(c, conversation_id, title))
        self._changed()
        return done

    async def delete(self, conversation_id: str) -> bool:
        freed = await self._read(lambda c: db.delete(c, conversation_id))
        if freed >= 0:
            self.audio_bytes = max(0, self.audio_bytes - freed)
        self._changed()
        return freed >= 0

    def add_spend(self, day: str, usd: float) -> None:
        """Count ``usd`` spent on ``day`` (the spend governor's :class:`SpendLedger`); queued."""
        self._write(partial(db.add_spend, day=day, usd=usd), "recording today's spending")

    def begin(self, *, model: str = "", voice: str = "", endpoint: str = "", continued_from: str | None = None,
              record_audio: bool = False) -> ConversationRecorder:
        """A recorder for a new conversation (nothing is written until something is said)."""
        meta = db.NewConversation(uuid.uuid4().hex, self._clock(), model, voice, endpoint, continued_from)
        return ConversationRecorder(self, meta, record_audio=record_audio)

    # --- inside --------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.OperationalError("the history database is not open")
        return self._conn

    async def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        return await self._worker.run(lambda: query(self._db()))

    def _write(self, job: Callable[..., object], what: str, *, changes_list: bool = False) -> None:
        def run() -> None:
            job(self._db())
            if changes_list:
                self._from_worker(self._changed)

        self._worker.fire(run, what)

    def _open_job(self) -> Opened:
        try:
            opened = open_history(self.path)
        except OSError as exc:  # no data directory, no permission, disk full
            log.error("! history: cannot open %s: %r", self.path, exc)
            conn = connect(":memory:")
            migrate(conn)
            opened = Opened(conn, f"Conversations cannot be saved this session: {exc.strerror or exc}.",
                            persistent=False)
        self._conn = opened.conn
        self._persistent = opened.persistent
        return opened

    def _close_job(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _job_failed(self, what: str, exc: BaseException) -> None:  # on the worker thread
        sentence = f"Parley could not save to the conversation history ({what}): {exc}."
        key = f"{what}:{type(exc).__name__}"
        if key not in self._reported:
            self._reported.add(key)
            self._from_worker(partial(self._notify, sentence))

    def _from_worker(self, callback: Callable[[], None]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(callback)

    def _notify(self, sentence: str) -> None:
        self.notices.append(sentence)
        if self.on_notice is not None:
            self.on_notice(sentence)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class ConversationRecorder:
    """Saves one conversation as it happens. Every method returns at once (the writes are queued)."""

    def __init__(self, history: History, meta: db.NewConversation, *, record_audio: bool = False) -> None:
        self._history = history
        self._meta = meta
        self.record_audio = record_audio
        self._created = False
        self._saved: dict[str, tuple[Any, ...]] = {}
        self._positions: dict[str, int] = {}
        self._audio: dict[str, tuple[str, int, bytearray]] = {}
        self._audio_stopped = False
        self.finished = False

    @property
    def id(self) -> str:
        """The conversation's id in the history (what "continue" and the sidebar use)."""
        return self._meta.id

    def transcript(self, entries: Sequence[TranscriptLike], *, include_interim: bool = False) -> None:
        """The transcript as shown now. Final lines that changed are saved; interim ones only with
        ``include_interim`` (at the end), so words arriving one by one cost nothing here."""
        now = self._history._clock()
        changed: list[tuple[int, SavedEntry]] = []
        for position, entry in enumerate(entries):
            self._positions[entry.item_id] = position
            if not entry.final and not include_interim:
                continue
            saved = SavedEntry.from_transcript(entry, at=now)
            key = saved.content_key()
            if self._saved.get(entry.item_id) != key:
                self._saved[entry.item_id] = key
                changed.append((position, saved))
        if changed:
            self._ensure_row()
            self._history._write(partial(db.save_entries, conversation_id=self.id, entries=changed),
                                 "saving the transcript", changes_list=True)

    def tool_call(self, item_id: str, name: str, arguments: str | None = None, output: str | None = None,
                  status: str | None = None) -> None:
        """A tool call's details (the transcript line shows only its name and status)."""
        position = self._positions.get(item_id, len(self._positions))
        self._positions.setdefault(item_id, position)
        entry = SavedEntry(item_id, "tool", "", tool_name=name, tool_status=status, tool_arguments=arguments,
                           tool_output=output, at=self._history._clock())
        self._ensure_row()
        self._history._write(partial(db.save_tool_call, conversation_id=self.id, position=position, entry=entry),
                             "saving a tool call")

    def turn(self, record: TurnRecord) -> None:
        """One finished turn's timings (give this to ``TurnTimings.on_turn``)."""
        saved = SavedTurn(record.index, record.started_at, record.speech_to_first_byte_ms,
                          record.first_byte_to_playback_ms, record.total_ms, record.barge_in_to_silence_ms,
                          record.interrupted)
        self._ensure_row()
        self._history._write(partial(db.save_turn, conversation_id=self.id, turn=saved), "saving turn timings")

    def usage(self, snapshot: UsageSnapshot, *, billed: bool = True) -> None:
        """The conversation's usage and cost so far (call after each ``response.done`` or at the end);
        ``billed=False`` (the offline demo): tokens are kept, no cost."""
        if snapshot.session.responses == 0 and not snapshot.session.live_seconds and not self._created:
            return
        body = {"model": snapshot.model, "transcription_model": snapshot.transcription_model,
                "tokens": dataclasses.asdict(snapshot.session), "realtime_usd": snapshot.realtime_usd,
                "transcription_usd": snapshot.transcription_usd, "price_known": snapshot.price_known,
                "billed": billed}
        self._ensure_row()
        cost = snapshot.total_usd if billed else None
        self._history._write(partial(db.save_usage, conversation_id=self.id, usage=body, cost=cost),
                             "saving usage")

    def audio(self, item_id: str, role: str, pcm16: bytes, rate: int = 24000) -> None:
        """Audio of one item as heard (user: the microphone's; assistant: what was played). Kept only
        when recording is on, and only while the history's audio stays under its cap."""
        if not self.record_audio or self._audio_stopped or not pcm16:
            return
        history = self._history
        if history.audio_bytes + len(pcm16) > history.audio_cap_bytes:
            self._audio_stopped = True
            self._flush_audio()
            cap_mb = history.audio_cap_bytes / 1e6
            history._notify(f"Recording stopped: the history's audio reached its {cap_mb:.0f} MB limit. "
                            "Delete old conversations or raise the limit in the settings.")
            return
        history.audio_bytes += len(pcm16)
        _, _, buffer = self._audio.setdefault(item_id, (role, rate, bytearray()))
        buffer += pcm16
        if len(buffer) >= rate * 2 * AUDIO_CHUNK_S:
            self._flush_audio(item_id)

    def finish(self, entries: Sequence[TranscriptLike] | None = None) -> None:
        """The conversation ended: save the last transcript (interim lines too), the audio, the end."""
        if self.finished:
            return
        self.finished = True
        if entries is not None:
            self.transcript(entries, include_interim=True)
        self._flush_audio()
        if self._created:
            self._history._write(partial(db.end_conversation, conversation_id=self.id, at=self._history._clock()),
                                 "closing the conversation", changes_list=True)

    def _flush_audio(self, only: str | None = None) -> None:
        for item_id in [only] if only is not None else list(self._audio):
            role, rate, buffer = self._audio.pop(item_id, ("", 0, bytearray()))
            if buffer:
                self._ensure_row()
                self._history._write(partial(db.save_audio, conversation_id=self.id, item_id=item_id, role=role,
                                             rate=rate, pcm=bytes(buffer), at=self._history._clock()),
                                     "saving recorded audio")

    def _ensure_row(self) -> None:
        if not self._created:
            self._created = True
            self._history._write(partial(db.ensure_conversation, meta=self._meta), "starting a conversation")
