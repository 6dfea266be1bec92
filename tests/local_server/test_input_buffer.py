"""The input audio buffer's accounting (realtime-protocol.md §4.4, §2.4, §5): G.711 counts 8 bytes a
millisecond and each commit holds exactly what was appended for it; with server VAD, the audio kept
while nobody speaks is bounded but a commit still counts (and, up to the bound, holds) all of it."""

from __future__ import annotations

import asyncio
import base64

import numpy as np
import pytest

from desktop_app.audio.codecs import encode
from desktop_app.local_server.input_audio import IDLE_KEEP_MS
from tests.local_server.client import Client, user_text
from tests.local_server.talk import Talk, turn_detection

G711 = ["audio/pcmu", "audio/pcma"]
COMMIT = {"type": "input_audio_buffer.commit"}
VAD_NO_RESPONSE = {"type": "server_vad", "create_response": False}


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


async def test_a_manual_commit_of_silence_with_server_vad_keeps_all_of_it():
    talk = Talk(td=VAD_NO_RESPONSE)
    for _ in range(50):  # five seconds of silence: nobody speaks, so nothing is committed by the VAD
        talk.append(silence(100).tobytes())
    talk.send(COMMIT)
    assert len(talk.retrieve_audio(committed_id(talk))) == 5000 * 48
    response = await talk.respond(output_modalities=["text"])
    assert response["usage"]["input_token_details"]["audio_tokens"] == 50
    talk.session.close()


async def test_a_long_silence_keeps_bounded_pcm_but_counts_its_whole_duration():
    talk = Talk(td=VAD_NO_RESPONSE)
    minutes = 10
    peak = 0
    for _ in range(minutes * 60):
        talk.append(silence(1000).tobytes())
        peak = max(peak, len(talk.session.input.buffer))
    assert peak / 48 <= 1.2 * IDLE_KEEP_MS  # memory stays bounded however long the silence
    talk.send(COMMIT)
    item_id = committed_id(talk)
    assert talk.session.conversation.get(item_id).audio_ms == minutes * 60_000
    assert IDLE_KEEP_MS * 48 <= len(talk.retrieve_audio(item_id)) <= peak  # the newest stretch of it
    response = await talk.respond(output_modalities=["text"])
    assert response["usage"]["input_token_details"]["audio_tokens"] == minutes * 600
    talk.session.close()


async def test_G_idle_timeout_spans_the_idle_period_and_commits_all_of_it(server):
    async with await Client.open(server.url) as client:
        await client.send(turn_detection({"type": "server_vad", "idle_timeout_ms": 5000}))
        await client.wait_for("session.updated")
        await client.send(user_text("hello"))
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        await client.response()
        streamer = asyncio.get_running_loop().create_task(client.append_audio(silence(9000), realtime=True))
        try:
            timeout = await client.wait_for("input_audio_buffer.timeout_triggered", timeout=15)
            committed = await client.wait_for("input_audio_buffer.committed")
            _, response = await client.response()
        finally:
            streamer.cancel()
        await client.send({"type": "conversation.item.retrieve", "item_id": committed["item_id"]})
        item = (await client.wait_for("conversation.item.retrieved"))["item"]
    item_ms = len(base64.b64decode(item["content"][0]["audio"])) / 48
    # The idle period began when the (text) answer was done, where the silence starts on the timeline.
    assert 0 <= timeout["audio_start_ms"] <= 300
    assert 4500 <= timeout["audio_end_ms"] - timeout["audio_start_ms"] <= 5500  # roughly the timeout
    assert 4500 <= item_ms <= 5500  # the whole silent buffer is committed
    assert response["usage"]["input_token_details"]["audio_tokens"] == round(item_ms / 100)
