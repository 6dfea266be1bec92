"""Is a piece of the output track voice or silence? (standard library only)

GPT-Live sends one continuous output track, with silence between replies (observed as zeros, §4).
A chunk is *voiced* when its loudest sample passes :data:`VOICED_PEAK` (about -60 dBFS): far above
digital silence and dither, far below any syllable. PCM16 is read with :mod:`array`; G.711 bytes are
expanded through 256-entry tables built from the ITU formulas.
"""

from __future__ import annotations

import sys
from array import array

VOICED_PEAK = 33  # of 32767: -60 dBFS


def _ulaw(byte: int) -> int:
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte & 0x70) >> 4)
    return (0x84 - magnitude) if byte & 0x80 else (magnitude - 0x84)


def _alaw(byte: int) -> int:
    byte ^= 0x55
    segment = (byte & 0x70) >> 4
    value = (byte & 0x0F) << 4
    value = value + 8 if segment == 0 else (value + 0x108) << (segment - 1)
    return value if byte & 0x80 else -value


_PEAKS = {"audio/pcmu": bytes(min(255, abs(_ulaw(b)) >> 7) for b in range(256)),
          "audio/pcma": bytes(min(255, abs(_alaw(b)) >> 7) for b in range(256))}


def voiced(audio: bytes, fmt: str = "audio/pcm") -> bool:
    """True when ``audio`` (raw, in the session's format) holds more than silence."""
    if fmt in _PEAKS:
        table = _PEAKS[fmt]
        return max(audio.translate(table), default=0) << 7 > VOICED_PEAK
    samples = array("h")
    samples.frombytes(audio[: len(audio) - len(audio) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return bool(samples) and max(max(samples), -min(samples)) > VOICED_PEAK
