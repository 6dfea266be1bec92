"""Handshake, authentication, model/intent checks and the safety defaults (realtime-protocol.md §1.1, §4.3)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import InvalidStatus

from desktop_app.local_server import LocalServer
from desktop_app.local_server.config import SESSION_SECONDS
from desktop_app.realtime.models import DEFAULT_MODEL
from tests.local_server.client import Client

KEY = "sk-test-local-0123456789abcdef"


@pytest.fixture(scope="module")
def keyed_server():
    with LocalServer(port=0, api_key=KEY, pace=0, tts="tone", asr="none", max_sessions=3) as srv:
        yield srv


async def refused(url: str, headers: dict | None = None) -> tuple[dict, int | None, str]:
    client = await Client.open(url, headers)
    error = await client.wait_for("error")
    code, reason = await client.wait_closed()
    client._check()
    return error["error"], code, reason


async def test_session_created_carries_the_full_ga_default_session(server):
    async with await Client.open(server.url) as client:
        session = client.events[0]["session"]
    assert client.events[0]["type"] == "session.created"
    assert session["type"] == "realtime" and session["object"] == "realtime.session"
    assert session["id"].startswith("sess_") and len(session["id"]) == 26
    assert session["model"] == DEFAULT_MODEL
    assert session["output_modalities"] == ["audio"]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["input"]["turn_detection"] == {
        "type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200,
        "idle_timeout_ms": None, "create_response": True, "interrupt_response": True}
    assert session["audio"]["output"] == {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0}
    assert session["tools"] == [] and session["tool_choice"] == "auto" and session["max_output_tokens"] == "inf"
    assert session["instructions"]
    assert 0 < session["expires_at"] - __import__("time").time() <= SESSION_SECONDS


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {KEY}"}, {"api-key": KEY}], ids=["bearer", "azure"])
async def test_a_valid_key_opens_the_session(keyed_server, headers):
    async with await Client.open(keyed_server.url, headers) as client:
        assert client.types() == ["session.created"]


async def test_no_credentials_is_an_error_then_close_3000(keyed_server):
    error, code, reason = await refused(keyed_server.url)
    assert error["code"] is None and "Missing bearer or basic authentication" in error["message"]
    assert (code, reason) == (3000, "invalid_request_error")


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer sk-wrong-key-123456"}, {"api-key": "nope"}])
async def test_a_wrong_key_is_invalid_api_key_then_close_3000(keyed_server, headers):
    error, code, reason = await refused(keyed_server.url, headers)
    assert error["code"] == "invalid_api_key" and "sk-wrong-key-123456" not in error["message"]
    assert (code, reason) == (3000, "invalid_request_error.invalid_api_key")


@pytest.mark.parametrize(
    "query, code",
    [("", "missing_model"), ("?model=gpt-4o-realtime-preview", "invalid_model"), ("?model=nonsense", "invalid_model")],
)
async def test_a_missing_or_unknown_model_closes_with_4000(server, query, code):
    error, close, reason = await refused(f"{server.url_base}/realtime{query}")
    assert error["code"] == code and error["type"] == "invalid_request_error"
    assert (close, reason) == (4000, f"invalid_request_error.{code}")


async def test_the_beta_header_is_beta_api_shape_disabled_then_4000(server):
    error, code, reason = await refused(server.url, {"OpenAI-Beta": "realtime=v1"})
    assert error["code"] == "beta_api_shape_disabled"
    assert (code, reason) == (4000, "invalid_request_error.beta_api_shape_disabled")


async def test_intent_transcription_needs_no_model_and_opens_a_transcription_session(server):
    async with await Client.open(f"{server.url_base}/realtime?intent=transcription") as client:
        session = client.events[0]["session"]
    assert session["type"] == "transcription" and session["audio"]["input"]["transcription"]["model"]


async def test_azure_ga_path_is_served_too(server):
    async with await Client.open(server.url.replace("/v1/realtime", "/openai/v1/realtime")) as client:
        assert client.types() == ["session.created"]


async def test_other_paths_are_404(server):
    with pytest.raises(InvalidStatus) as info:
        await Client.open(server.url.replace("/v1/realtime", "/v1/chat"))
    assert info.value.response.status_code == 404


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:3000"])
async def test_a_web_page_origin_is_refused_at_the_handshake(server, origin):
    with pytest.raises(InvalidStatus) as info:
        await Client.open(server.url, origin=origin)
    assert info.value.response.status_code == 403


async def test_an_explicitly_allowed_origin_may_connect():
    async with LocalServer(port=0, tts="tone", asr="none", allowed_origins=("http://localhost:3000",)) as srv:
        async with await Client.open(srv.url, origin="http://localhost:3000") as client:
            assert client.types() == ["session.created"]


def test_a_non_loopback_host_needs_an_api_key():
    with pytest.raises(ValueError, match="non-loopback"):
        LocalServer("0.0.0.0", port=0)
    assert LocalServer("0.0.0.0", port=0, api_key=KEY).host == "0.0.0.0"


async def test_sessions_beyond_the_cap_are_refused_with_1013(keyed_server):
    auth = {"Authorization": f"Bearer {KEY}"}
    clients = [await Client.open(keyed_server.url, auth) for _ in range(3)]
    for client in clients:
        await client.wait_for("session.created")
    error, code, reason = await refused(keyed_server.url, auth)
    assert error["code"] == "rate_limit_exceeded" and code == 1013
    for client in clients:
        await client.close()


async def test_the_server_pings_idle_clients():
    async with LocalServer(port=0, tts="tone", asr="none", ping_interval=0.2) as srv:
        client = await Client.open(srv.url, ping_interval=None)
        await client.wait_for("session.created")
        pinged = asyncio.Event()
        original = client.ws.protocol.receive_data

        def spy(data: bytes) -> None:
            if data[:1] == b"\x89":  # an unmasked PING frame from the server
                pinged.set()
            original(data)

        client.ws.protocol.receive_data = spy
        await asyncio.wait_for(pinged.wait(), 5.0)
        await client.close()


async def test_stopping_the_server_closes_sessions_with_a_close_frame():
    srv = LocalServer(port=0, tts="tone", asr="none")
    await srv.start()
    client = await Client.open(srv.url)
    await client.wait_for("session.created")
    await asyncio.wait_for(srv.stop(), 5.0)
    code, _ = await client.wait_closed(5.0)
    assert code == 1001
    assert not srv.sessions
