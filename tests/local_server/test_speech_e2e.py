"""A spoken question gets a spoken answer: real VAD, real recognition, real synthesis, real time.

The question is a WAV made with the TTS engine (``tests/helpers/speech.py``), streamed in 20 ms
chunks on a real-time clock with server VAD. The answer's audio is run back through the recognizer
and must say what its transcript says.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from desktop_app.local_server import LocalServer
from desktop_app.local_server.brain import number_words
from desktop_app.local_server.speech import asr
from tests.helpers.speech import read_wav, speech_wav
from tests.local_server.client import Client, audio_of

pytestmark = pytest.mark.slow


def normalized(text: str) -> list[str]:
    """Lower-case words with digits spelled out, so "2 plus 3" equals "two plus three"."""
    spelled = re.sub(r"\d+", lambda m: " " + number_words(int(m.group())) + " ", text.lower())
    return re.findall(r"[a-z']+", spelled)


def word_overlap(heard: list[str], said: list[str]) -> float:
    matched = sum(min(heard.count(w), said.count(w)) for w in set(said))
    return matched / max(len(said), len(heard), 1)


@pytest.fixture(scope="module")
def speech_server():
    with LocalServer(port=0, pace=1.0, asr="whisper", tts="auto", seed=5) as srv:
        srv.pool.warm_up()
        yield srv


def test_speech_wav_helper_makes_a_cached_24k_wav():
    path = speech_wav("What is two plus three?")
    assert path == speech_wav("What is two plus three?")
    pcm, rate = read_wav(path)
    assert rate == 24000 and pcm.dtype == np.int16 and len(pcm) > rate
    pcm16, rate16 = read_wav(speech_wav("What is two plus three?", rate=16000))
    assert rate16 == 16000 and abs(len(pcm16) / 16000 - len(pcm) / 24000) < 0.01


async def test_spoken_question_gets_a_spoken_answer(speech_server):
    pcm, _ = read_wav(speech_wav("What is two plus three?"))
    async with await Client.open(speech_server.url) as client:
        # 500 ms of silence ends a turn (Piper's voice varies from run to run; a 200 ms window can cut
        # the question at a pause between words).
        await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
            "transcription": {"model": "gpt-4o-mini-transcribe"},
            "turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}}}})
        await client.wait_for("session.updated")
        await client.append_audio(pcm, chunk_ms=20, realtime=True)
        events, response = await client.response(timeout=60)
        started = next(e for e in events if e["type"] == "input_audio_buffer.speech_started")
        stopped = next(e for e in events if e["type"] == "input_audio_buffer.speech_stopped")
        # The WAV has 300 ms of lead silence; speech_started reports the onset minus the 300 ms prefix.
        assert 0 <= started["audio_start_ms"] <= 150 and stopped["audio_end_ms"] > 1200
        # The transcript arrives asynchronously: before, during or after the response.
        kind = "conversation.item.input_audio_transcription.completed"
        completed = next((e for e in client.events if e["type"] == kind), None) or await client.wait_for(kind, 30)
        assert {"two", "plus", "three"} <= set(normalized(completed["transcript"]))
        answer = response["output"][0]["content"][0]["transcript"]
        assert answer == "Two plus three is five."
        spoken = np.frombuffer(audio_of(events), np.int16)
        heard = normalized(asr.transcribe(spoken, "whisper"))
        assert word_overlap(heard, normalized(answer)) >= 0.8, (heard, answer)


async def test_a_long_story_can_be_interrupted_by_speaking(speech_server):
    question, _ = read_wav(speech_wav("Tell me a long story."))
    stop, _ = read_wav(speech_wav("Stop."))
    async with await Client.open(speech_server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
            "turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}}}})
        await client.append_audio(question, chunk_ms=20, realtime=True)
        created = await client.wait_for("response.created", 60)
        for _ in range(20):  # about a second of the story
            await client.wait_for("response.output_audio.delta", 60)
        await client.append_audio(stop, chunk_ms=20, realtime=True)
        done = await client.wait_for(lambda e: e["type"] == "response.done"
                                     and e["response"]["id"] == created["response"]["id"], 30)
        assert done["response"]["status_details"]["reason"] == "turn_detected"
        said = done["response"]["output"][0]["content"][0]["transcript"]
        assert said.startswith("Once upon a time") and len(said) < 300
