"""The benchmarks' scripted server speaks GA events the SDK accepts, and its VAD fires on the first
loud sample — the property the capture-latency figures rely on."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from bench.harness.scripted_session import RATE, Answer, ScriptedSession
from tests.realtime.oracle import validate_server_event

QUESTIONS = ["What is two plus two?", "And three plus three?"]


def append(samples: np.ndarray) -> str:
    pcm = np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2")
    return json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm.tobytes()).decode()})


def ms(n: float) -> np.ndarray:
    return np.zeros(int(RATE * n / 1000), np.float32)


def loud(n: float, at: int = 0) -> np.ndarray:
    x = ms(n)
    x[at:] = 0.3 * np.sin(np.arange(len(x) - at) * 0.2)
    x[at] = 0.3  # the onset sample itself is loud
    return x


@pytest.fixture
def session() -> ScriptedSession:
    answer = Answer((np.sin(np.arange(RATE // 2) * 0.05) * 8000).astype(np.int16), "one two three four five")
    return ScriptedSession(answer, QUESTIONS, "gpt-realtime")


def feed(s: ScriptedSession, chunks: list[np.ndarray], t0: float = 100.0) -> list[dict]:
    out = []
    for k, x in enumerate(chunks):
        out += s.receive(append(x), t0 + k * 0.02)
    return out


def play_out(s: ScriptedSession) -> list[dict]:
    out = []
    while s.active is not None:
        out += s.next_chunk()
    return out


def test_a_hands_free_turn_is_valid_ga_and_the_onset_is_the_first_loud_sample(session: ScriptedSession) -> None:
    s = session
    events = s.opened(99.0)
    events += s.receive(json.dumps({"type": "session.update", "session": {
        "type": "realtime", "audio": {"input": {"transcription": {"model": "gpt-4o-mini-transcribe"}}}}}), 99.5)
    events += feed(s, [ms(20)] * 25 + [loud(20, at=137)] + [loud(20)] * 10 + [ms(20)] * 30)
    events += play_out(s)
    for e in events:
        validate_server_event(e)
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["session.created", "session.updated"]
    onset = next(m for m in s.marks if m["ev"] == "onset")
    assert onset["t"] == pytest.approx(100.0 + 25 * 0.02)  # the append that carried it
    assert onset["audio_ms"] == pytest.approx((25 * 480 + 137) * 1000 / RATE)
    started = next(e for e in events if e["type"] == "input_audio_buffer.speech_started")
    assert started["audio_start_ms"] == int((25 * 480 + 137) * 1000 / RATE) - 300
    # 500 ms after the last loud sample the turn ends, is committed, transcribed and answered
    assert kinds.index("input_audio_buffer.speech_stopped") < kinds.index("input_audio_buffer.committed") \
        < kinds.index("response.created") < kinds.index("response.output_audio.delta") < kinds.index("response.done")
    transcript = next(e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert transcript["transcript"] == QUESTIONS[0]
    audio = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta")
    assert audio == s.answer.pcm.tobytes()
    words = "".join(e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta")
    assert words == s.answer.text
    assert next(e for e in events if e["type"] == "response.done")["response"]["status"] == "completed"


def test_speech_over_the_answer_cancels_it_the_way_the_service_does(session: ScriptedSession) -> None:
    s = session
    s.opened(0.0)
    feed(s, [loud(20)] * 5 + [ms(20)] * 30)
    assert s.active is not None
    first = s.next_chunk()
    events = feed(s, [loud(20)], t0=200.0)
    for e in first + events:
        validate_server_event(e)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "input_audio_buffer.speech_started"
    assert kinds[-2:] == ["response.done", "rate_limits.updated"]
    done = events[-2]["response"]
    assert done["status"] == "cancelled" and done["status_details"]["reason"] == "turn_detected"
    assert s.active is None and s.next_chunk() == []
    assert [m["ev"] for m in s.marks if m["ev"] in ("onset", "cancel")] == ["onset", "onset", "cancel"]


def test_push_to_talk_logs_onsets_without_vad_events_and_answers_commit_and_create(session: ScriptedSession) -> None:
    s = session
    s.opened(0.0)
    s.receive(json.dumps({"type": "session.update", "session": {
        "type": "realtime", "audio": {"input": {"turn_detection": None}}}}), 0.1)
    events = feed(s, [ms(20), loud(20, at=5), ms(20)])
    assert events == [] and [m["ev"] for m in s.marks].count("onset") == 1
    events = s.receive(json.dumps({"type": "input_audio_buffer.commit"}), 1.0)
    events += s.receive(json.dumps({"type": "response.create"}), 1.0)
    events += play_out(s)
    for e in events:
        validate_server_event(e)
    assert [e["type"] for e in events][:4] == ["input_audio_buffer.committed", "conversation.item.added",
                                                "conversation.item.done", "response.created"]
    empty = s.receive(json.dumps({"type": "input_audio_buffer.commit", "event_id": "c1"}), 2.0)
    assert empty[0]["error"]["code"] == "input_audio_buffer_commit_empty" and empty[0]["error"]["event_id"] == "c1"
