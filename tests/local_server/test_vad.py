"""Turn detection with a real VAD: parameter effects as tables, barge-in (§3.6 F1), idle timeout (G),
semantic VAD, push-to-talk, and the session-cumulative input timeline."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.local_server.speech.tts import synthesize
from tests.local_server.client import Client, user_text

RNG = np.random.default_rng(7)


def speech(text: str) -> np.ndarray:
    return synthesize(text, "alloy", "espeak")[0]


def silence(ms: int) -> np.ndarray:
    return np.zeros(24 * ms, np.int16)


def noise(ms: int, dbfs: float) -> np.ndarray:
    return (RNG.standard_normal(24 * ms) * 32768 * 10 ** (dbfs / 20)).astype(np.int16)


def vad(**params) -> dict:
    return {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": params}}}}


async def turns(client: Client, audio: np.ndarray, td: dict) -> list[dict]:
    """Send ``audio`` with turn detection ``td`` (responses off) and return the VAD events it caused."""
    await client.send(vad(**{"create_response": False, **td}))
    await client.wait_for("session.updated")
    await client.append_audio(audio)
    await client.send({"type": "input_audio_buffer.clear"})  # a marker: everything before it is answered
    events = await client.collect_until("input_audio_buffer.cleared")
    return [e for e in events if e["type"].startswith("input_audio_buffer.speech")]


TWO_PHRASES = [silence(400), speech("What is two plus three?"), silence(700), speech("And four plus five?"), silence(1500)]

SILENCE_TABLE = [
    # (turn detection, phrases-with-a-700-ms-gap → number of turns)
    ({"type": "server_vad", "silence_duration_ms": 300}, 2),
    ({"type": "server_vad", "silence_duration_ms": 1200}, 1),
    ({"type": "semantic_vad", "eagerness": "high"}, 2),
    ({"type": "semantic_vad", "eagerness": "low"}, 1),
]


@pytest.mark.parametrize("td, expected", SILENCE_TABLE, ids=lambda v: str(v))
async def test_a_longer_silence_window_joins_two_phrases_into_one_turn(server, td, expected):
    async with await Client.open(server.url) as client:
        events = await turns(client, np.concatenate(TWO_PHRASES), td)
    kinds = [e["type"].rsplit("_", 1)[1] for e in events]
    assert kinds == ["started", "stopped"] * expected


THRESHOLD_TABLE = [
    # (audio, threshold → speech detected?)
    ("noise -30 dBFS", 0.3, True),
    ("noise -30 dBFS", 0.8, False),
    ("noise -45 dBFS", 0.5, False),
    ("speech", 0.8, True),
    ("speech -25 dB", 0.2, True),
    ("speech -25 dB", 0.5, False),
]
SIGNALS = {
    "noise -30 dBFS": lambda: noise(2000, -30),
    "noise -45 dBFS": lambda: noise(2000, -45),
    "speech": lambda: np.concatenate([speech("Hello there, how are you?"), silence(800)]),
    "speech -25 dB": lambda: np.concatenate([(speech("Hello there, how are you?") * 10 ** (-25 / 20)).astype(np.int16),
                                              silence(800)]),
}


@pytest.mark.parametrize("signal, threshold, detected", THRESHOLD_TABLE, ids=lambda v: str(v))
async def test_a_higher_threshold_ignores_quiet_noise(server, signal, threshold, detected):
    async with await Client.open(server.url) as client:
        events = await turns(client, SIGNALS[signal](), {"type": "server_vad", "threshold": threshold,
                                                          "silence_duration_ms": 300})
    assert bool(events) is detected


@pytest.mark.parametrize("prefix", [0, 300, 600])
async def test_prefix_padding_moves_audio_start_earlier(server, prefix):
    async with await Client.open(server.url) as client:
        events = await turns(client, np.concatenate([silence(1000), speech("Hello there."), silence(600)]),
                             {"type": "server_vad", "prefix_padding_ms": prefix})
    onset = events[0]["audio_start_ms"] + prefix
    assert 950 <= onset <= 1150  # the speech starts at 1000 ms (plus the VAD's 3-frame confirmation)


async def test_audio_times_are_on_the_session_cumulative_timeline_and_end_includes_the_silence(server):
    async with await Client.open(server.url) as client:
        first = await turns(client, np.concatenate(TWO_PHRASES[:3]), {"type": "server_vad", "silence_duration_ms": 500})
        second = await turns(client, np.concatenate([silence(500), speech("Again."), silence(800)]),
                             {"type": "server_vad", "silence_duration_ms": 500})
    spoken_end = (400 + len(TWO_PHRASES[1]) / 24)
    assert spoken_end + 400 <= first[1]["audio_end_ms"] <= spoken_end + 650
    # The second send starts where the first ended (400 + phrase + 700 ms), even though the buffer was cleared.
    offset = 400 + len(TWO_PHRASES[1]) / 24 + 700
    assert offset + 300 <= second[0]["audio_start_ms"] + 300 <= offset + 700


async def test_push_to_talk_has_no_vad_events(server):
    async with await Client.open(server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}})
        await client.wait_for("session.updated")
        await client.append_audio(np.concatenate(TWO_PHRASES))
        await client.send({"type": "input_audio_buffer.commit"})
        committed = await client.wait_for("input_audio_buffer.committed")
        assert not [e for e in client.events if "speech" in e["type"]]
        await client.send({"type": "conversation.item.retrieve", "item_id": committed["item_id"]})
        item = await client.wait_for("conversation.item.retrieved")
        assert len(item["item"]["content"][0]["audio"]) > 0


async def test_create_response_true_answers_each_turn(server):
    async with await Client.open(server.url) as client:
        await client.append_audio(np.concatenate([silence(300), speech("Hello."), silence(900)]))
        events, response = await client.response()
        assert response["status"] == "completed"
        assert client.types(events)[:3] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                                            "input_audio_buffer.committed"]


async def test_F1_barge_in_cancels_the_active_response_with_turn_detected(paced_server):
    async with await Client.open(paced_server.url) as client:
        await client.send(user_text("tell me a long story"))
        await client.send({"type": "response.create"})
        created = await client.wait_for("response.created")
        for _ in range(5):
            await client.wait_for("response.output_audio.delta")
        await client.append_audio(np.concatenate([speech("Stop now."), silence(800)]))
        events = await client.collect_until(
            lambda e: e["type"] == "response.done" and e["response"]["id"] == created["response"]["id"])
        kinds = [t for t in client.types(events) if not t.endswith(".delta")]
        assert kinds[0] == "input_audio_buffer.speech_started"
        assert kinds[-6:] == ["response.output_audio.done", "response.output_audio_transcript.done",
                              "response.content_part.done", "conversation.item.done", "response.output_item.done",
                              "response.done"]
        done = events[-1]["response"]
        assert done["status"] == "cancelled"
        assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
        # The new user turn then goes on as usual and gets its own response.
        await client.wait_for("input_audio_buffer.committed")
        new = await client.wait_for("response.created")
        assert new["response"]["id"] != created["response"]["id"]
        await client.send({"type": "response.cancel"})
        await client.response()


async def test_interrupt_response_false_lets_the_answer_play_on(paced_server):
    async with await Client.open(paced_server.url) as client:
        await client.send(vad(type="server_vad", interrupt_response=False, create_response=False))
        await client.send(user_text("hello"))
        await client.send({"type": "response.create"})
        await client.wait_for("response.output_audio.delta")
        await client.append_audio(np.concatenate([speech("Wait."), silence(600)]))
        events, response = await client.response()
        assert "input_audio_buffer.speech_started" in client.types(events)
        assert response["status"] == "completed"


async def test_G_idle_timeout_prompts_the_user(server):
    async with await Client.open(server.url) as client:
        await client.send(vad(type="server_vad", idle_timeout_ms=5000))
        await client.wait_for("session.updated")
        await client.send(user_text("hello"))
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        await client.response()
        timeout = await client.wait_for("input_audio_buffer.timeout_triggered", timeout=15)
        committed = await client.wait_for("input_audio_buffer.committed")
        assert committed["item_id"] == timeout["item_id"]
        assert timeout["audio_start_ms"] <= timeout["audio_end_ms"]
        _, response = await client.response()
        assert "still there" in response["output"][0]["content"][0]["transcript"]
