"""The Reconnector on its own (issue #17): no controller, no socket. An in-memory transport stands in
for the connection, the real protocol cores (Realtime, GPT-Live) run behind it, and the test routes the
two events the controller's router would (``session.created`` → :meth:`session_started`, the close →
:meth:`closed`). Tables: which closes reconnect, with which delays and how often. The session's deadline,
when a planned refresh happens and what is replayed: ``test_parts_reconnector_sessions.py``, on the
harness defined here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from desktop_app.controller.reconnector import SESSION_LIMIT_S, Reconnector
from desktop_app.controller.states import Conn
from desktop_app.controller.view import ViewModel
from desktop_app.controller.view_state import ViewState
from desktop_app.errors import AuthError, ConnectionLost
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.events import ConnectionClosed, ServerEvent, SessionCreated
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.transport import backoff
from desktop_app.transport.base import Endpoint, FrameObserver, TransportStats
from tests.realtime import frames as F
from tests.live.oracle import validate_live_client_event, validate_live_server_event
from tests.realtime.oracle import validate_client_event, validate_server_event

NOW = 1_800_000_000.0  # the wall clock the reconnector reads (injected)


class MemoryTransport:
    """An open connection in memory: the test pushes server frames and closes it."""

    kind = "memory"
    carries_audio = False

    def __init__(self, url: str, live: bool) -> None:
        self.url = url
        self.live = live  # which SDK union the frames are checked against
        self.sent: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()

    @property
    def is_open(self) -> bool:
        return self.close_code is None

    async def send(self, text: str) -> None:
        self.send_nowait(text)

    def send_nowait(self, text: str) -> bool:
        frame = json.loads(text)
        (validate_live_client_event if self.live else validate_client_event)(frame)
        self.sent.append(frame)
        return True  # nothing is ever in flight in memory

    async def recv(self) -> str | None:
        return await self._inbox.get()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.hang_up(code, reason)

    def hang_up(self, code: int, reason: str = "") -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self._inbox.put_nowait(None)

    def push(self, event: dict[str, Any]) -> None:
        (validate_live_server_event if self.live else validate_server_event)(event)
        self._inbox.put_nowait(json.dumps(event))

    def send_audio(self, pcm16: bytes) -> None:
        raise AssertionError("a WebSocket-like transport carries no media")

    def set_audio_sink(self, sink: Any) -> None:
        pass

    def stats(self) -> TransportStats:
        return TransportStats(kind=self.kind)


class Opener:
    """The transport factory: each attempt takes the next scripted outcome (an exception raises, None opens);
    once the script is used up every attempt opens."""

    def __init__(self, *outcomes: BaseException | None, live: bool = False) -> None:
        self.live = live
        self.outcomes = list(outcomes)
        self.attempts = 0
        self.transports: list[MemoryTransport] = []
        self.opened = asyncio.Event()

    async def __call__(self, endpoint: Endpoint, observer: FrameObserver | None) -> MemoryTransport:
        self.attempts += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        transport = MemoryTransport(endpoint.url, self.live)
        self.transports.append(transport)
        self.opened.set()
        return transport


class Delays:
    """A backoff of equal delays (0: nothing to wait for) that records what was asked of it."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.tries: list[int] = []
        self.taken = 0

    def __call__(self, tries: int = 5, **_: Any) -> Iterator[float]:
        self.tries.append(tries)
        for _n in range(tries):
            self.taken += 1
            yield self.delay


def reconnector(opener: Opener, *, make_core: Any = RealtimeConnection, max_retries: int = 3,
                config: SessionConfig | None = None) -> tuple[Reconnector, list[ViewState]]:
    published: list[ViewState] = []
    view = ViewModel(ViewState(), published.append)
    rec: Reconnector

    def route(events: list[ServerEvent]) -> None:  # the router's two lines for this part
        for event in events:
            if isinstance(event, SessionCreated):
                rec.session_started(event.session.get("expires_at"))
            elif isinstance(event, ConnectionClosed):
                rec.closed(event)

    def opened(link: Any) -> None:  # the session editor's part: the session asked for goes first
        link.core.update_session(config or SessionConfig())
        link.flush()

    async def target() -> tuple[str, dict[str, str]]:
        return "ws://memory/v1/realtime", {}

    rec = Reconnector(target=target, open_transport=opener, make_core=make_core, view=view, on_events=route,
                      on_link=opened, on_dead=lambda exc: None, observer=None, max_retries=max_retries)
    rec.backoff = Delays()
    rec.clock = lambda: NOW
    return rec, published


async def until(predicate: Any, timeout: float = 5.0) -> None:
    """Wait for the reconnector's background work (its task, the link's reader and writer) to reach a state."""
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.005)
    await asyncio.wait_for(poll(), timeout)


async def open_session(rec: Reconnector, opener: Opener, expires_at: Any = NOW + SESSION_LIMIT_S) -> MemoryTransport:
    count = len(opener.transports)
    if rec.link is None:
        await rec.connect()
    await until(lambda: len(opener.transports) > count)
    transport = opener.transports[-1]
    transport.push(F.session_created(expires_at=expires_at))
    await asyncio.wait_for(rec.connected.wait(), 5)
    return transport


# --- backoff: one delay per attempt, as many attempts as allowed, then a sentence ----------------

