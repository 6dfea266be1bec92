"""The history's SQL. Every function takes the connection and runs on the writer thread.

Entries are upserted by ``(conversation_id, item_id)`` so a transcript saved again (a truncation
that fills in ``heard``, a transcription that arrives late) updates its line in place; the FTS5
index follows through triggers. The conversation row itself is written with the first entry, so a
session in which nobody said anything leaves nothing behind.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.history.records import (
    ConversationSummary,
    SavedConversation,
    SavedEntry,
    SavedTurn,
    SearchHit,
)

TITLE_CHARS = 60


@dataclass(frozen=True, slots=True)
class NewConversation:
    """The row a recorder creates with its first entry."""

    id: str
    started_at: float
    model: str = ""
    voice: str = ""
    endpoint: str = ""
    continued_from: str | None = None


def ensure_conversation(conn: sqlite3.Connection, meta: NewConversation) -> None:
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO conversations (id, started_at, model, voice, endpoint, continued_from) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (meta.id, meta.started_at, meta.model, meta.voice, meta.endpoint, meta.continued_from))


def auto_title(text: str) -> str:
    """The first words of ``text``, cut at a word boundary."""
    words = " ".join(text.split())
    if len(words) <= TITLE_CHARS:
        return words
    cut = words[:TITLE_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def save_entries(conn: sqlite3.Connection, conversation_id: str,
                 entries: Sequence[tuple[int, SavedEntry]]) -> None:
    """Insert or update ``(position, entry)`` pairs; the first user words become the title."""
    with conn:
        conn.executemany(
            "INSERT INTO entries (conversation_id, position, item_id, role, text, final, truncated, heard, "
            "tool_name, tool_status, echo, tool_arguments, tool_output, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (conversation_id, item_id) DO UPDATE SET position = excluded.position, "
            "role = excluded.role, text = excluded.text, final = excluded.final, "
            "truncated = excluded.truncated, heard = excluded.heard, tool_name = excluded.tool_name, "
            "tool_status = excluded.tool_status, echo = excluded.echo, "
            "tool_arguments = coalesce(excluded.tool_arguments, entries.tool_arguments), "
            "tool_output = coalesce(excluded.tool_output, entries.tool_output)",
            [(conversation_id, pos, e.item_id, e.role, e.text, e.final, e.truncated, e.heard, e.tool_name,
              e.tool_status, e.echo, e.tool_arguments, e.tool_output, e.at) for pos, e in entries])
        first_user = next((e for _, e in entries if e.role == "user" and e.text.strip() and not e.echo), None)
        if first_user is not None:
            conn.execute("UPDATE conversations SET title = ? WHERE id = ? AND title = ''",
                         (auto_title(first_user.text), conversation_id))


def save_tool_call(conn: sqlite3.Connection, conversation_id: str, position: int, entry: SavedEntry) -> None:
    """A tool call's name, arguments and output (merged into its transcript line if there is one)."""
    with conn:
        conn.execute(
            "INSERT INTO entries (conversation_id, position, item_id, role, text, tool_name, tool_status, "
            "tool_arguments, tool_output, at) VALUES (?, ?, ?, 'tool', ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (conversation_id, item_id) DO UPDATE SET "
            "tool_name = coalesce(excluded.tool_name, entries.tool_name), "
            "tool_status = coalesce(excluded.tool_status, entries.tool_status), "
            "tool_arguments = coalesce(excluded.tool_arguments, entries.tool_arguments), "
            "tool_output = coalesce(excluded.tool_output, entries.tool_output)",
            (conversation_id, position, entry.item_id, entry.text, entry.tool_name, entry.tool_status,
             entry.tool_arguments, entry.tool_output, entry.at))


def save_turn(conn: sqlite3.Connection, conversation_id: str, turn: SavedTurn) -> None:
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO turns (conversation_id, idx, at, speech_to_first_byte_ms, "
            "first_byte_to_playback_ms, total_ms, barge_in_to_silence_ms, interrupted) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (conversation_id, turn.index, turn.at, turn.speech_to_first_byte_ms, turn.first_byte_to_playback_ms,
             turn.total_ms, turn.barge_in_to_silence_ms, turn.interrupted))


def save_usage(conn: sqlite3.Connection, conversation_id: str, usage: dict[str, Any], cost: float | None) -> None:
    with conn:
        conn.execute("UPDATE conversations SET usage_json = ?, cost_usd = ? WHERE id = ?",
                     (json.dumps(usage), cost, conversation_id))


def save_audio(conn: sqlite3.Connection, conversation_id: str, item_id: str, role: str, rate: int,
               pcm: bytes, at: float) -> None:
    with conn:
        conn.execute("INSERT INTO audio (conversation_id, item_id, role, rate, pcm, at) VALUES (?, ?, ?, ?, ?, ?)",
                     (conversation_id, item_id, role, rate, pcm, at))
        conn.execute("UPDATE conversations SET audio_bytes = audio_bytes + ? WHERE id = ?",
                     (len(pcm), conversation_id))


def end_conversation(conn: sqlite3.Connection, conversation_id: str, at: float) -> None:
    with conn:
        conn.execute("UPDATE conversations SET ended_at = ? WHERE id = ?", (at, conversation_id))


