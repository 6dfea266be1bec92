"""Input audio transcription events (§2.6): asynchronous, per model shape, failures, transcription sessions."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.local_server import LocalServer
from desktop_app.local_server.speech.tts import synthesize
from tests.local_server.client import Client

TONE = (np.sin(np.arange(24000) / 6) * 9000).astype(np.int16)


def with_transcription(model: str, **turn_detection) -> dict:
    return {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
        "transcription": {"model": model, "language": "en"},
        "turn_detection": turn_detection or None}}}}


async def commit(client: Client, pcm: np.ndarray) -> str:
    await client.append_audio(pcm)
    await client.send({"type": "input_audio_buffer.commit"})
    return (await client.wait_for("input_audio_buffer.committed"))["item_id"]


async def test_no_transcription_events_unless_the_session_asks(server):
    async with await Client.open(server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}})
        await commit(client, TONE)
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        await client.response()
        assert not [t for t in client.types() if "transcription" in t]


async def test_whisper_1_sends_one_delta_and_duration_usage(server):
    async with await Client.open(server.url) as client:
        await client.send(with_transcription("whisper-1"))
        item_id = await commit(client, TONE)
        delta = await client.wait_for("conversation.item.input_audio_transcription.delta")
        completed = await client.wait_for("conversation.item.input_audio_transcription.completed")
        assert delta["item_id"] == completed["item_id"] == item_id and completed["content_index"] == 0
        assert delta["delta"] == completed["transcript"] == "(speech, 1.0 s)"
        assert completed["usage"] == {"type": "duration", "seconds": 1}


async def test_gpt_4o_transcribe_streams_words_and_token_usage(server):
    async with await Client.open(server.url) as client:
        await client.send(with_transcription("gpt-4o-mini-transcribe"))
        await commit(client, TONE)
        events = await client.collect_until("conversation.item.input_audio_transcription.completed")
        deltas = [e["delta"] for e in events if e["type"].endswith("transcription.delta")]
        completed = events[-1]
        assert len(deltas) == 3 and "".join(deltas) == completed["transcript"]
        usage = completed["usage"]
        assert usage["type"] == "tokens" and usage["input_token_details"]["audio_tokens"] == 10
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_delayed_transcription_arrives_after_the_reply():
    async with LocalServer(port=0, pace=0, tts="tone", asr="none", faults="delay_transcription") as srv:
        async with await Client.open(srv.url) as client:
            await client.send(with_transcription("whisper-1", type="server_vad"))
            await client.append_audio(np.concatenate([np.zeros(4800, np.int16), TONE, np.zeros(19200, np.int16)]))
            await client.wait_for("conversation.item.input_audio_transcription.completed")
            kinds = client.types()
            assert kinds.index("response.done") < kinds.index("conversation.item.input_audio_transcription.completed")


async def test_a_recognizer_failure_is_transcription_failed_and_the_turn_goes_on():
    async with LocalServer(port=0, pace=0, tts="tone", asr="none") as srv:
        async def broken(pcm):
            raise RuntimeError("model crashed")

        srv.pool.transcribe = broken  # type: ignore[method-assign]
        async with await Client.open(srv.url) as client:
            await client.send(with_transcription("whisper-1"))
            item_id = await commit(client, TONE)
            failed = await client.wait_for("conversation.item.input_audio_transcription.failed")
            assert failed["item_id"] == item_id
            assert failed["error"]["type"] == "transcription_error" and failed["error"]["code"] == "audio_unintelligible"
            await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
            _, response = await client.response()
            assert response["status"] == "completed"


async def test_a_transcription_session_transcribes_without_responding(server):
    async with await Client.open(f"{server.url_base}/realtime?intent=transcription") as client:
        await client.send({"type": "session.update", "session": {"type": "transcription", "audio": {"input": {
            "transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": {"type": "server_vad"}}}}})
        assert (await client.wait_for("session.updated"))["session"]["type"] == "transcription"
        pcm = synthesize("Hello there.", "alloy", "espeak")[0]
        await client.append_audio(np.concatenate([np.zeros(4800, np.int16), pcm, np.zeros(24000, np.int16)]))
        await client.wait_for("conversation.item.input_audio_transcription.completed")
        await client.send({"type": "response.create", "event_id": "r"})
        error = (await client.wait_for("error"))["error"]
        assert error["event_id"] == "r"
        assert "response.created" not in client.types()


@pytest.mark.slow
async def test_whisper_transcribes_the_committed_speech():
    async with LocalServer(port=0, pace=0, tts="espeak", asr="whisper") as srv:
        async with await Client.open(srv.url) as client:
            await client.send(with_transcription("gpt-4o-transcribe"))
            pcm = synthesize("What is two plus three?", "alloy", "espeak")[0]
            await commit(client, np.concatenate([np.zeros(4800, np.int16), pcm, np.zeros(4800, np.int16)]))
            completed = await client.wait_for("conversation.item.input_audio_transcription.completed", 60)
            text = completed["transcript"].lower()
            assert "plus" in text and ("3" in text or "three" in text)
