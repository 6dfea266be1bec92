"""The per-item accounting behind :class:`~desktop_app.audio.playback_queue.PlaybackQueue`: how much
of each assistant item arrived and how much was handed to the device (24 kHz samples)."""

from __future__ import annotations

import collections
from typing import Any

from dataclasses import dataclass


@dataclass(frozen=True)
class PlaybackReport:
    """How much of one assistant item reached the device, and how much had arrived."""

    item_id: str
    played_ms: int
    received_ms: int
    played_samples: int = 0
    received_samples: int = 0

    @property
    def truncate_ms(self) -> int:
        """The ``audio_end_ms`` to send when this item is interrupted."""
        return min(self.played_ms, self.received_ms)


class ItemCounts:
    """One item's received and played sample counts, and whether it is finished or flushed."""

    __slots__ = ("item_id", "received", "played", "finished", "flushed")

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        self.received = 0
        self.played = 0
        self.finished = False
        self.flushed = False

    def report(self, rate: int) -> PlaybackReport:
        return PlaybackReport(
            self.item_id, self.played * 1000 // rate, self.received * 1000 // rate, self.played, self.received
        )


class PlayedLedger:
    """Which item each span of pulled 24 kHz positions belongs to, until the device has played it.

    ``pull`` credits the spans it hands to the resampler (:meth:`credit`); once the device has been
    handed a position, the items are credited with what they played up to it (:meth:`advance`).
    Spans are ``[item, start, end)``; consecutive spans of one item merge.
    """

    __slots__ = ("spans",)

    def __init__(self) -> None:
        self.spans: collections.deque[list[Any]] = collections.deque()

    def __bool__(self) -> bool:
        return bool(self.spans)

    @property
    def head(self) -> ItemCounts | None:
        return self.spans[0][0] if self.spans else None

    def clear(self) -> None:
        self.spans.clear()

    def credit(self, item: ItemCounts, start: int, k: int) -> None:
        spans = self.spans
        if spans and spans[-1][0] is item and spans[-1][2] == start:
            spans[-1][2] = start + k
        else:
            spans.append([item, start, start + k])

    def advance(self, position: int) -> None:
        """Everything before ``position`` has been handed to the device: credit it as played."""
        spans = self.spans
        while spans and spans[0][1] < position:
            span = spans[0]
            upto = min(span[2], position)
            span[0].played += upto - span[1]
            if upto == span[2]:
                spans.popleft()
            else:
                span[1] = upto

    def between(self, item: ItemCounts, start: int, end: int) -> int:
        """Samples of ``item`` in the pipeline at positions [start, end)."""
        return sum(max(0, min(e, end) - max(s, start)) for span_item, s, e in self.spans if span_item is item)


Segments = collections.deque[list[Any]]  # of [item, samples (float32 24 kHz), offset], in arrival order
"""Audio received and not yet pulled, as the queue keeps it."""


def queued_between(segments: Segments, item: ItemCounts, position: int, end: int) -> int:
    """Samples of ``item`` among the queued segments that would be pulled at [position, end)."""
    total = 0
    for seg_item, data, offset in segments:
        if position >= end:
            break
        k = min(len(data) - offset, end - position)
        if seg_item is item:
            total += k
        position += k
    return total


def first_samples(segments: Segments, keep: int) -> tuple[Segments, int]:
    """The first ``keep`` queued samples (and how many that is): the rest is dropped."""
    kept: Segments = collections.deque()
    remaining = keep
    for seg in segments:
        if remaining <= 0:
            break
        item, data, offset = seg
        k = min(remaining, len(data) - offset)
        kept.append([item, data[: offset + k], offset])
        remaining -= k
    return kept, keep - max(remaining, 0)


def without_flushed(segments: Segments) -> tuple[Segments, int]:
    """The segments of items not flushed (and how many samples they hold)."""
    kept: Segments = collections.deque(seg for seg in segments if not seg[0].flushed)
    return kept, sum(len(data) - offset for _, data, offset in kept)
