"""A saved conversation as Markdown or JSON, and as the items that carry it into a new session.

Exports show an interrupted answer the way the window does: what was heard, then the unheard rest
struck through. Every export goes through :func:`~desktop_app.log.redact`, as the event log does.

:func:`replay_items` follows the controller's reconnect rules
(``realtime.conversation.Conversation.replay_items``): user and assistant messages as text items,
an interrupted answer only as far as it was heard, echo and tool lines left out.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from desktop_app.history.records import SavedConversation, SavedEntry
from desktop_app.log import redact
from desktop_app.realtime import commands

JSON_FORMAT = "parley-conversation"
JSON_VERSION = 1

_ROLE_NAMES = {"user": "You", "assistant": "Assistant", "tool": "Tool"}


def _when(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


def title_of(conversation: SavedConversation) -> str:
    summary = conversation.summary
    return summary.title or f"Conversation of {_when(summary.started_at)}"


def replay_items(conversation: SavedConversation) -> list[dict[str, Any]]:
    """The conversation as ``conversation.item.create`` items for a new session, oldest first."""
    items = []
    for entry in conversation.entries:
        if entry.echo or entry.role not in ("user", "assistant"):
            continue
        words = entry.heard_text.strip()
        if not words:
            continue
        make = commands.user_text_item if entry.role == "user" else commands.assistant_text_item
        items.append(make(words))
    return items


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _markdown_entry(entry: SavedEntry) -> list[str]:
    if entry.role == "tool":
        status = f" ({entry.tool_status})" if entry.tool_status else ""
        lines = [f"> **Tool** `{entry.tool_name or '?'}`{status}"]
        if entry.tool_arguments:
            lines.append(f"> arguments: `{entry.tool_arguments}`")
        if entry.tool_output:
            lines.append(f"> result: `{entry.tool_output}`")
        return lines + [""]
    name = _ROLE_NAMES.get(entry.role, entry.role.title())
    text = entry.heard_text.strip()
    rest = entry.unheard_text.strip()
    body = text + (f" ~~{rest}~~" if rest else "")
    notes = []
    if entry.truncated:
        notes.append("interrupted")
    if entry.echo:
        notes.append("echo of the assistant, ignored")
    if not entry.final:
        notes.append("unfinished")
    suffix = f" *({', '.join(notes)})*" if notes else ""
    return [f"**{name}:** {body}{suffix}", ""]


def to_markdown(conversation: SavedConversation) -> str:
    """A readable Markdown document of the conversation."""
    s = conversation.summary
    facts = [_when(s.started_at)]
    if s.ended_at:
        facts.append(f"{max(1, round((s.ended_at - s.started_at) / 60))} min")
    facts += [x for x in (s.model, f"voice {s.voice}" if s.voice else "") if x]
    if s.cost_usd is not None:
        facts.append(f"${s.cost_usd:.2f}")
    seconds = _number((conversation.usage.get("tokens") or {}).get("live_seconds"))
    if seconds:
        facts.append(f"{seconds:.0f} s billed by the second")
    lines = [f"# {title_of(conversation)}", "", "*" + " · ".join(facts) + "*", ""]
    for entry in conversation.entries:
        lines += _markdown_entry(entry)
    if conversation.turns:
        firsts = [t.speech_to_first_byte_ms for t in conversation.turns if t.speech_to_first_byte_ms is not None]
        if firsts:
            lines += [f"*{len(conversation.turns)} turns; first answer audio after "
                      f"{sorted(firsts)[len(firsts) // 2]:.0f} ms (median).*", ""]
    return redact("\n".join(lines).rstrip() + "\n")


def to_json(conversation: SavedConversation) -> str:
    """The conversation as a self-describing JSON document (``format``/``version`` first)."""
    s = conversation.summary
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "conversation": {
            "id": s.id, "title": title_of(conversation),
            "started_at": dt.datetime.fromtimestamp(s.started_at).isoformat(timespec="seconds"),
            "ended_at": dt.datetime.fromtimestamp(s.ended_at).isoformat(timespec="seconds") if s.ended_at else None,
            "model": s.model, "voice": s.voice, "continued_from": s.continued_from, "cost_usd": s.cost_usd,
            "usage": conversation.usage,
        },
        "entries": [
            {"item_id": e.item_id, "role": e.role, "text": e.text, "heard": e.heard_text,
             "unheard": e.unheard_text, "truncated": e.truncated, "final": e.final, "echo": e.echo,
             "tool": ({"name": e.tool_name, "status": e.tool_status, "arguments": e.tool_arguments,
                       "output": e.tool_output} if e.role == "tool" else None),
             "at": e.at}
            for e in conversation.entries
        ],
        "turns": [
            {"index": t.index, "at": t.at, "speech_to_first_byte_ms": t.speech_to_first_byte_ms,
             "first_byte_to_playback_ms": t.first_byte_to_playback_ms, "total_ms": t.total_ms,
             "barge_in_to_silence_ms": t.barge_in_to_silence_ms, "interrupted": t.interrupted}
            for t in conversation.turns
        ],
    }
    return redact(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