def test_the_default_delays_are_the_shared_backoff_policy():
    async def target() -> tuple[str, dict[str, str]]:
        return "", {}
    rec = Reconnector(target=target, open_transport=Opener(), make_core=RealtimeConnection,
                      view=ViewModel(ViewState(), lambda v: None), on_events=lambda e: None, on_link=lambda link: None,
                      on_dead=lambda exc: None, observer=None, max_retries=5)
    assert rec.backoff is backoff
    assert list(backoff(rng=lambda: 0.5)) == [0.5, 1.0, 2.0, 4.0, 8.0]


@pytest.mark.parametrize("max_retries", [1, 3, 5])
async def test_a_lost_connection_is_retried_max_retries_times_then_fails_with_a_retry_action(max_retries):
    lost = ConnectionLost("The connection dropped.")
    opener = Opener(*[lost] * (1 + max_retries))
    rec, published = reconnector(opener, max_retries=max_retries)
    await rec.connect()  # the first failure is not raised: it moves to reconnecting
    await asyncio.wait_for(rec.closed_event.wait(), 5)
    assert opener.attempts == 1 + max_retries
    assert rec.backoff.tries == [max_retries] and rec.backoff.taken == max_retries  # one delay per attempt
    details = [v.connection_detail for v in published if v.connection is Conn.RECONNECTING]
    assert [f"reconnecting {n}/{max_retries}" for n in range(1, max_retries + 1)] == [
        d for d in dict.fromkeys(details) if d.startswith("reconnecting ")]
    assert rec.fatal_error == f"Could not reconnect after {max_retries} tries; check your network, then press Retry."
    state = published[-1]
    assert state.connection is Conn.FAILED and state.notice is not None and state.notice.action == "retry"


async def test_a_retry_that_succeeds_resets_the_attempt_count():
    lost = ConnectionLost("The connection dropped.")
    opener = Opener(lost, lost)
    rec, _ = reconnector(opener, max_retries=5)
    await open_session(rec, opener)
    assert opener.attempts == 3 and rec.fatal_error is None
    assert rec._view.state.connection is Conn.CONNECTED and rec._view.state.reconnect_attempt == 0


@pytest.mark.parametrize("failure,action", [
    (AuthError("The API key was refused; enter a valid key."), "settings"),
    (ConnectionLost("The server refused this model.", fatal=True), "settings"),
])
async def test_a_fatal_failure_while_reconnecting_stops_at_once(failure, action):
    opener = Opener(ConnectionLost("The connection dropped."), failure)
    rec, published = reconnector(opener, max_retries=5)
    await rec.connect()
    await asyncio.wait_for(rec.closed_event.wait(), 5)
    assert opener.attempts == 2 and rec.backoff.taken == 1  # no third attempt
    assert rec.fatal_error == failure.user_message
    assert published[-1].connection is Conn.FAILED and published[-1].notice.action == action


async def test_a_fatal_first_attempt_raises_and_is_not_retried():
    opener = Opener(AuthError("The API key was refused; enter a valid key."))
    rec, published = reconnector(opener)
    with pytest.raises(AuthError):
        await rec.connect()
    assert opener.attempts == 1 and rec.backoff.tries == []
    assert published[-1].connection is Conn.FAILED and published[-1].notice.action == "settings"


# --- closes: which reconnect, which stop --------------------------------------------------------

CLOSES = [
    # code, reason → reconnects?, immediately (no backoff delay)?, final state, failure action
    (1000, "", False, False, Conn.CLOSED, None),
    (1006, "", True, False, Conn.CONNECTED, None),
    (1011, "", True, False, Conn.CONNECTED, None),
    (1013, "", True, False, Conn.CONNECTED, None),
    (1001, "", True, True, Conn.CONNECTED, None),  # the session ended by design: a fresh one at once
    (1000, "invalid_request_error.session_expired", False, False, Conn.CLOSED, None),  # clean stays clean
    (1011, "invalid_request_error.session_expired", True, True, Conn.CONNECTED, None),
    (3000, "invalid_request_error.invalid_api_key", False, False, Conn.FAILED, "settings"),
    (4000, "", False, False, Conn.FAILED, "settings"),
    (1008, "policy", False, False, Conn.FAILED, "settings"),
    (1011, "insufficient_quota.insufficient_quota", False, False, Conn.FAILED, "settings"),
]


@pytest.mark.parametrize("code,reason,reconnects,immediate,final,action", CLOSES)
async def test_a_close_reconnects_only_when_retrying_can_help(code, reason, reconnects, immediate, final, action):
    opener = Opener()
    rec, published = reconnector(opener)
    first = await open_session(rec, opener)
    rec.backoff = Delays(3600.0 if immediate else 0.0)  # a planned refresh waits for nothing (else: timeout)
    rec.connected.clear()
    first.hang_up(code, reason)
    if reconnects:
        await open_session(rec, opener)
        details = [v.connection_detail for v in published if v.connection is Conn.RECONNECTING]
        assert details[-1] == ("refreshing session" if immediate else "reconnecting 1/3")
    else:
        await asyncio.wait_for(rec.closed_event.wait(), 5)
        assert rec.link is None
    assert opener.attempts == (2 if reconnects else 1)
    assert published[-1].connection is final
    assert (published[-1].notice.action if published[-1].notice else None) == action
    assert rec.last_close is not None and rec.last_close.code == code


async def test_closing_on_purpose_is_never_retried():
    opener = Opener()
    rec, published = reconnector(opener)
    await open_session(rec, opener)
    await rec.close()
    assert opener.transports[0].close_code == 1000
    await until(lambda: rec.last_close is not None)
    assert opener.attempts == 1 and published[-1].connection is Conn.CLOSED and rec.fatal_error is None
