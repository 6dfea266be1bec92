"""A Realtime WebSocket connection: open, send, receive, close — and nothing about the protocol.

The protocol core (``desktop_app.realtime``) decides what frames mean; this module only moves text
frames and reports how the connection ended. Handshake and network failures become typed errors:

* HTTP 401/403 at the upgrade → :class:`~desktop_app.errors.AuthError` (fatal)
* refused, DNS, TLS, timeouts, other statuses → :class:`~desktop_app.errors.ConnectionLost` (retryable)

A close frame from the server is not an exception: ``recv()`` returns ``None`` and ``close_code`` /
``close_reason`` say why, so the core can classify 3000/4000/1001 with the ``error`` event that came
just before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, PerMessageDeflate
from websockets.frames import Frame
from websockets.protocol import State

from desktop_app.errors import AuthError, ConfigError, ConnectionLost
from desktop_app.log import RedactingFilter, get_logger, redact
from desktop_app.logtext import is_audio_frame, summarize_frame  # the one frame summariser (re-exported by the package)
from desktop_app.transport.base import AudioSink, Endpoint, FrameObserver, TransportStats

log = get_logger("transport")

# websockets logs request headers (Authorization, api-key) at DEBUG. It gets its own logger whose
# records are redacted where they are created, so no handler anywhere — ours, pytest's, a user's —
# ever sees a key.
_ws_log = get_logger("transport.websockets")
_ws_log.addFilter(RedactingFilter())
# Audio frames (50 a second each way) get their own logger, which the app turns off unless asked for
# (``desktop_app.log.setup_logging``): one record per frame cost more than everything else logged.
_audio_log = get_logger("transport.audio")

#: Incoming frames can be large (``conversation.item.retrieved`` carries a whole item's audio).
MAX_FRAME_BYTES = 32 * 1024 * 1024
#: Keepalive pings every few seconds: their round trip is what the connection monitor samples
#: (``stats().rtt_ms``), and a dead link is noticed sooner. A ping frame costs a few bytes.
PING_INTERVAL_S = 5.0


class _InflateOnly(PerMessageDeflate):
    """permessage-deflate that only inflates. What the server sends may come compressed (the service
    offers deflate, and base64 speech shrinks to ~55 %); what Parley sends goes out as it is, which
    RFC 7692 §6 lets a sender do with any message: deflating the microphone's 50 appends a second
    cost ~0.1 ms of the loop's time each."""

    def encode(self, frame: Frame) -> Frame:
        return frame


class _InflateOnlyFactory(ClientPerMessageDeflateFactory):
    """Offers permessage-deflate (without a context of our own: nothing is ever compressed here)."""

    def __init__(self) -> None:
        super().__init__(client_no_context_takeover=True, client_max_window_bits=True)

    def process_response_params(self, params: Sequence[tuple[str, str | None]],
                                accepted_extensions: Sequence[Extension]) -> PerMessageDeflate:
        agreed = super().process_response_params(params, accepted_extensions)
        return _InflateOnly(agreed.remote_no_context_takeover, agreed.local_no_context_takeover,
                            agreed.remote_max_window_bits, agreed.local_max_window_bits)


def _frame_type(text: str) -> str:
    try:
        return str(json.loads(text).get("type", "?"))
    except (ValueError, AttributeError):
        return "?"


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


