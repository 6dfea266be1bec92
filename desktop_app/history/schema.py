"""Opening the history database: versioned migrations, and never losing a file we cannot read.

The layout version lives in SQLite's ``PRAGMA user_version``. :data:`MIGRATIONS` lists named steps,
each taking the file from ``version`` to ``version + 1`` inside one transaction, so a crash mid-step
leaves the old layout. Opening:

* a missing file is created at the newest version;
* an older file is migrated step by step;
* a file from a *newer* Parley is left untouched: the history runs in memory for this session and a
  notice says so;
* a file that is not a readable SQLite database — or one that is, but not a Parley history — is
  moved aside to ``<name>.corrupt-<time>`` (with its ``-wal``/``-shm`` files) and a fresh one started,
  with a notice naming where the old one went. It is never emptied in place.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from desktop_app.log import get_logger

log = get_logger("app")


@dataclass(frozen=True, slots=True)
class Migration:
    """One step from ``version`` to ``version + 1``."""

    version: int
    name: str
    script: str


_V1 = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    started_at REAL NOT NULL,
    ended_at REAL,
    model TEXT NOT NULL DEFAULT '',
    voice TEXT NOT NULL DEFAULT '',
    endpoint TEXT NOT NULL DEFAULT '',
    continued_from TEXT,
    usage_json TEXT NOT NULL DEFAULT '{}',
    cost_usd REAL,
    audio_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_by_start ON conversations(started_at DESC);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    final INTEGER NOT NULL DEFAULT 1,
    truncated INTEGER NOT NULL DEFAULT 0,
    heard TEXT,
    tool_name TEXT,
    tool_status TEXT,
    echo INTEGER NOT NULL DEFAULT 0,
    tool_arguments TEXT,
    tool_output TEXT,
    at REAL NOT NULL,
    UNIQUE (conversation_id, item_id)
);
CREATE VIRTUAL TABLE entries_fts USING fts5(
    text, content='entries', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER entries_fts_update AFTER UPDATE OF text ON entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO entries_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TABLE turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    at REAL NOT NULL,
    speech_to_first_byte_ms REAL,
    first_byte_to_playback_ms REAL,
    total_ms REAL,
    barge_in_to_silence_ms REAL,
    interrupted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, idx)
);
CREATE TABLE audio (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    role TEXT NOT NULL,
    rate INTEGER NOT NULL,
    pcm BLOB NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX audio_by_conversation ON audio(conversation_id);
CREATE TABLE spend (
    day TEXT PRIMARY KEY,
    usd REAL NOT NULL DEFAULT 0,
    parts INTEGER NOT NULL DEFAULT 0
);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(0, "conversations, entries with full-text search, turns, audio, daily spending", _V1),
)

SCHEMA_VERSION = len(MIGRATIONS)


class NewerDatabase(Exception):
    """The file was written by a newer Parley (its ``user_version`` is above ours)."""


@dataclass(frozen=True, slots=True)
class Opened:
    """An open connection, and a sentence for the user if the file could not be used as it was."""

    conn: sqlite3.Connection
    notice: str | None = None
    moved_to: Path | None = None
    persistent: bool = True


def connect(path: Path | str, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection with Parley's settings (foreign keys on, WAL, rows by name)."""
    if read_only:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=5)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=5)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def migrate(conn: sqlite3.Connection, steps: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Bring ``conn`` to ``len(steps)``; returns the version it had. Raises :class:`NewerDatabase`."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    target = len(steps)
    if version > target:
        raise NewerDatabase(f"history layout {version} is newer than {target}")
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise sqlite3.DatabaseError("the file holds tables but no Parley history version")
    for step in steps[version:]:
        log.info("= history: migrating v%d → v%d: %s", step.version, step.version + 1, step.name)
        try:
            conn.executescript(f"BEGIN;\n{step.script}\nPRAGMA user_version = {step.version + 1};\nCOMMIT;")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")  # the step as a whole, or not at all
            raise
    return version


def open_history(path: Path, steps: tuple[Migration, ...] = MIGRATIONS) -> Opened:
    """Open (create, migrate or replace) the history at ``path``. Runs on the writer thread."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = not path.exists()
    conn = connect(path)
    try:
        if fresh:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # deleted audio gives its space back
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {check}")
        conn.execute("PRAGMA journal_mode = WAL")  # searches read while the writer writes
        migrate(conn, steps)
        return Opened(conn)
    except NewerDatabase as exc:
        conn.close()
        log.warning("! history: %s; using a temporary history for this session", exc)
        memory = connect(":memory:")
        migrate(memory, steps)
        return Opened(memory, "Your conversation history was saved by a newer version of Parley. It is left "
                              "untouched, and conversations are not kept this session.", persistent=False)
    except sqlite3.DatabaseError as exc:
        conn.close()
        moved = move_aside(path)
        log.error("! history: %s could not be read (%s); moved to %s", path, exc, moved)
        again = connect(path)
        again.execute("PRAGMA auto_vacuum = INCREMENTAL")
        again.execute("PRAGMA journal_mode = WAL")
        migrate(again, steps)
        return Opened(again, f"Your conversation history could not be read, so a new one was started. "
                             f"The old file was kept as {moved.name} in {moved.parent}.", moved)


def move_aside(path: Path) -> Path:
    """Rename ``path`` (and its WAL and shared-memory files) to ``<name>.corrupt-<time>``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target