def rename(conn: sqlite3.Connection, conversation_id: str, title: str) -> bool:
    with conn:
        cur = conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), conversation_id))
    return cur.rowcount > 0


def delete(conn: sqlite3.Connection, conversation_id: str) -> int:
    """Delete a conversation and everything of it; returns the audio bytes freed (or -1: not found)."""
    row = conn.execute("SELECT audio_bytes FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    if row is None:
        return -1
    with conn:
        conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
    conn.execute("PRAGMA incremental_vacuum")
    return int(row["audio_bytes"])


def add_spend(conn: sqlite3.Connection, day: str, usd: float) -> None:
    with conn:
        conn.execute("INSERT INTO spend (day, usd, parts) VALUES (?, ?, 1) ON CONFLICT (day) DO UPDATE SET "
                     "usd = usd + excluded.usd, parts = parts + 1", (day, usd))


def day_spend(conn: sqlite3.Connection, day: str) -> float:
    row = conn.execute("SELECT usd FROM spend WHERE day = ?", (day,)).fetchone()
    return float(row["usd"]) if row else 0.0


def audio_total(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(sum(audio_bytes), 0) FROM conversations").fetchone()[0])


_SUMMARY = ("SELECT c.*, (SELECT count(*) FROM entries e WHERE e.conversation_id = c.id) AS n_entries "
            "FROM conversations c")


def _summary(row: sqlite3.Row) -> ConversationSummary:
    return ConversationSummary(row["id"], row["title"], row["started_at"], row["ended_at"], row["model"],
                               row["voice"], row["n_entries"], row["cost_usd"], row["audio_bytes"],
                               row["continued_from"], row["endpoint"])


def list_conversations(conn: sqlite3.Connection, limit: int, offset: int = 0) -> list[ConversationSummary]:
    rows = conn.execute(f"{_SUMMARY} ORDER BY c.started_at DESC LIMIT ? OFFSET ?", (limit, offset))
    return [_summary(r) for r in rows]


def load(conn: sqlite3.Connection, conversation_id: str) -> SavedConversation | None:
    row = conn.execute(f"{_SUMMARY} WHERE c.id = ?", (conversation_id,)).fetchone()
    if row is None:
        return None
    entries = tuple(
        SavedEntry(r["item_id"], r["role"], r["text"], bool(r["final"]), bool(r["truncated"]), r["heard"],
                   r["tool_name"], r["tool_status"], bool(r["echo"]), r["tool_arguments"], r["tool_output"],
                   r["at"])
        for r in conn.execute("SELECT * FROM entries WHERE conversation_id = ? ORDER BY position, id",
                              (conversation_id,)))
    turns = tuple(
        SavedTurn(r["idx"], r["at"], r["speech_to_first_byte_ms"], r["first_byte_to_playback_ms"],
                  r["total_ms"], r["barge_in_to_silence_ms"], bool(r["interrupted"]))
        for r in conn.execute("SELECT * FROM turns WHERE conversation_id = ? ORDER BY idx", (conversation_id,)))
    try:
        usage = json.loads(row["usage_json"])
    except ValueError:
        usage = {}
    return SavedConversation(_summary(row), entries, turns, usage if isinstance(usage, dict) else {})


def load_audio(conn: sqlite3.Connection, conversation_id: str) -> list[tuple[str, str, int, bytes]]:
    """``(item_id, role, rate, pcm)`` chunks in the order they were recorded."""
    return [(r["item_id"], r["role"], r["rate"], bytes(r["pcm"]))
            for r in conn.execute("SELECT item_id, role, rate, pcm FROM audio WHERE conversation_id = ? "
                                  "ORDER BY id", (conversation_id,))]


def fts_query(text: str) -> str | None:
    """The user's words as a safe FTS5 query: every word must appear; the last may be a prefix."""
    words = re.findall(r"\w+", text)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def search(conn: sqlite3.Connection, text: str, limit: int) -> list[SearchHit]:
    """Entries whose words match (best first), then conversations whose title matches."""
    query = fts_query(text)
    if query is None or limit <= 0:
        return []
    hits = [
        SearchHit(r["conversation_id"], r["title"], r["started_at"], r["item_id"], r["role"], r["snip"])
        for r in conn.execute(
            "SELECT e.conversation_id, c.title, c.started_at, e.item_id, e.role, "
            "snippet(entries_fts, 0, '[', ']', '…', 12) AS snip "
            "FROM entries_fts JOIN entries e ON e.id = entries_fts.rowid "
            "JOIN conversations c ON c.id = e.conversation_id "
            "WHERE entries_fts MATCH ? AND e.echo = 0 ORDER BY bm25(entries_fts) LIMIT ?", (query, limit))
    ]
    if len(hits) < limit:
        pattern = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        seen = {h.conversation_id for h in hits}
        for r in conn.execute("SELECT id, title, started_at FROM conversations WHERE title LIKE ? ESCAPE '\\' "
                              "ORDER BY started_at DESC LIMIT ?", (pattern, limit)):
            if r["id"] not in seen and len(hits) < limit:
                hits.append(SearchHit(r["id"], r["title"], r["started_at"], None, None, r["title"]))
    return hits
