"""WebRTC call setup: the calls URL each profile kind leads to, the multipart offer, the typed errors,
and the fallback when the webrtc extra is missing."""

from __future__ import annotations

import email.parser
import email.policy
import json

import pytest

from desktop_app.errors import AuthError, ConfigError, ConnectionLost
from desktop_app.settings.profiles import AzureProfile, LocalProfile, OpenAIProfile
from desktop_app.transport import webrtc_support
from desktop_app.transport.calls import calls_url, multipart, post_offer
from desktop_app.transport.socket import open_websocket

KEY = "sk-calls-test-0123456789abcdef"


@pytest.mark.parametrize(("profile", "expected"), [
    (OpenAIProfile(name="o"), "https://api.openai.com/v1/realtime/calls"),
    (AzureProfile(name="a", resource="contoso", deployment="rt"), "https://contoso.openai.azure.com/openai/v1/realtime/calls"),
    (LocalProfile(name="l").with_url("ws://127.0.0.1:8765/v1/realtime"), "http://127.0.0.1:8765/v1/realtime/calls"),
])
def test_every_profile_kind_calls_the_calls_path_of_its_own_host_with_the_model_in_the_session(profile, expected):
    target = profile.connect_target(KEY, "gpt-realtime-2.1")
    url, model = calls_url(target.url)
    assert url == expected  # no query string: the service refuses ?model= on /calls
    assert model == ("rt" if isinstance(profile, AzureProfile) else "gpt-realtime-2.1")


def test_a_url_that_is_no_endpoint_is_a_config_error():
    with pytest.raises(ConfigError):
        calls_url("ftp://example.test/v1/realtime")


def test_the_offer_is_multipart_with_the_sdp_and_the_session_parts():
    body, ctype = multipart({"sdp": ("application/sdp", b"v=0\r\n"), "session": ("application/json", b'{"type":"realtime"}')})
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    parts = {p.get_param("name", header="content-disposition"): p.get_payload(decode=True) for p in message.iter_parts()}
    assert parts == {"sdp": b"v=0\r\n", "session": b'{"type":"realtime"}'}


async def test_refusals_are_the_typed_errors_of_the_websocket_path():
    from desktop_app.local_server.server import LocalServer

    async with LocalServer(port=0, api_key=KEY) as srv:
        with pytest.raises(AuthError):
            await post_offer(srv.calls_url, {"Authorization": "Bearer sk-wrong-key-0123456789"}, "v=0\r\n", None)
        with pytest.raises(ConnectionLost) as bad_model:
            await post_offer(srv.calls_url, {"Authorization": f"Bearer {KEY}"}, "v=0\r\n",
                             {"type": "realtime", "model": "no-such-model"})
        assert bad_model.value.fatal and "not supported" in bad_model.value.user_message
        with pytest.raises(ConnectionLost) as bad_session:
            await post_offer(srv.calls_url, {"Authorization": f"Bearer {KEY}"}, "v=0\r\n",
                             {"type": "realtime", "voice_of_doom": 1})
        assert bad_session.value.fatal and "voice_of_doom" in bad_session.value.user_message
        port = srv.port
    with pytest.raises(ConnectionLost) as refused:
        await post_offer(f"http://127.0.0.1:{port}/v1/realtime/calls", {}, "v=0\r\n", None, timeout=5)
    assert not refused.value.fatal  # the server is gone: retry may help


def test_without_aiortc_a_webrtc_profile_connects_over_the_websocket_and_the_reason_is_one_sentence(monkeypatch):
    assert webrtc_support.webrtc_unavailable() is None  # this machine has the extra
    assert webrtc_support.transport_factory("webrtc") is not open_websocket
    monkeypatch.setattr(webrtc_support.importlib.util, "find_spec", lambda name: None)
    reason = webrtc_support.webrtc_unavailable()
    assert reason is not None and "aiortc" in reason and reason.count(". ") == 0
    assert webrtc_support.transport_factory("webrtc") is open_websocket
    assert json.dumps(reason)  # plain text for a label
