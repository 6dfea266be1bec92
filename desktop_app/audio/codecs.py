"""The Realtime API's audio formats: ``audio/pcm`` (16-bit LE, 24 kHz mono) and G.711 µ-law/A-law.

Everything inside Parley is 24 kHz pcm16; the codec sits at the wire. G.711 runs at 8 kHz, so its
:class:`Encoder`/:class:`Decoder` also resample, with a streaming resampler whose state lives across
calls (one per direction per session). The companding itself is table-driven: a 65 536-entry encode
table and a 256-entry decode table built once from the ITU-T G.711 segment rules, bit-exact with the
standard library's ``audioop`` (verified in the tests over every input; ``audioop`` itself is gone
in Python 3.13, so it is only the oracle).
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from desktop_app.audio.resample import StreamResampler

PCM_RATE = 24000
G711_RATE = 8000


class AudioFormat(str, Enum):
    """The three ``audio.input.format.type`` / ``audio.output.format.type`` values."""

    PCM = "audio/pcm"
    PCMU = "audio/pcmu"
    PCMA = "audio/pcma"


def bytes_per_ms(fmt: AudioFormat | str) -> int:
    """Payload bytes per millisecond of audio: 48 for pcm16 at 24 kHz, 8 for G.711."""
    return 48 if AudioFormat(fmt) is AudioFormat.PCM else 8


# --- pcm16 <-> float -----------------------------------------------------------------------------


def pcm16_to_float(data: bytes | np.ndarray) -> np.ndarray:
    """Little-endian int16 bytes (or an int16 array) to float32 in [-1, 1)."""
    samples = np.frombuffer(data, dtype="<i2") if isinstance(data, (bytes, bytearray, memoryview)) else data
    return samples.astype(np.float32) * np.float32(1.0 / 32768.0)


def float_to_pcm16(x: np.ndarray) -> np.ndarray:
    """float32 to int16 with rounding and clipping (no wrap-around on overs)."""
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype("<i2")


# --- G.711 tables --------------------------------------------------------------------------------

_SEG_UEND = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)
_SEG_AEND = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF], dtype=np.int32)
_BIAS = 0x84


def _build_ulaw_encode() -> np.ndarray:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 2  # 14-bit, as audioop does
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(pcm), 32635) + (_BIAS >> 2)
    seg = np.searchsorted(_SEG_UEND, mag, side="left")
    val = (np.minimum(seg, 7) << 4) | ((mag >> (np.minimum(seg, 7) + 1)) & 0xF)
    code = np.where(seg >= 8, 0x7F ^ mask, val ^ mask)
    return _index_by_uint16(code.astype(np.uint8))


def _build_alaw_encode() -> np.ndarray:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 3  # 13-bit
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    mag = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_SEG_AEND, mag, side="left")
    segc = np.minimum(seg, 7)
    quant = np.where(segc < 2, mag >> 1, mag >> segc) & 0xF
    code = np.where(seg >= 8, 0x7F ^ mask, ((segc << 4) | quant) ^ mask)
    return _index_by_uint16(code.astype(np.uint8))


def _index_by_uint16(codes_from_min: np.ndarray) -> np.ndarray:
    """Reorder a table indexed by ``sample + 32768`` to be indexed by the sample's uint16 bits."""
    return np.roll(codes_from_min, 32768)


def _build_ulaw_decode() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0xF) << 3) + _BIAS) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, _BIAS - t, t - _BIAS).astype(np.int16)


def _build_alaw_decode() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    t = (a & 0xF) << 4
    seg = (a & 0x70) >> 4
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


_ULAW_ENC = _build_ulaw_encode()
_ALAW_ENC = _build_alaw_encode()
_ULAW_DEC = _build_ulaw_decode()
_ALAW_DEC = _build_alaw_decode()


def ulaw_encode(pcm16: np.ndarray) -> np.ndarray:
    """int16 samples to µ-law bytes (uint8)."""
    return _ULAW_ENC[np.asarray(pcm16, dtype=np.int16).view(np.uint16)]


