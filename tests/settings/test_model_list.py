"""The model list: ``GET /v1/models`` on a small HTTP server on 127.0.0.1, filtered to realtime, live
and transcription models, cached in the data folder, and kept as it was when the network fails."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from desktop_app.errors import AuthError, ConnectionLost, CredentialError, ParleyError, RemoteError
from desktop_app.settings.model_list import (
    OPENAI_MODELS_URL,
    ModelList,
    default_cache_path,
    load_cache,
    models_url,
    refresh_models,
    save_cache,
    split_model_ids,
)
from desktop_app.settings.profiles import AzureProfile, CustomProfile, EphemeralProfile, LocalProfile, OpenAIProfile
from desktop_app.settings.secrets import KeyStore

KEY = "sk-proj-ModelList0123456789abcdef"
LISTED = ["gpt-realtime-2.1", "gpt-realtime-3", "gpt-realtime-3-mini-2027-02-01", "gpt-live-1", "gpt-live-1.1",
          "gpt-audio-1.5", "gpt-live-transcribe", "gpt-transcribe-2", "gpt-realtime-whisper", "whisper-1",
          "gpt-4o-transcribe-diarize", "gpt-4o-mini-tts", "gpt-realtime-translate", "gpt-5", "text-embedding-3",
          "dall-e-3"]


class ModelsServer:
    """Answers ``GET …/models`` with the scripted status and body; records the request headers."""

    def __init__(self) -> None:
        self.status = 200
        self.body: bytes = json.dumps({"object": "list", "data": [{"id": i, "object": "model"} for i in LISTED]}).encode()
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 — http.server's naming
                outer.headers.append({"path": self.path, **dict(self.headers)})
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def server():
    srv = ModelsServer()
    yield srv
    srv.close()


@pytest.fixture
def profile(server):
    return CustomProfile(name="Gateway", url=f"ws://127.0.0.1:{server.port}/v1/realtime")


@contextlib.contextmanager
def says(kind: type[ParleyError], fragment: str) -> Iterator[None]:
    """The block raises ``kind`` whose sentence for the user contains ``fragment``."""
    with pytest.raises(kind) as info:
        yield
    assert fragment in info.value.user_message, info.value.user_message


def keys_with(key: str | None) -> KeyStore:
    from keyring.backends.fail import Keyring as FailKeyring

    keys = KeyStore(FailKeyring(), environ={})
    if key:
        keys.set_session_key(CustomProfile(name="Gateway", url="ws://x/v1/realtime"), key)
    return keys


def test_only_realtime_live_and_transcription_ids_are_kept():
    realtime, transcription = split_model_ids(LISTED + ["bad id with spaces"])
    assert realtime == ("gpt-audio-1.5", "gpt-live-1", "gpt-live-1.1", "gpt-realtime-2.1", "gpt-realtime-3",
                        "gpt-realtime-3-mini-2027-02-01")
    assert transcription == ("gpt-live-transcribe", "gpt-realtime-whisper", "gpt-transcribe-2", "whisper-1")


@pytest.mark.parametrize(("profile", "url"), [
    (OpenAIProfile(name="OpenAI"), OPENAI_MODELS_URL),
    (EphemeralProfile(name="E"), OPENAI_MODELS_URL),
    (EphemeralProfile(name="Org", mint_url="https://tokens.example.com/mint"), None),
    (CustomProfile(name="C", url="wss://gw.example.com/openai/v1/realtime?model=x"), "https://gw.example.com/openai/v1/models"),
    (CustomProfile(name="C", url="ws://127.0.0.1:8765/v1/realtime/"), "http://127.0.0.1:8765/v1/models"),
    (CustomProfile(name="C", url="ws://127.0.0.1:8765/socket"), None),
    (AzureProfile(name="A", resource="contoso"), None),
    (LocalProfile(name="Local"), None),
])
def test_where_each_profile_lists_its_models(profile, url):
    assert models_url(profile) == url


async def test_refresh_sends_the_key_filters_and_caches(server, profile, tmp_path):
    cache = tmp_path / "data" / "models.json"
    models = await refresh_models(profile, keys_with(KEY), cache_path=cache)
    assert server.headers[0]["path"] == "/v1/models"
    assert server.headers[0]["Authorization"] == f"Bearer {KEY}"
    assert "gpt-realtime-3" in models.realtime and "gpt-5" not in models.realtime
    assert models.source == f"http://127.0.0.1:{server.port}/v1/models" and models.fetched_at > 0
    assert load_cache(cache) == models
    choices = models.realtime_choices()
    assert choices[:8] == ("gpt-realtime-2.1", "gpt-realtime-2.1-mini", "gpt-realtime-2", "gpt-realtime-1.5",
                           "gpt-realtime", "gpt-realtime-mini", "gpt-live-1.1", "gpt-live-1")  # known first, in order
    assert choices[8:] == ("gpt-audio-1.5", "gpt-realtime-3", "gpt-realtime-3-mini-2027-02-01")
    assert models.transcription_choices()[-1] == "gpt-transcribe-2"


async def test_a_failed_refresh_keeps_the_cache_and_says_why(server, profile, tmp_path):
    cache = tmp_path / "models.json"
    first = await refresh_models(profile, keys_with(KEY), cache_path=cache)
    before = cache.read_bytes()
    server.status = 401
    with says(AuthError, "refused the API key when listing models"):
        await refresh_models(profile, keys_with(KEY), cache_path=cache)
    server.status, server.body = 200, b"<html>gateway</html>"
    with says(RemoteError, "something else; the list was kept"):
        await refresh_models(profile, keys_with(KEY), cache_path=cache)
    server.close()  # offline now
    with says(ConnectionLost, "connection refused"):
        await refresh_models(profile, keys_with(KEY), cache_path=cache)
    assert cache.read_bytes() == before and load_cache(cache) == first


async def test_a_profile_that_needs_a_key_is_not_refreshed_without_one(tmp_path):
    from keyring.backends.fail import Keyring as FailKeyring

    with says(CredentialError, "Add an API key"):
        await refresh_models(OpenAIProfile(name="OpenAI"), KeyStore(FailKeyring(), environ={}),
                             cache_path=tmp_path / "m.json")
    with says(CredentialError, "type a model id instead"):
        await refresh_models(AzureProfile(name="A", resource="contoso"), KeyStore(FailKeyring(), environ={}),
                             cache_path=tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


async def test_a_custom_endpoint_without_a_key_is_asked_without_authorization(server, profile, tmp_path):
    await refresh_models(profile, keys_with(None), cache_path=tmp_path / "m.json")
    assert "Authorization" not in server.headers[0]


@pytest.mark.parametrize("text", ["", "{not json", json.dumps({"version": 99}), json.dumps([1, 2])])
def test_a_missing_or_damaged_cache_reads_as_empty(tmp_path, text):
    cache = tmp_path / "models.json"
    if text:
        cache.write_text(text)
    assert load_cache(cache) == ModelList()
    assert ModelList().realtime_choices()[0] == "gpt-realtime-2.1"


def test_the_cache_lives_in_the_data_folder_and_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv("PARLEY_HOME", str(tmp_path))
    assert default_cache_path().parent == tmp_path / "data"
    models = ModelList(("gpt-realtime-3",), ("gpt-transcribe-2",), "https://x/v1/models", 1.5)
    save_cache(models)
    assert load_cache() == models
    assert [p.name for p in default_cache_path().parent.iterdir()] == ["models.json"]
