"""Audio accounting for truncation and the push-to-talk guard (realtime-protocol.md §3.6 F, §4.4).

* Output: bytes of ``response.output_audio.delta`` received per assistant item, so the caller can
  truncate at ``min(played_ms, received_ms)`` — the server refuses an ``audio_end_ms`` past the
  audio it generated.
* Input: bytes appended since the last commit/clear, so the caller can refuse a commit of less
  than 100 ms instead of earning ``input_audio_buffer_commit_empty`` a second later.
"""

from __future__ import annotations

MIN_COMMIT_MS = 100
"""The server's minimum of appended audio per commit."""


def truncation_end_ms(played_ms: int, received_ms: int) -> int:
    """Where to cut an assistant item: what was heard, never past what was received, never < 0."""
    return max(0, min(int(played_ms), int(received_ms)))


def b64_decoded_len(b64: str) -> int:
    """Bytes a standard padded base64 string decodes to, without decoding it."""
    n = len(b64)
    if n == 0:
        return 0
    padding = 2 if b64.endswith("==") else 1 if b64.endswith("=") else 0
    return n * 3 // 4 - padding


class AudioLedger:
    """Counts received output audio per item and appended input audio since the last commit."""

    def __init__(self) -> None:
        # item id -> (bytes received, bytes per ms of the format they arrived in)
        self._received: dict[str, tuple[int, int]] = {}
        self._complete: set[str] = set()
        self._appended_bytes = 0
        self._appended_ms = 0.0

    def add_output(self, item_id: str, b64: str, bytes_per_ms: int) -> None:
        """Count one ``response.output_audio.delta`` for ``item_id``."""
        size, bpm = self._received.get(item_id, (0, bytes_per_ms))
        self._received[item_id] = (size + b64_decoded_len(b64), bpm)

    def add_output_bytes(self, item_id: str, nbytes: int, bytes_per_ms: int) -> None:
        """Count decoded audio of ``item_id`` that arrived as media (WebRTC), not as deltas."""
        size, bpm = self._received.get(item_id, (0, bytes_per_ms))
        self._received[item_id] = (size + nbytes, bpm)

    def received_ms(self, item_id: str) -> int:
        """Whole ms of audio received for ``item_id`` (0 if none)."""
        size, bpm = self._received.get(item_id, (0, 1))
        return size // bpm

    def mark_complete(self, item_id: str) -> None:
        """No more audio will arrive for ``item_id`` (``output_audio.done`` or ``response.done``)."""
        self._complete.add(item_id)

    def is_complete(self, item_id: str) -> bool:
        return item_id in self._complete

    def forget(self, item_id: str) -> None:
        """Drop an item's count (the item was deleted)."""
        self._received.pop(item_id, None)
        self._complete.discard(item_id)

    def add_input(self, nbytes: int, bytes_per_ms: int) -> None:
        """Count audio appended to the input buffer."""
        self._appended_bytes += nbytes
        self._appended_ms += nbytes / bytes_per_ms

    def reset_input(self) -> None:
        """The input buffer was committed or cleared."""
        self._appended_bytes = 0
        self._appended_ms = 0.0

    @property
    def appended_ms_since_commit(self) -> float:
        """Milliseconds of input audio appended since the last commit or clear."""
        return self._appended_ms

    @property
    def appended_bytes_since_commit(self) -> int:
        return self._appended_bytes
