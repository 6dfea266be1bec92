"""Decoded WebRTC audio → PCM16 24 kHz mono, with lost packets concealed — for both ends of a call.

aiortc decodes Opus to 48 kHz stereo frames whose ``pts`` follows the RTP timestamps, and simply
skips a packet that never came. Skipping shortens the audio: the assistant's item would be shorter
here than on the server (truncation off by 20 ms per loss) and a lost piece of a word vanishes from
the speech recogniser's input. :class:`TrackPcm` keeps the timeline whole: a gap in ``pts`` is filled
with the last frame repeated at falling gain (classic packet-repetition concealment; silence beyond
:data:`CONCEAL_MS`), then the frame is resampled to 24 kHz mono.

Used by the client's transport and by the local server, which may not import each other; it imports
nothing of Parley.
"""

from __future__ import annotations

import numpy as np
from av import AudioFrame, AudioResampler

RATE = 24_000
#: Lost audio up to this long is concealed by repetition; the rest of a longer gap is silence.
CONCEAL_MS = 60
_FADE = 0.6  # gain per repeated frame


class TrackPcm:
    """One remote track's frames, in order, as PCM16 24 kHz mono bytes (gaps concealed)."""

    def __init__(self) -> None:
        self._resampler = AudioResampler(format="s16", layout="mono", rate=RATE)
        self._next_pts: int | None = None
        self._last = b""
        self.concealed_ms = 0.0

    def convert(self, frame: AudioFrame) -> bytes:
        """The frame's PCM, preceded by concealment for any frames lost just before it."""
        out = b""
        if frame.pts is not None and frame.sample_rate:
            if self._next_pts is not None and frame.pts > self._next_pts:
                out += self._conceal((frame.pts - self._next_pts) * 1000.0 / frame.sample_rate)
            self._next_pts = frame.pts + frame.samples
        pcm = b"".join(bytes(p.planes[0])[: p.samples * 2] for p in self._resampler.resample(frame))
        if pcm:
            self._last = pcm
        return out + pcm

    def _conceal(self, ms: float) -> bytes:
        self.concealed_ms += ms
        need = int(ms * RATE / 1000) * 2
        if not self._last:
            return bytes(need)
        last = np.frombuffer(self._last, dtype=np.int16).astype(np.float32)
        pieces, gain, made = [], _FADE, 0
        while made < need and made < CONCEAL_MS * 48:
            piece = (last * gain).astype(np.int16).tobytes()[: need - made]
            pieces.append(piece)
            made += len(piece)
            gain *= _FADE
        return b"".join(pieces) + bytes(need - made)
