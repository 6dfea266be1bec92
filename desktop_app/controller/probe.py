"""Probe an endpoint: does this key open a session there? (The key dialog's "Test connection".)

The probe goes through the same seams as a conversation — a transport from the factory, a protocol
core to read what comes back — so it judges the handshake exactly as a real connection would: the
first event is the session starting, an ``error`` (bad key, bad model), or a close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from desktop_app.errors import ParleyError
from desktop_app.log import get_logger
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.events import ConnectionClosed, ErrorEvent, ProtocolErrorEvent, SessionCreated
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.transport.base import Endpoint, TransportFactory
from desktop_app.transport.socket import open_websocket

log = get_logger("controller")

PROBE_TIMEOUT_S = 10.0
NO_SESSION = "The server did not start a session; check the endpoint and try again."


async def probe_endpoint(endpoint: Endpoint, *, open_transport: TransportFactory = open_websocket,
                         make_core: Callable[[], Dialect] = RealtimeConnection, config: SessionConfig | None = None,
                         timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Open a session at ``endpoint`` and close it again: None when it started, else one sentence
    saying what went wrong (the log has the detail). ``config`` is sent the way the dialect starts a
    session (GPT-Live: ``session.start`` first; Realtime: nothing until the server's session exists)."""
    try:
        transport = await asyncio.wait_for(open_transport(endpoint, None), timeout)
    except ParleyError as exc:
        return exc.user_message
    except asyncio.TimeoutError:
        return "The server did not answer in time. Check your network connection."
    core = make_core()
    try:
        if config is not None:
            core.update_session(config)
        for frame in core.frames_to_send():
            await transport.send(frame)
        async with asyncio.timeout(timeout):
            while True:
                text = await transport.recv()
                if text is None:
                    core.receive_closed(transport.close_code or 1006, transport.close_reason)
                else:
                    core.receive_message(text)
                for event in core.events_received():
                    if isinstance(event, SessionCreated):
                        if core.close_session():  # GPT-Live: end the session politely, not by dropping it
                            for frame in core.frames_to_send():
                                await transport.send(frame)
                        return None
                    if isinstance(event, ErrorEvent | ConnectionClosed):
                        log.info("= probe of %s refused: %s", endpoint.url.split("?")[0], event)
                        return event.classification.user_message
                    if isinstance(event, ProtocolErrorEvent):
                        return NO_SESSION
    except TimeoutError:
        return NO_SESSION
    finally:
        await transport.close()
