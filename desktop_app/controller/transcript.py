"""Transcript entries for the view, built from the protocol core's conversation items.

Rules a person expects: conversation order (even when a user's transcription arrives after the
answer); interim text while words arrive; a truncated answer keeps its whole text but knows which
part was heard; a tool call shows as one entry whose status follows its output item.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace

from desktop_app.controller.view_state import TranscriptEntry
from desktop_app.realtime.conversation import Item


def heard_part(text: str, audio_end_ms: int | None, received_ms: int) -> str:
    """The words of ``text`` spoken before ``audio_end_ms``, assuming an even speaking rate.

    The server trims its own copy by word timing we never see; proportional length cut at a word
    boundary is the best local estimate, and it only decides where the strike-through starts.
    """
    if audio_end_ms is None or received_ms <= 0:
        return text
    fraction = max(0.0, min(1.0, audio_end_ms / received_ms))
    cut = int(len(text) * fraction)
    if cut >= len(text):
        return text
    space = text.rfind(" ", 0, cut + 1)
    return text[: space if space > 0 else 0].rstrip()


def entries_from_items(
    items: Iterable[Item], received_ms: dict[str, int], echo_items: frozenset[str] = frozenset(),
    heard_ms: Mapping[str, int] | None = None,
) -> list[TranscriptEntry]:
    """One entry per user/assistant message and per tool call, in conversation order. A function
    call's entry takes its output's status and text; an MCP call takes the place of the approval
    request it answered, so one entry follows the call from "approval" to "done". ``heard_ms``: answers
    cut by a barge-in the dialect has no truncation for (GPT-Live), with how much of each was heard."""
    heard_ms = heard_ms or {}
    entries: list[TranscriptEntry] = []
    calls: dict[str, int] = {}  # call_id (or MCP approval request id) → entry index
    for item in items:
        if item.type == "message" and item.role in ("user", "assistant"):
            entries.append(_message_entry(item, received_ms.get(item.id, 0), item.id in echo_items,
                                          heard_ms.get(item.id)))
        elif item.type in ("function_call", "mcp_approval_request"):
            calls[item.call_id or item.id] = len(entries)
            approval = item.type == "mcp_approval_request"
            entries.append(TranscriptEntry(
                item_id=item.id, role="tool", text=item.arguments, final=item.done or approval,
                tool_name=_tool_name(item), tool_status="approval" if approval else "running",
            ))
        elif item.type == "function_call_output" and item.call_id in calls:
            index = calls[item.call_id]
            status, shown = output_status(item.output or "")
            entries[index] = replace(entries[index], final=True, tool_status=status, heard=shown)
        elif item.type == "mcp_approval_response" and item.approval_request_id in calls:
            index = calls[item.approval_request_id]
            entries[index] = replace(entries[index], tool_status="running" if item.approve else "denied")
        elif item.type == "mcp_call":
            entry = TranscriptEntry(item_id=item.id, role="tool", text=item.arguments, final=item.done,
                                    tool_name=_tool_name(item), tool_status=_mcp_status(item),
                                    heard=item.error or item.output)
            if item.approval_request_id in calls:
                index = calls[item.approval_request_id]
                entries[index] = replace(entry, item_id=entries[index].item_id)
            else:
                entries.append(entry)
    return entries


def output_status(output: str) -> tuple[str, str]:
    """A function call's status from its output (``done``, ``error``, ``cancelled``, ``denied``) and
    the text to show: the result, or the error's message."""
    try:
        value = json.loads(output)
    except ValueError:
        return "done", output
    error = value.get("error") if isinstance(value, dict) else None
    if error is None:
        return "done", output
    if not isinstance(error, dict):
        return "error", str(error)
    kind = str(error.get("type") or "")
    status = kind if kind in ("cancelled", "denied") else "error"
    return status, str(error.get("message") or kind or "failed")


def _tool_name(item: Item) -> str | None:
    return f"{item.server_label} · {item.name}" if item.server_label else item.name


def _mcp_status(item: Item) -> str:
    if item.error or item.status in ("failed", "incomplete"):
        return "error"
    return "done" if item.output is not None and item.done else "running"


def _message_entry(item: Item, received_ms: int, echo: bool, heard_ms: int | None = None) -> TranscriptEntry:
    if item.role == "user":
        if item.transcript_error and not item.transcript:
            text, final = "(could not transcribe)", True
        elif item.has_audio:
            text, final = item.transcript, item.transcript_final
        else:
            text, final = item.text, True
        return TranscriptEntry(item_id=item.id, role="user", text=text, final=final, echo=echo)
    text = item.display_text
    cut = item.truncated or heard_ms is not None
    heard = heard_part(text, item.audio_end_ms if item.truncated else heard_ms, received_ms) if cut else None
    return TranscriptEntry(
        item_id=item.id, role="assistant", text=text, final=item.done or item.truncated,
        truncated=cut, heard=heard,
    )