def alaw_encode(pcm16: np.ndarray) -> np.ndarray:
    """int16 samples to A-law bytes (uint8)."""
    return _ALAW_ENC[np.asarray(pcm16, dtype=np.int16).view(np.uint16)]


def ulaw_decode(codes: bytes | np.ndarray) -> np.ndarray:
    """µ-law bytes to int16 samples."""
    samples: np.ndarray = _ULAW_DEC[np.frombuffer(codes, dtype=np.uint8) if isinstance(codes, (bytes, bytearray)) else codes]
    return samples


def alaw_decode(codes: bytes | np.ndarray) -> np.ndarray:
    """A-law bytes to int16 samples."""
    samples: np.ndarray = _ALAW_DEC[np.frombuffer(codes, dtype=np.uint8) if isinstance(codes, (bytes, bytearray)) else codes]
    return samples


# --- streaming encoder / decoder -----------------------------------------------------------------

# G.711 is telephone speech; soxr "LQ" keeps the 3:1 filter's look-ahead short (latency matters
# more than the last dB of stop-band here).
_G711_QUALITY = "LQ"


class Encoder:
    """pcm16 24 kHz in, wire payload out, with the 24 → 8 kHz state kept across calls for G.711."""

    def __init__(self, fmt: AudioFormat | str) -> None:
        self.format = AudioFormat(fmt)
        self._resampler = (
            None if self.format is AudioFormat.PCM else StreamResampler(PCM_RATE, G711_RATE, quality=_G711_QUALITY)
        )
        self._compand = ulaw_encode if self.format is AudioFormat.PCMU else alaw_encode

    def encode(self, pcm16_24k: bytes) -> bytes:
        if self._resampler is None:
            return bytes(pcm16_24k)
        return self._finish(self._resampler.process(pcm16_to_float(pcm16_24k)))

    def flush(self) -> bytes:
        """The resampler's tail, at the end of a stream."""
        if self._resampler is None:
            return b""
        return self._finish(self._resampler.flush())

    def _finish(self, x8k: np.ndarray) -> bytes:
        return self._compand(float_to_pcm16(x8k)).tobytes()


class Decoder:
    """Wire payload in, pcm16 24 kHz out, with the 8 → 24 kHz state kept across calls for G.711."""

    def __init__(self, fmt: AudioFormat | str) -> None:
        self.format = AudioFormat(fmt)
        self._resampler = (
            None if self.format is AudioFormat.PCM else StreamResampler(G711_RATE, PCM_RATE, quality=_G711_QUALITY)
        )
        self._expand = ulaw_decode if self.format is AudioFormat.PCMU else alaw_decode

    def decode(self, payload: bytes) -> bytes:
        if self._resampler is None:
            if len(payload) % 2:
                raise ValueError("audio/pcm payload has an odd number of bytes")
            return bytes(payload)
        return float_to_pcm16(self._resampler.process(pcm16_to_float(self._expand(payload)))).tobytes()

    def flush(self) -> bytes:
        if self._resampler is None:
            return b""
        return float_to_pcm16(self._resampler.flush()).tobytes()


def encode(fmt: AudioFormat | str, pcm16_24k: bytes) -> bytes:
    """One-shot encode of a whole buffer (the resampler is flushed, so the length is exact)."""
    encoder = Encoder(fmt)
    return encoder.encode(pcm16_24k) + encoder.flush()


def decode(fmt: AudioFormat | str, payload: bytes) -> bytes:
    """One-shot decode of a whole payload to pcm16 24 kHz."""
    decoder = Decoder(fmt)
    return decoder.decode(payload) + decoder.flush()


def tone_pcm16(freq: float = 440.0, seconds: float = 1.0, level_dbfs: float = -12.0, rate: int = PCM_RATE) -> bytes:
    """A sine with 10 ms raised-cosine edges, as pcm16 bytes (the settings test tone)."""
    n = int(rate * seconds)
    amp = 10 ** (level_dbfs / 20) * np.sqrt(2)
    x = amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)
    edge = min(n // 2, rate // 100)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
    x[:edge] *= ramp
    x[n - edge :] *= ramp[::-1]
    return float_to_pcm16(x.astype(np.float32)).tobytes()
