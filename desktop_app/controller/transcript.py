"""Transcript entries for the view, built from the protocol core's conversation items.

Rules a person expects: conversation order (even when a user's transcription arrives after the
answer); interim text while words arrive; a truncated answer keeps its whole text but knows which
part was heard; a tool call shows as one entry whose status follows its output item.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    items: Iterable[Item], received_ms: dict[str, int], echo_items: frozenset[str] = frozenset()
) -> list[TranscriptEntry]:
    """One entry per user/assistant message and per tool call, in conversation order."""
    entries: list[TranscriptEntry] = []
    calls: dict[str, int] = {}
    for item in items:
        if item.type == "message" and item.role in ("user", "assistant"):
            entries.append(_message_entry(item, received_ms.get(item.id, 0), item.id in echo_items))
        elif item.type == "function_call":
            calls[item.call_id or item.id] = len(entries)
            entries.append(TranscriptEntry(
                item_id=item.id, role="tool", text=item.arguments, final=item.done,
                tool_name=item.name, tool_status="running",
            ))
        elif item.type == "function_call_output" and item.call_id in calls:
            index = calls[item.call_id]
            call = entries[index]
            failed = (item.output or "").lstrip().startswith('{"error"')
            entries[index] = TranscriptEntry(
                item_id=call.item_id, role="tool", text=call.text, final=True, tool_name=call.tool_name,
                tool_status="error" if failed else "done", heard=item.output,
            )
    return entries


def _message_entry(item: Item, received_ms: int, echo: bool) -> TranscriptEntry:
    if item.role == "user":
        if item.transcript_error and not item.transcript:
            text, final = "(could not transcribe)", True
        elif item.has_audio:
            text, final = item.transcript, item.transcript_final
        else:
            text, final = item.text, True
        return TranscriptEntry(item_id=item.id, role="user", text=text, final=final, echo=echo)
    text = item.display_text
    heard = heard_part(text, item.audio_end_ms, received_ms) if item.truncated else None
    return TranscriptEntry(
        item_id=item.id, role="assistant", text=text, final=item.done or item.truncated,
        truncated=item.truncated, heard=heard,
    )
