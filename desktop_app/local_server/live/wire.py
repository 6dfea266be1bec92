"""A GPT-Live session's one audio format on the wire (both directions) ↔ pcm16 24 kHz inside.

Live takes PCM at 16 or 24 kHz, or G.711 (μ-law/A-law) at 8 kHz (live-protocol.md §2); the server's
VAD, recognizer and synthesizer work at 24 kHz. Streams keep their resampler state across calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import soxr

from desktop_app.audio.codecs import Decoder, Encoder


class WireAudio:
    """Converts one session's input to pcm16 24 kHz and its output back to the wire format."""

    def __init__(self, fmt: dict[str, Any]) -> None:
        self.kind = str(fmt.get("type", "audio/pcm"))
        self.rate = int(fmt.get("rate", 24000))
        self._pcm16k = self.kind == "audio/pcm" and self.rate == 16000
        self._up = soxr.ResampleStream(16000, 24000, 1, dtype="int16", quality="LQ") if self._pcm16k else None
        self._down = soxr.ResampleStream(24000, 16000, 1, dtype="int16", quality="LQ") if self._pcm16k else None
        g711 = self.kind != "audio/pcm"
        self._decoder = Decoder(self.kind) if g711 else None
        self._encoder = Encoder(self.kind) if g711 else None

    @property
    def bytes_per_ms(self) -> float:
        return 8.0 if self.kind != "audio/pcm" else self.rate / 1000.0 * 2

    def problem(self, payload: bytes) -> str | None:
        """Why ``payload`` is not audio in this format (None when it is)."""
        if self.kind == "audio/pcm" and len(payload) % 2:
            return "PCM audio must have an even number of bytes (16-bit samples, no header)"
        return None

    def decode(self, payload: bytes) -> bytes:
        if self._decoder is not None:
            return self._decoder.decode(payload)
        if self._up is not None:
            return bytes(self._up.resample_chunk(np.frombuffer(payload, np.int16)).tobytes())
        return payload

    def encode(self, pcm24: bytes) -> bytes:
        if self._encoder is not None:
            return self._encoder.encode(pcm24)
        if self._down is not None:
            return bytes(self._down.resample_chunk(np.frombuffer(pcm24, np.int16)).tobytes())
        return pcm24


def silence_like(pcm24: bytes) -> bytes:
    """Zeros as long as ``pcm24`` (what the model hears while the user is muted)."""
    return np.zeros(len(pcm24) // 2, np.int16).tobytes()