class RealtimeSocket:
    """One open WebSocket to a Realtime endpoint (the ``websocket`` :class:`~.base.Transport`).
    Build it with :meth:`open`. Every event, audio included, is a JSON text frame."""

    kind = "websocket"

    def __init__(self, conn: ClientConnection, url: str, observer: FrameObserver | None) -> None:
        self._conn = conn
        self.url = url
        self._observer = observer
        self.close_code: int | None = None
        self.close_reason: str = ""
        self._sent = [0, 0]  # frames, bytes (characters: the frames are ASCII JSON but for text)
        self._received = [0, 0]

    @classmethod
    async def open(
        cls,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        open_timeout: float = 10.0,
        ping_interval: float | None = PING_INTERVAL_S,
        ping_timeout: float | None = 20.0,
        observer: FrameObserver | None = None,
    ) -> RealtimeSocket:
        """Connect to ``url`` with ``headers`` (auth). Raises AuthError, ConnectionLost or ConfigError."""
        scheme = urlsplit(url).scheme
        if scheme not in ("ws", "wss"):
            raise ConfigError(
                "The endpoint address must start with ws:// or wss://.", detail=f"bad scheme in {url!r}"
            )
        log.info("= connecting to %s", redact(url))
        try:
            conn = await connect(
                url,
                additional_headers=dict(headers or {}),
                open_timeout=open_timeout,
                ping_interval=ping_interval,
                ping_timeout=ping_timeout,
                max_size=MAX_FRAME_BYTES,
                # Loopback never goes through a proxy; elsewhere honour the system's proxy settings.
                proxy=None if _is_loopback(url) else True,
                user_agent_header="Parley",
                logger=_ws_log,
                compression=None,
                extensions=[_InflateOnlyFactory()],
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            detail = f"HTTP {status} at the WebSocket upgrade to {redact(url)}"
            log.error("! %s", detail)
            if status in (401, 403):
                raise AuthError(
                    "The server refused the API key; enter a valid key.",
                    code=str(status), detail=detail,
                ) from None
            raise ConnectionLost(
                f"The server answered HTTP {status} instead of opening a conversation.",
                code=str(status), detail=detail, fatal=status in (400, 404),
            ) from None
        except InvalidURI as exc:
            raise ConfigError("The endpoint address is not a valid URL.", detail=str(exc)) from None
        except (OSError, socket.gaierror, ssl.SSLError, InvalidHandshake, asyncio.TimeoutError) as exc:
            reason = _network_reason(exc)
            log.error("! connect to %s failed: %r", redact(url), exc)
            lost = ConnectionLost(reason, detail=redact(repr(exc)))
            # No name resolution or no route at all: this computer is offline, not the server down.
            lost.offline = isinstance(exc, socket.gaierror) or getattr(exc, "errno", None) in _OFFLINE_ERRNOS
            raise lost from None
        log.info("= connected to %s", redact(url))
        return cls(conn, url, observer)

    async def send(self, text: str) -> None:
        """Send one text frame. Raises ConnectionLost if the connection is gone."""
        self._sending(text)
        try:
            await self._conn.send(text)
        except ConnectionClosed as exc:
            self._record_close(exc)
            raise ConnectionLost(
                "The connection to the server was lost.", close_code=self.close_code,
                detail=f"send failed: close {self.close_code} {self.close_reason!r}",
            ) from None

    def send_nowait(self, text: str) -> bool:
        """Hand one text frame to the socket now when that needs no waiting: the connection is open
        and nothing is waiting in its write buffer (so no flow control applies and the frame cannot
        overtake an earlier one). Returns False, having done nothing, otherwise: use :meth:`send`.

        It is what ``send`` does when it does not wait — websockets' sans-I/O protocol frames the
        text and the connection writes it — without a coroutine and a task switch per frame (the
        microphone's 50 appends a second). ``tests/transport/test_socket.py`` holds it to that."""
        conn = self._conn
        if (self.close_code is not None or conn.protocol.state is not State.OPEN or conn.send_in_progress is not None
                or conn.transport.is_closing() or conn.transport.get_write_buffer_size()):
            return False
        self._sending(text)
        conn.protocol.send_text(text.encode())
        conn.send_data()
        return True

    def _sending(self, text: str) -> None:
        """Log (audio frames apart), observe and count one frame on its way out."""
        logger = _audio_log if is_audio_frame(text) else log
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("> %s", summarize_frame(text))
        if self._observer is not None:
            self._observer("sent", text)
        self._sent[0] += 1
        self._sent[1] += len(text)

    async def recv(self) -> str | None:
        """The next text frame, or ``None`` once the connection has closed (see ``close_code``)."""
        while True:
            try:
                message = await self._conn.recv()
            except ConnectionClosed as exc:
                self._record_close(exc)
                log.info("= closed %s %s; frames sent %d (%d bytes), received %d (%d bytes)", self.close_code,
                         self.close_reason, *self._sent, *self._received)
                return None
            if isinstance(message, bytes):
                # The Realtime protocol only uses text frames; a binary one is a server bug. Say so, go on.
                log.warning("! ignoring a %d-byte binary frame", len(message))
                continue
            logger = _audio_log if is_audio_frame(message) else log
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("< %s", summarize_frame(message))
            if self._observer is not None:
                self._observer("received", message)
            self._received[0] += 1
            self._received[1] += len(message)
            return message

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close politely and wait (bounded by websockets' close timeout) for the server's close."""
        await self._conn.close(code, reason)
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason

    @property
    def is_open(self) -> bool:
        return self.close_code is None and self._conn.state.name == "OPEN"

    @property
    def carries_audio(self) -> bool:
        """False: audio travels inside the JSON events (``input_audio_buffer.append``, deltas)."""
        return False

    def send_audio(self, pcm16: bytes) -> None:
        """Not used on a WebSocket: the protocol core turns audio into events."""
        raise NotImplementedError("a WebSocket carries audio as events, not as media")

    def set_audio_sink(self, sink: AudioSink | None) -> None:
        """Nothing to route: assistant audio arrives as events on a WebSocket."""
        if sink is not None:
            raise NotImplementedError("a WebSocket carries audio as events, not as media")

    def stats(self) -> TransportStats:
        """Frames and bytes each way, and the last ping round trip (websockets measures it)."""
        latency = self._conn.latency
        return TransportStats(
            kind=self.kind, frames_sent=self._sent[0], bytes_sent=self._sent[1],
            frames_received=self._received[0], bytes_received=self._received[1],
            rtt_ms=latency * 1000.0 if latency else None,
        )

    def _record_close(self, exc: ConnectionClosed) -> None:
        if self.close_code is not None:
            return
        if exc.rcvd is not None:
            self.close_code, self.close_reason = exc.rcvd.code, exc.rcvd.reason
        else:  # no close frame: the TCP connection died
            self.close_code, self.close_reason = 1006, "connection lost without a close frame"


_OFFLINE_ERRNOS = {101, 113}  # ENETUNREACH, EHOSTUNREACH


def _network_reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "The server's name could not be resolved. Check your network connection."
    if isinstance(exc, ConnectionRefusedError):
        return "The server refused the connection. Is it running, and is the address right?"
    if isinstance(exc, ssl.SSLError):
        return "A secure connection could not be established with the server."
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "The server did not answer in time. Check your network connection."
    return "Could not connect to the server. Check your network connection."


async def open_websocket(endpoint: Endpoint, observer: FrameObserver | None = None) -> RealtimeSocket:
    """The ``websocket`` :data:`~.base.TransportFactory` (the session config goes in ``session.update``)."""
    return await RealtimeSocket.open(endpoint.url, endpoint.headers, observer=observer)
