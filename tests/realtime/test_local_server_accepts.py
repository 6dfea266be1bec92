"""What the core now builds for issue #20 — transcription options, reasoning effort, parallel tool
calls, noise reduction, speed, and an ``input_image`` message — is accepted by the embedded local
server, the peer the app talks to offline (every event it answers is checked by the SDK oracle)."""

from __future__ import annotations

import dataclasses

import pytest

from desktop_app.local_server import LocalServer
from desktop_app.local_server.speech import shutdown_workers
from desktop_app.realtime import commands as c
from desktop_app.realtime.session_config import SessionConfig, session_diff
from desktop_app.realtime.transcription import Transcription
from tests.local_server.client import Client
from tests.realtime.oracle import validate_client_event
from tests.realtime.test_session_options import png_bytes


@pytest.fixture(scope="module")
def server():
    with LocalServer(port=0, pace=0, tts="espeak", asr="none", text_word_ms=0, seed=3) as srv:
        yield srv
    shutdown_workers(wait=True)


def sent(frame: dict) -> dict:
    validate_client_event(frame)
    return frame


async def test_the_new_session_options_are_accepted_and_echoed(server):
    config = SessionConfig(model=server.model, reasoning_effort="high", parallel_tool_calls=False,
                           noise_reduction="far_field", speed=1.25,
                           transcription=Transcription(model="gpt-live-transcribe", languages=("en", "de"),
                                                       keywords=("Parley",)))
    async with await Client.open(server.url) as client:
        await client.send(sent(c.session_update(session_diff(None, config), event_id="e1")))
        session = (await client.wait_for("session.updated"))["session"]
        assert session["audio"]["input"]["transcription"]["languages"] == ["en", "de"]
        assert session["audio"]["input"]["noise_reduction"]["type"] == "far_field"
        assert session["audio"]["output"]["speed"] == 1.25
        whisper = dataclasses.replace(config, transcription=Transcription(model="gpt-realtime-whisper", delay="low"))
        await client.send(sent(c.session_update(session_diff(config, whisper), event_id="e2")))
        session = (await client.wait_for(lambda e: e["type"] == "session.updated"
                                         and e["session"]["audio"]["input"]["transcription"]["model"]
                                         == "gpt-realtime-whisper"))["session"]
        assert session["audio"]["input"]["transcription"]["delay"] == "low"
        assert "error" not in client.types()


async def test_an_image_message_becomes_a_conversation_item(server):
    url = c.image_data_url(png_bytes(16, 9), "image/png")
    async with await Client.open(server.url) as client:
        item = dict(c.user_image_item(url, text="What is this?"), id="item_img_test")
        await client.send(sent(c.item_create(item, event_id="e3")))
        added = await client.wait_for(lambda e: e["type"] == "conversation.item.added"
                                      and e["item"]["id"] == "item_img_test")
        assert [p["type"] for p in added["item"]["content"]] == ["input_text", "input_image"]
        assert "error" not in client.types()
