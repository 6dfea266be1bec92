"""EphemeralKeyProvider against a small HTTP server on 127.0.0.1: mint, cache, renew, typed errors."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from desktop_app.errors import AuthError, ConfigError, ConnectionLost, RemoteError
from desktop_app.settings.ephemeral import EphemeralKeyProvider

LONG_KEY = "sk-proj-LongLived0123456789abcdef"
SESSION = {"type": "realtime", "model": "gpt-realtime-2.1", "audio": {"output": {"voice": "marin"}}}


class Clock:
    """A clock the test moves by hand (unix seconds)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class TokenServer:
    """Answers POSTs with the next scripted ``(status, body)``; records every request."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.requests: list[dict] = []
        self.script: list[tuple[int, object]] = []
        self.release = threading.Event()  # for the "server never answers" case
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": json.loads(self.rfile.read(length) or b"null")})
                status, body = outer.script.pop(0) if outer.script else (200, outer.secret())
                if status == 0:
                    outer.release.wait(5)
                    return
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                if status in (301, 302, 307):
                    self.send_header("Location", f"http://127.0.0.1:{outer.port}/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1/realtime/client_secrets"
        # A short poll interval only bounds how long shutdown() waits at the end of a test.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def secret(self) -> dict:
        n = len(self.requests)
        return {"value": f"ek_test{n:04d}abcdefghij", "expires_at": int(self.clock()) + 600,
                "session": {"id": "sess_1", "object": "realtime.session"}}

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def server(clock):
    srv = TokenServer(clock)
    yield srv
    srv.close()


async def test_mints_with_the_long_key_and_the_documented_body(server, clock):
    provider = EphemeralKeyProvider(server.url, LONG_KEY, SESSION, ttl_s=600, clock=clock)
    secret, expires_at = await provider.get()
    assert secret == "ek_test0001abcdefghij" and expires_at == clock() + 600
    (request,) = server.requests
    assert request["path"] == "/v1/realtime/client_secrets"
    assert request["headers"]["Authorization"] == f"Bearer {LONG_KEY}"
    assert request["body"] == {"expires_after": {"anchor": "created_at", "seconds": 600}, "session": SESSION}


async def test_caches_until_less_than_a_minute_remains_then_renews(server, clock):
    provider = EphemeralKeyProvider(server.url, LONG_KEY, SESSION, clock=clock)
    first = await provider.get()
    clock.now += 539  # 61 s left: still good
    assert await provider.get() == first and len(server.requests) == 1
    clock.now += 2  # 59 s left: renew
    second = await provider.get()
    assert second != first and second[0] == "ek_test0002abcdefghij" and len(server.requests) == 2
    provider.invalidate()
    assert (await provider.get())[0] == "ek_test0003abcdefghij"


async def test_concurrent_callers_share_one_mint(server, clock):
    provider = EphemeralKeyProvider(server.url, LONG_KEY, SESSION, clock=clock)
    results = await asyncio.gather(*(provider.get() for _ in range(4)))
    assert len(set(results)) == 1 and len(server.requests) == 1


@pytest.mark.parametrize(
    "body",
    [{"value": "ek_org00000000001", "expires_at": 1_800_000_300},
     {"id": "sess_1", "client_secret": {"value": "ek_org00000000001", "expires_at": 1_800_000_300}}],
    ids=["org/GA shape", "beta shape"],
)
async def test_an_organisation_token_url_without_a_long_key(server, clock, body):
    server.script.append((200, body))
    provider = EphemeralKeyProvider(server.url, None, None, ttl_s=300, clock=clock)
    assert await provider.get() == ("ek_org00000000001", 1_800_000_300.0)
    (request,) = server.requests
    assert "Authorization" not in request["headers"]
    assert request["body"] == {"expires_after": {"anchor": "created_at", "seconds": 300}}


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_key_is_a_fatal_auth_error_that_never_shows_the_key(server, clock, caplog, status):
    # OpenAI echoes part of a bad key; a careless server might echo all of it.
    server.script.append((status, {"error": {"type": "invalid_request_error", "code": "invalid_api_key",
                                             "message": f"Incorrect API key provided: {LONG_KEY}."}}))
    provider = EphemeralKeyProvider(server.url, LONG_KEY, SESSION, clock=clock)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(AuthError) as info:
            await provider.get()
    err = info.value
    assert err.fatal and err.code == "invalid_api_key"
    assert f"refused the API key (HTTP {status}, invalid_api_key)" in err.user_message
    for text in (str(err), repr(err), err.user_message, err.detail, repr(provider),
                 *(r.getMessage() for r in caplog.records)):
        assert LONG_KEY not in text


async def test_unreachable_server_is_retryable_and_says_so(clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    provider = EphemeralKeyProvider(f"http://127.0.0.1:{port}/token", LONG_KEY, SESSION, clock=clock)
    with pytest.raises(ConnectionLost) as info:
        await provider.get()
    assert not info.value.fatal and "Could not reach the key server 127.0.0.1 (connection refused)" in (
        info.value.user_message)
    assert LONG_KEY not in str(info.value)


async def test_a_server_that_never_answers_times_out(server, clock):
    server.script.append((0, None))
    provider = EphemeralKeyProvider(server.url, LONG_KEY, SESSION, clock=clock, timeout_s=0.3)
    with pytest.raises(ConnectionLost, match="timed out"):
        await provider.get()


@pytest.mark.parametrize(
    ("status", "body", "error", "fragment"),
    [(500, {"error": {"code": "server_error"}}, ConnectionLost, "busy or failing"),
     (429, b"slow down", ConnectionLost, "busy or failing (HTTP 429)"),
     (400, {"error": {"code": "invalid_value"}}, RemoteError, "rejected the request (HTTP 400, invalid_value)"),
     (200, {"token": "x"}, RemoteError, "without a client secret"),
     (200, b"<html>", RemoteError, "without a client secret"),
     (200, {"value": "ek_old000000000", "expires_at": 1_700_000_000}, RemoteError, "already expired")],
)
async def test_bad_answers_are_typed_errors(server, clock, status, body, error, fragment):
    server.script.append((status, body))
    provider = EphemeralKeyProvider(server.url, LONG_KEY, SESSION, clock=clock)
    with pytest.raises(error) as info:
        await provider.get()
    assert fragment in info.value.user_message
    assert info.value.fatal is (error is not ConnectionLost)


async def test_redirects_are_not_followed_so_the_key_cannot_travel_elsewhere(server, clock):
    server.script.append((307, b""))
    provider = EphemeralKeyProvider(server.url, LONG_KEY, SESSION, clock=clock)
    with pytest.raises(RemoteError, match="HTTP 307"):
        await provider.get()
    assert [r["path"] for r in server.requests] == ["/v1/realtime/client_secrets"]


async def test_repr_masks_the_long_key_and_the_secret(server, clock):
    provider = EphemeralKeyProvider(server.url, LONG_KEY, SESSION, clock=clock)
    secret, _ = await provider.get()
    shown = repr(provider)
    assert LONG_KEY not in shown and secret not in shown
    assert "sk-…cdef" in shown and "ek_…ghij" in shown


@pytest.mark.parametrize("url", ["http://tokens.example.com/mint", "ftp://127.0.0.1/x"])
def test_plain_http_is_refused_except_on_this_computer(url):
    with pytest.raises(ConfigError) as info:
        EphemeralKeyProvider(url, LONG_KEY, SESSION)
    assert "must start with https://" in info.value.user_message


async def test_a_provider_built_from_an_ephemeral_profile_uses_its_url_and_lifetime(server, clock):
    from desktop_app.settings.profiles import EphemeralProfile

    profile = EphemeralProfile(name="Org", mint_url=server.url, ttl_s=120)
    provider = EphemeralKeyProvider.for_profile(profile, None, SESSION)
    assert (provider.mint_url, provider.ttl_s) == (server.url, 120)
    openai = EphemeralKeyProvider.for_profile(EphemeralProfile(name="E"), LONG_KEY, SESSION)
    assert openai.mint_url == "https://api.openai.com/v1/realtime/client_secrets"
