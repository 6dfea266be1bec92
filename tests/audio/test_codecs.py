"""Codecs: G.711 bit-exact against the standard library's audioop, streaming resampled encode/decode."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from desktop_app.audio import codecs
from desktop_app.audio.codecs import AudioFormat, Decoder, Encoder, bytes_per_ms, decode, encode

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # the reference implementation; present on 3.11/3.12

ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))


def tone(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def test_ulaw_encode_is_bit_exact_with_audioop_for_every_sample() -> None:
    ref = np.frombuffer(audioop.lin2ulaw(ALL_SAMPLES.astype("<i2").tobytes(), 2), dtype=np.uint8)
    np.testing.assert_array_equal(codecs.ulaw_encode(ALL_SAMPLES), ref)


def test_alaw_encode_is_bit_exact_with_audioop_for_every_sample() -> None:
    ref = np.frombuffer(audioop.lin2alaw(ALL_SAMPLES.astype("<i2").tobytes(), 2), dtype=np.uint8)
    np.testing.assert_array_equal(codecs.alaw_encode(ALL_SAMPLES), ref)


def test_ulaw_and_alaw_decode_are_bit_exact_with_audioop_for_every_code() -> None:
    np.testing.assert_array_equal(codecs.ulaw_decode(ALL_CODES), np.frombuffer(audioop.ulaw2lin(ALL_CODES, 2), "<i2"))
    np.testing.assert_array_equal(codecs.alaw_decode(ALL_CODES), np.frombuffer(audioop.alaw2lin(ALL_CODES, 2), "<i2"))


def test_bytes_per_ms_per_format() -> None:
    assert bytes_per_ms("audio/pcm") == 48
    assert bytes_per_ms(AudioFormat.PCMU) == bytes_per_ms(AudioFormat.PCMA) == 8


def test_pcm_is_passed_through_unchanged() -> None:
    data = codecs.float_to_pcm16(tone(440, 24000, 0.1)).tobytes()
    assert encode("audio/pcm", data) == data
    assert decode("audio/pcm", data) == data
    with pytest.raises(ValueError):
        Decoder("audio/pcm").decode(b"\x00")


def test_float_to_pcm16_clips_instead_of_wrapping() -> None:
    np.testing.assert_array_equal(codecs.float_to_pcm16(np.array([1.5, -1.5, 0.5], np.float32)), [32767, -32768, 16384])


@pytest.mark.parametrize("fmt", [AudioFormat.PCMU, AudioFormat.PCMA])
def test_g711_one_shot_round_trip_keeps_length_and_pitch(fmt: AudioFormat) -> None:
    pcm = codecs.float_to_pcm16(tone(1000, 24000, 0.5)).tobytes()
    payload = encode(fmt, pcm)
    assert len(payload) == len(pcm) // 2 // 3  # 8 kHz, one byte per sample
    back = decode(fmt, payload)
    assert len(back) == len(pcm)
    x = codecs.pcm16_to_float(back)
    assert abs(dominant_hz(x[2400:-2400], 24000) - 1000) < 5
    ref = tone(1000, 24000, 0.5)[2400:-2400]
    snr = 10 * np.log10(np.sum(ref**2) / np.sum((x[2400:-2400] - ref) ** 2))
    assert snr > 25  # G.711 gives ~35 dB on a loud tone; time alignment holds through both resamplers


@pytest.mark.parametrize("fmt", [AudioFormat.PCMU, AudioFormat.PCMA])
def test_g711_streaming_in_20ms_chunks_matches_one_shot(fmt: AudioFormat) -> None:
    pcm = codecs.float_to_pcm16(tone(700, 24000, 0.4)).tobytes()
    encoder = Encoder(fmt)
    chunks = [encoder.encode(pcm[i : i + 960]) for i in range(0, len(pcm), 960)]
    streamed = b"".join(chunks) + encoder.flush()
    assert streamed == encode(fmt, pcm)
    decoder = Decoder(fmt)
    back = b"".join(decoder.decode(streamed[i : i + 160]) for i in range(0, len(streamed), 160)) + decoder.flush()
    assert back == decode(fmt, streamed)
