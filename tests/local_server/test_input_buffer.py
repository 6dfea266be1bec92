"""The input audio buffer's accounting (realtime-protocol.md §4.4, §5): G.711 counts 8 bytes a
millisecond and each commit holds exactly what was appended for it."""

from __future__ import annotations


import numpy as np
import pytest

from desktop_app.audio.codecs import encode
from tests.local_server.talk import Talk

G711 = ["audio/pcmu", "audio/pcma"]
COMMIT = {"type": "input_audio_buffer.commit"}


def tone(ms: int) -> np.ndarray:
    return (np.sin(np.arange(24 * ms) / 5) * 8000).astype("<i2")


def silence(ms: int) -> np.ndarray:
    return np.zeros(24 * ms, "<i2")


def send_g711(talk: Talk, fmt: str, pcm: np.ndarray, chunk_ms: int = 20) -> None:
    """``pcm`` (24 kHz) on the wire as G.711, in ``chunk_ms`` appends."""
    payload = encode(fmt, pcm.tobytes())
    assert len(payload) == len(pcm) // 3  # 8 bytes a millisecond
    for at in range(0, len(payload), 8 * chunk_ms):
        talk.append(payload[at : at + 8 * chunk_ms])


def committed_id(talk: Talk) -> str:
    return next(e for e in talk.events() if e["type"] == "input_audio_buffer.committed")["item_id"]


def rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)))


@pytest.mark.parametrize("fmt", G711)
async def test_g711_commit_of_exactly_100_ms_is_accepted_and_holds_100_ms(fmt):
    talk = Talk(td=None, format={"type": fmt})
    send_g711(talk, fmt, tone(100), chunk_ms=100)  # one 800-byte append
    talk.send(COMMIT)
    pcm = talk.retrieve_audio(committed_id(talk))
    assert len(pcm) == 100 * 48
    talk.session.close()


@pytest.mark.parametrize("fmt", G711)
async def test_g711_audio_of_one_commit_does_not_leak_into_the_next(fmt):
    talk = Talk(td=None, format={"type": fmt})
    items = []
    for pcm in (tone(200), silence(200)):
        send_g711(talk, fmt, pcm)
        talk.send(COMMIT)
        items.append(committed_id(talk))
    first, second = (np.frombuffer(talk.retrieve_audio(item), "<i2") for item in items)
    assert len(first) == len(second) == 24 * 200
    assert rms(first[-24 * 20 :]) > 3000  # the tone runs to the end of its own item…
    assert np.abs(second).max() < 100  # …and none of it arrives with the next one
    talk.session.close()


@pytest.mark.parametrize("fmt", G711)
async def test_g711_audio_appended_before_a_clear_is_gone(fmt):
    talk = Talk(td=None, format={"type": fmt})
    send_g711(talk, fmt, tone(200))
    talk.send({"type": "input_audio_buffer.clear"})
    send_g711(talk, fmt, silence(100))
    talk.send(COMMIT)
    pcm = np.frombuffer(talk.retrieve_audio(committed_id(talk)), "<i2")
    assert len(pcm) == 24 * 100 and np.abs(pcm).max() < 100
    talk.session.close()
