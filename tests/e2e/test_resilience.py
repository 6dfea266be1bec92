"""Resilience against the local server's fault injection: drops, fatal closes, expiry, lost server.

The proof that context survives is the demo brain itself: asked "Repeat what I said.", it answers
from the *server-side* conversation, which after a reconnect holds only what the client replayed.
"""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from desktop_app.controller.controller import Controller
from desktop_app.controller.reconnector import RECYCLE_MARGIN_S
from desktop_app.controller.ports import FilePort
from desktop_app.controller.states import Conn
from desktop_app.local_server.server import LocalServer
from desktop_app.realtime.session_config import SessionConfig
from tests.helpers.wait import wait_until

pytestmark = pytest.mark.slow


def fast_backoff(tries: int = 5, **_):
    """The real policy's shape (doubling, capped) at a tenth of the pace, so tests stay quick."""
    return itertools.islice((min(0.8, 0.05 * 2**n) for n in itertools.count()), tries)


def silent_mic() -> FilePort:
    return FilePort((np.zeros(2400, np.int16), 24000))


async def controller(url: str, **kw) -> Controller:
    async def target():
        return url, {}

    ctl = Controller(target=target, audio=silent_mic(), config=SessionConfig(output_modalities=("text",)), **kw)
    ctl.connection.backoff = fast_backoff
    await ctl.connect()
    await wait_until(lambda: ctl.view.connection is Conn.CONNECTED, 10, "the first session")
    return ctl


async def ask(ctl: Controller, text: str) -> str:
    """Type a question; the assistant's answer text once it is complete."""
    before = sum(1 for e in ctl.transcript() if e.role == "assistant" and e.final)
    ctl.send_text(text)
    await wait_until(lambda: sum(1 for e in ctl.transcript() if e.role == "assistant" and e.final) > before,
                     20, f"an answer to {text!r}")
    return [e for e in ctl.transcript() if e.role == "assistant"][-1].text


def drop_all(srv: LocalServer) -> None:
    for ws in list(srv._server.connections):  # the TCP connection dies: the client sees 1006
        ws.transport.abort()


async def test_a_dropped_connection_reconnects_and_the_model_keeps_the_conversation():
    async with LocalServer(port=0) as srv:
        ctl = await controller(srv.url)
        await ask(ctl, "Remember the word banana.")
        drop_all(srv)
        await wait_until(lambda: ctl.view.connection is Conn.RECONNECTING, 5, "reconnecting")
        await wait_until(lambda: ctl.view.connection is Conn.CONNECTED, 10, "the new session")
        answer = await ask(ctl, "Repeat what I said.")
        await ctl.close()
    assert "banana" in answer.lower(), answer
    texts = [e.text for e in ctl.transcript()]
    assert texts[0] == "Remember the word banana." and texts.count("Remember the word banana.") == 1
    assert len(texts) == 4  # the replayed items are not shown twice


async def test_close_3000_is_reported_once_and_never_retried():
    async with LocalServer(port=0, faults="close=3000:invalid_request_error.invalid_api_key") as srv:
        async def target():
            return srv.url, {}

        ctl = Controller(target=target, audio=silent_mic(), config=SessionConfig())
        ctl.connection.backoff = fast_backoff
        await ctl.connect()
        await asyncio.wait_for(ctl.closed_event.wait(), 10)
        await asyncio.sleep(0.5)  # longer than every fast retry: none may happen
        connections = srv._connections
        await ctl.close()
    assert ctl.view.connection is Conn.FAILED
    assert "API key" in ctl.view.notice.sentence and ctl.view.notice.action == "settings"
    assert connections == 1


async def test_session_expired_recycles_with_the_conversation_replayed():
    async with LocalServer(port=0, faults="expire_after=2") as srv:
        ctl = await controller(srv.url)
        await ask(ctl, "Remember the word kiwi.")
        await wait_until(lambda: srv._connections >= 2 and ctl.view.connection is Conn.CONNECTED, 15,
                         "a fresh session after session_expired")
        answer = await ask(ctl, "Repeat what I said.")
        await ctl.close()
    assert "kiwi" in answer.lower(), answer
    assert ctl.view.notice is None or ctl.view.notice.level != "error"


async def test_the_session_is_refreshed_before_its_time_limit_between_turns():
    async with LocalServer(port=0) as srv:
        ctl = await controller(srv.url)
        await ask(ctl, "Remember the word plum.")
        states = []
        ctl.watch(lambda: states.append(ctl.view.connection_detail))
        expires = ctl.view.session_expires_at
        ctl.connection.clock = lambda: expires - RECYCLE_MARGIN_S + 1  # the limit is near (and the session old)
        await wait_until(lambda: srv._connections >= 2 and ctl.view.connection is Conn.CONNECTED, 15,
                         "the planned refresh")
        answer = await ask(ctl, "Repeat what I said.")
        await ctl.close()
    assert "refreshing session" in states
    assert "plum" in answer.lower(), answer


async def test_five_failed_reconnects_end_in_failed_with_the_transcript_intact():
    srv = LocalServer(port=0)
    await srv.start()
    ctl = await controller(srv.url)
    await ask(ctl, "Remember the word fig.")
    await srv.stop()  # the server is gone: every reconnect is refused
    await asyncio.wait_for(ctl.closed_event.wait(), 20)
    assert ctl.view.connection is Conn.FAILED
    assert ctl.view.reconnect_attempt == 5
    assert "5 tries" in ctl.view.notice.sentence and ctl.view.notice.action == "retry"
    assert [e.role for e in ctl.view.transcript] == ["user", "assistant"]
    assert ctl.view.transcript[0].text == "Remember the word fig."
    await ctl.close()
