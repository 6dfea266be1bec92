"""The per-item accounting behind :class:`~desktop_app.audio.playback_queue.PlaybackQueue`: how much
of each assistant item arrived and how much was handed to the device (24 kHz samples)."""

from __future__ import annotations

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
