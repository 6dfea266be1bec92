"""Opening the history: migrations by version, a newer file left alone, a corrupt or foreign file
moved aside with a notice (never emptied) — and writes that never block the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

from desktop_app.history import schema
from desktop_app.history.schema import SCHEMA_VERSION, Migration, migrate, open_history
from tests.history.conftest import Entry, open_history as open_service


def version_of(path) -> int:
    with sqlite3.connect(path) as raw:
        return raw.execute("PRAGMA user_version").fetchone()[0]


def test_a_new_file_is_created_at_the_current_version(tmp_path):
    opened = open_history(tmp_path / "deep" / "h.sqlite3")
    assert opened.notice is None and opened.persistent
    tables = {r[0] for r in opened.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"conversations", "entries", "entries_fts", "turns", "audio", "spend"} <= tables
    assert opened.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    opened.conn.close()
    assert version_of(tmp_path / "deep" / "h.sqlite3") == SCHEMA_VERSION


def test_an_older_file_is_migrated_step_by_step_keeping_its_rows(tmp_path):
    path = tmp_path / "h.sqlite3"
    open_history(path).conn.close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO conversations (id, started_at) VALUES ('c1', 1.0)")
    steps = (*schema.MIGRATIONS,
             Migration(SCHEMA_VERSION, "add a pinned flag", "ALTER TABLE conversations ADD COLUMN pinned INTEGER "
                                                            "NOT NULL DEFAULT 0;"),
             Migration(SCHEMA_VERSION + 1, "pin the first", "UPDATE conversations SET pinned = 1;"))
    opened = open_history(path, steps)
    assert opened.notice is None
    assert [tuple(r) for r in opened.conn.execute("SELECT id, pinned FROM conversations")] == [("c1", 1)]
    opened.conn.close()
    assert version_of(path) == SCHEMA_VERSION + 2


def test_a_failing_step_leaves_the_old_layout(tmp_path):
    conn = sqlite3.connect(tmp_path / "h.sqlite3")
    migrate(conn)
    broken = (*schema.MIGRATIONS, Migration(SCHEMA_VERSION, "broken", "CREATE TABLE x (a); SELECT nonsense();"))
    try:
        migrate(conn, broken)
    except sqlite3.OperationalError:
        pass
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'x'").fetchone()[0] == 0


def test_a_file_from_a_newer_parley_is_left_untouched(tmp_path):
    path = tmp_path / "h.sqlite3"
    open_history(path).conn.close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO conversations (id, started_at) VALUES ('future', 1.0)")
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    before = path.read_bytes()
    opened = open_history(path)
    assert not opened.persistent and "newer version" in (opened.notice or "")
    opened.conn.execute("INSERT INTO conversations (id, started_at) VALUES ('now', 2.0)")  # in memory
    opened.conn.close()
    assert path.read_bytes() == before


def test_a_corrupt_file_is_moved_aside_with_a_notice_never_emptied(tmp_path):
    path = tmp_path / "h.sqlite3"
    garbage = b"this is not a database " * 200
    path.write_bytes(garbage)
    opened = open_history(path)
    assert opened.moved_to is not None and opened.moved_to.name.startswith("h.sqlite3.corrupt-")
    assert opened.moved_to.read_bytes() == garbage
    assert "could not be read" in opened.notice and opened.moved_to.name in opened.notice
    opened.conn.execute("INSERT INTO conversations (id, started_at) VALUES ('c', 1.0)")
    opened.conn.commit()
    opened.conn.close()
    assert version_of(path) == SCHEMA_VERSION


def test_a_damaged_page_fails_the_check_and_is_moved_aside(tmp_path):
    path = tmp_path / "h.sqlite3"
    opened = open_history(path)
    with opened.conn:
        opened.conn.executemany("INSERT INTO conversations (id, started_at, title) VALUES (?, 1.0, ?)",
                                [(f"c{i}", "x" * 500) for i in range(200)])
    opened.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = opened.conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'conversations'").fetchone()[0]
    size = opened.conn.execute("PRAGMA page_size").fetchone()[0]
    opened.conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * size: (root - 1) * size + 12] = b"\xff" * 12  # scribble over the table's root page
    path.write_bytes(bytes(data))
    again = open_history(path)
    assert again.moved_to is not None and again.moved_to.read_bytes() == bytes(data)
    again.conn.close()


def test_another_programs_sqlite_file_is_not_taken_over(tmp_path):
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE notes (body TEXT)")
        raw.execute("INSERT INTO notes VALUES ('precious')")
    opened = open_history(path)
    assert opened.moved_to is not None
    with sqlite3.connect(opened.moved_to) as raw:
        assert raw.execute("SELECT body FROM notes").fetchall() == [("precious",)]
    opened.conn.close()


async def test_the_service_passes_the_notice_on(tmp_path):
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"garbage" * 100)
    notices = []
    history = await open_service(path, on_notice=notices.append)
    assert len(notices) == 1 and "new one was started" in notices[0] and history.notices == notices
    await history.close()


async def test_writes_never_block_the_loop(tmp_path):
    """The writer thread is held on a gate: every recorder call still returns at once and the loop
    keeps turning; the writes land when the gate opens."""
    history = await open_service(tmp_path / "h.sqlite3")
    gate = threading.Event()
    history._worker.fire(lambda: gate.wait(60), "holding the writer")
    rec = history.begin()
    for n in range(200):
        rec.transcript([Entry(f"u{i}", "user", f"line {i}") for i in range(n + 1)])
    rec.finish()
    history.add_spend("2026-12-06", 1.0)
    turns = 0
    while turns < 20:  # twenty further turns of the loop, with the writer still held
        await asyncio.sleep(0)
        turns += 1
    listed = asyncio.ensure_future(history.conversations())
    await asyncio.sleep(0)
    assert not listed.done()  # a read waits its turn behind the writes, without blocking anyone
    gate.set()
    (summary,) = await listed
    assert summary.entries == 200 and summary.title == "line 0"
    await history.close()


async def test_qt_timers_keep_firing_while_the_writer_is_held(tmp_path, qloop):
    from PySide6.QtCore import QTimer

    history = await open_service(tmp_path / "h.sqlite3")
    gate = threading.Event()
    history._worker.fire(lambda: gate.wait(60), "holding the writer")
    rec = history.begin()
    rec.transcript([Entry("u1", "user", "saved while Qt paints")])
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(1)
    while len(ticks) < 5:  # the Qt side of the loop runs on: five timer ticks with the writer held
        await asyncio.sleep(0.001)
    timer.stop()
    gate.set()
    await history.flush()
    (summary,) = await history.conversations()
    assert summary.title == "saved while Qt paints"
    await history.close()
