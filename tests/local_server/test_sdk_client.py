"""The ``openai`` SDK's own async Realtime client — an oracle written by someone else — completes a
text turn and an audio turn against the local server (architecture.md §2)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from desktop_app.local_server import LocalServer
from desktop_app.local_server.speech.tts import synthesize
from desktop_app.realtime.models import DEFAULT_MODEL
from tests.realtime.oracle import validate_server_event

openai = pytest.importorskip("openai")

KEY = "sk-local-sdk-test-0123456789"


@pytest.fixture(scope="module")
def keyed():
    with LocalServer(port=0, api_key=KEY, pace=0, tts="espeak", asr="none", text_word_ms=0) as srv:
        yield srv


async def events_until_done(conn) -> list:
    seen = []
    async for event in conn:
        validate_server_event(event.model_dump(exclude_unset=True))
        seen.append(event)
        if event.type == "response.done":
            return seen
        assert event.type != "error", event
    raise AssertionError("the connection ended before response.done")


async def test_sdk_client_completes_a_text_turn(keyed):
    client = openai.AsyncOpenAI(api_key=KEY, websocket_base_url=keyed.url_base)
    async with client.realtime.connect(model=DEFAULT_MODEL) as conn:
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"],
                                           "instructions": "Answer in one sentence."})
        await conn.conversation.item.create(item={"type": "message", "role": "user",
                                                  "content": [{"type": "input_text", "text": "What is 12 plus 30?"}]})
        await conn.response.create()
        events = await events_until_done(conn)
    types = [e.type for e in events]
    assert types[:2] == ["session.created", "session.updated"]
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Twelve plus thirty is forty two."
    done = events[-1].response
    assert done.status == "completed" and done.usage.output_tokens > 0


async def test_sdk_client_completes_an_audio_turn(keyed):
    client = openai.AsyncOpenAI(api_key=KEY, websocket_base_url=keyed.url_base)
    pcm, _ = synthesize("Hello there.", "alloy", "espeak")
    async with client.realtime.connect(model=DEFAULT_MODEL) as conn:
        await conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None},
                                                                         "output": {"voice": "sage"}}})
        for at in range(0, len(pcm), 2400):
            await conn.input_audio_buffer.append(audio=base64.b64encode(pcm[at : at + 2400].tobytes()).decode())
        await conn.input_audio_buffer.commit()
        await conn.response.create()
        events = await events_until_done(conn)
    types = [e.type for e in events]
    assert "input_audio_buffer.committed" in types
    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    assert len(audio) > 24000  # more than half a second of speech
    assert np.abs(np.frombuffer(audio, np.int16)).max() > 3000
    assert events[-1].response.audio.output.voice == "sage"


async def test_sdk_client_with_a_wrong_key_gets_the_error_then_close(keyed):
    client = openai.AsyncOpenAI(api_key="sk-wrong-000000000000", websocket_base_url=keyed.url_base)
    async with client.realtime.connect(model=DEFAULT_MODEL) as conn:
        event = await conn.recv()
        assert event.type == "error" and event.error.code == "invalid_api_key"
