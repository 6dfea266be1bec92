"""The conversation record: what was said and spent, across every connection of one conversation.

Each connection's protocol core knows only its own items and usage. The record keeps what earlier
connections left (transcript entries, tokens), so the view shows the whole conversation, and turns
a connection that ends into the items to replay into the next session: the model gets back what
the user heard of an interrupted answer, and never an echo.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from desktop_app.controller.transcript import entries_from_items
from desktop_app.controller.view_state import TranscriptEntry
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.usage import Usage


@dataclass(frozen=True, slots=True)
class Earlier:
    """A saved conversation carried into a new one ("continue" in the history): ``items`` are replayed
    into the first session by the reconnect rules (text; of an interrupted answer only what was
    heard; never an echo) and ``entries`` are shown above the new lines."""

    items: tuple[dict[str, Any], ...] = ()
    entries: tuple[TranscriptEntry, ...] = ()


NOTHING_EARLIER = Earlier()


class ConversationRecord:
    """Transcript entries and usage of the connections that already ended."""

    def __init__(self, earlier: tuple[TranscriptEntry, ...] = (), heard_ms: Mapping[str, int] | None = None) -> None:
        self.history = earlier  # a continued conversation starts with the saved lines
        self._heard_ms = heard_ms if heard_ms is not None else {}  # answers cut without truncation (BargeIn)
        self.past_usage = Usage()
        self._cleared: set[str] = set()  # items of the live session that belong to a cleared conversation
        self.clearing = False  # a cleared conversation's session is closing: carry nothing over

    def transcript(self, core: Dialect | None, hidden: Set[str], echo_items: frozenset[str]) -> tuple[TranscriptEntry, ...]:
        """Every entry so far; ``hidden`` are items replayed into this session (already shown)."""
        if core is None:
            return self.history
        items = [i for i in core.conversation.items if i.id not in hidden and i.id not in self._cleared]
        received = {item.id: core.received_ms(item.id) for item in items}
        return self.history + tuple(entries_from_items(items, received, echo_items, self._heard_ms))

    def usage(self, core: Dialect | None) -> Usage:
        return self.past_usage + core.usage if core is not None else self.past_usage

    def connection_ended(self, core: Dialect, hidden: Set[str], echo_items: frozenset[str]) -> list[dict[str, Any]]:
        """Keep this connection's part; returns its items to replay into the next session."""
        self.history = self.transcript(core, hidden, echo_items)
        self.past_usage = self.usage(core)
        heard = {e.item_id: e.heard or "" for e in self.history if e.role == "assistant" and e.truncated}
        return core.conversation.replay_items(heard, skip=echo_items)

    def clear(self, core: Dialect | None) -> None:
        """A new conversation: nothing so far is shown again (usage stays: it was spent)."""
        self.history = ()
        self._cleared = {i.id for i in core.conversation.items} if core is not None else set()
