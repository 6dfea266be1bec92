"""Plain HTTP requests on the WebSocket's own port: the WebRTC call setup (``POST …/realtime/calls``).

The real service takes WebRTC offers as ``POST`` on the same host as its WebSocket, and so does the
local server, on the same port. websockets parses only the ``GET`` of an upgrade and refuses a body,
so its :class:`~websockets.asyncio.server.ServerConnection` is subclassed (its documented extension
point, ``serve(create_connection=…)``): a connection whose first bytes are ``POST `` is read with
h11 and answered by the route for its path; every other connection is websockets' as before. When
the answer is written the TCP connection closes, and websockets sees an opening handshake that never
happened (no log line, nothing to clean up).

Limits: the request head and body must arrive within websockets' ``open_timeout`` and the body is at
most :data:`MAX_BODY` bytes (an SDP offer is a few kB).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import h11
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers

from desktop_app.local_server.tasks import start_task

MAX_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One plain HTTP request: ``headers`` are case-insensitive (websockets' ``Headers``)."""

    method: str
    target: str
    headers: Headers
    body: bytes
    peer: str = ""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An answer: status, body and its type, extra headers (``Location``)."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, message: str, code: str | None = None,
              error_type: str = "invalid_request_error") -> HttpResponse:
        """The service's JSON error shape: ``{"error": {message, type, code, param}}``."""
        body = {"error": {"message": message, "type": error_type, "code": code, "param": None}}
        return cls(status, json.dumps(body).encode("utf-8"))


Route = Callable[[HttpRequest], Awaitable[HttpResponse]]
"""Answers one request (a path's handler)."""

_REASONS = {200: b"OK", 201: b"Created", 400: b"Bad Request", 401: b"Unauthorized", 403: b"Forbidden",
            404: b"Not Found", 405: b"Method Not Allowed", 413: b"Payload Too Large", 429: b"Too Many Requests",
            500: b"Internal Server Error", 503: b"Service Unavailable"}


def http_connection(routes: Mapping[str, Route], not_found: Callable[[str], HttpResponse]) -> type[ServerConnection]:
    """A ServerConnection class that answers ``POST`` requests from ``routes`` (path → route)."""

    class HttpOrWebSocket(ServerConnection):
        """websockets' connection, unless the first request is a ``POST``: then plain HTTP."""

        _http: h11.Connection | None = None
        _head = b""
        _decided = False
        _request: h11.Request | None = None
        _body = b""

        def data_received(self, data: bytes) -> None:
            if not self._decided:
                self._head += data
                if len(self._head) < 5 and b" " not in self._head:
                    return  # not enough to tell yet
                self._decided = True
                data, self._head = self._head, b""
                if data.startswith(b"POST "):
                    self._http = h11.Connection(h11.SERVER, max_incomplete_event_size=16 * 1024)
            if self._http is None:
                super().data_received(data)
                return
            self._http.receive_data(data)
            self._read_request()

        def eof_received(self) -> None:
            if self._http is None:  # a half-closed HTTP request is still answered (then closed)
                super().eof_received()

        def _read_request(self) -> None:
            assert self._http is not None
            try:
                while True:
                    event = self._http.next_event()
                    if event is h11.NEED_DATA or event is h11.PAUSED:
                        return
                    if isinstance(event, h11.Request):
                        self._request = event
                    elif isinstance(event, h11.Data):
                        self._body += bytes(event.data)
                        if len(self._body) > MAX_BODY:
                            self._answer(HttpResponse.error(413, "The request body is too large."))
                            return
                    elif isinstance(event, h11.EndOfMessage) and self._request is not None:
                        self._task = start_task(self._route(self._request, self._body), name="http.route")
                        return
            except h11.RemoteProtocolError as exc:
                self._answer(HttpResponse.error(400, f"Malformed HTTP request: {exc}"))

        async def _route(self, head: h11.Request, body: bytes) -> None:
            target = head.target.decode("ascii", "replace")
            path = target.split("?", 1)[0].rstrip("/")
            route = routes.get(path)
            peer = self.transport.get_extra_info("peername")
            headers = Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers])
            request = HttpRequest(head.method.decode("ascii", "replace"), target, headers, body,
                                  str(peer[0]) if peer else "")
            try:
                response = await route(request) if route is not None else not_found(path)
            except Exception:  # a route bug is one 500, never a hung client
                self.logger.error("! HTTP route %s failed", path, exc_info=True)
                response = HttpResponse.error(500, "The server had an error while processing your request.",
                                              error_type="server_error")
            self._answer(response)

        def _answer(self, response: HttpResponse) -> None:
            assert self._http is not None
            if self.transport.is_closing():
                return
            headers: list[tuple[str, str]] = [("Content-Type", response.content_type),
                                              ("Content-Length", str(len(response.body))), ("Connection", "close"),
                                              *response.headers.items()]
            try:
                out = self._http.send(h11.Response(status_code=response.status, headers=headers,
                                                   reason=_REASONS.get(response.status, b"")))
                out = (out or b"") + (self._http.send(h11.Data(data=response.body)) or b"")
                out += self._http.send(h11.EndOfMessage()) or b""
            except h11.LocalProtocolError:  # the request was cut short: answer anyway, then close
                out = (f"HTTP/1.1 {response.status} \r\nContent-Length: {len(response.body)}\r\n"
                       "Connection: close\r\n\r\n").encode("latin-1") + response.body
            self.transport.write(out)
            self.transport.close()

    return HttpOrWebSocket

