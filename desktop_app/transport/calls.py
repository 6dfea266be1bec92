"""Setting up a WebRTC call: ``POST /v1/realtime/calls`` with the SDP offer (realtime-protocol.md §1.6).

* :func:`calls_url` turns the profile's Realtime WebSocket URL into its calls URL: the same host and
  path plus ``/calls``, ``ws``→``http`` and ``wss``→``https``, no query string (the service refuses
  ``?model=`` there), and the model read from the query. So OpenAI's
  ``wss://api.openai.com/v1/realtime?model=M`` calls ``https://api.openai.com/v1/realtime/calls``,
  Azure's GA ``wss://<res>.openai.azure.com/openai/v1/realtime?model=<deployment>`` calls
  ``https://<res>.openai.azure.com/openai/v1/realtime/calls``, and the local server's own URL calls
  its own port.
* :func:`post_offer` sends ``multipart/form-data`` with the parts ``sdp`` (the offer, ICE gathering
  complete) and ``session`` (JSON: ``type``, ``model``), authenticated by the same headers as the
  WebSocket (``Authorization: Bearer`` key or ``ek_…`` client secret, or Azure's ``api-key``). A 201
  carries the answer SDP and ``Location: …/calls/{call_id}``.

Failures are the typed errors of :mod:`desktop_app.errors`, as for the WebSocket: 401/403 →
``AuthError``; 400/404 → fatal ``ConnectionLost`` with the server's own message; 429/5xx, refused,
DNS, timeouts → retryable ``ConnectionLost`` (``offline`` when there is no network at all). The
HTTP call is stdlib ``urllib`` in a worker thread; redirects are not followed (they would carry the
key elsewhere).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import Message
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from desktop_app.errors import AuthError, ConfigError, ConnectionLost
from desktop_app.log import get_logger, redact

log = get_logger("transport")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Message, newurl: str) -> urllib.request.Request | None:
        return None  # urllib then raises HTTPError(3xx), handled like any other refusal


_opener = urllib.request.build_opener(_NoRedirect)


def calls_url(realtime_url: str) -> tuple[str, str | None]:
    """``(calls URL, model)`` for a Realtime WebSocket URL (see the module docstring)."""
    parts = urlsplit(realtime_url)
    scheme = {"ws": "http", "wss": "https", "http": "http", "https": "https"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise ConfigError("The endpoint address must start with ws://, wss://, http:// or https://.",
                          detail=f"bad scheme in {realtime_url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/calls"):
        path += "/calls"
    models = parse_qs(parts.query).get("model")
    return urlunsplit((scheme, parts.netloc, path, "", "")), models[0] if models else None


def multipart(fields: Mapping[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """``(body, content type)`` of a ``multipart/form-data`` with ``name -> (content type, bytes)``."""
    boundary = "parley" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for name, (ctype, data) in fields.items():
        chunks.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n"
                      f"Content-Type: {ctype}\r\n\r\n".encode("ascii"))
        chunks.append(data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


async def post_offer(url: str, headers: Mapping[str, str], sdp: str, session: Mapping[str, Any] | None,
                     timeout: float = 15.0) -> tuple[str, str | None]:
    """Post the offer; returns ``(answer SDP, call id or None)``. Raises the typed errors."""
    fields: dict[str, tuple[str, bytes]] = {"sdp": ("application/sdp", sdp.encode("utf-8"))}
    if session is not None:
        fields["session"] = ("application/json", json.dumps(dict(session)).encode("utf-8"))
    body, ctype = multipart(fields)
    request = urllib.request.Request(url, data=body, method="POST")
    for name, value in headers.items():
        request.add_header(name, value)
    request.add_header("Content-Type", ctype)
    request.add_header("Accept", "application/sdp, application/json")
    request.add_header("User-Agent", "Parley")
    log.info("= posting the WebRTC offer to %s", redact(url))
    status, answer, location = await asyncio.to_thread(_post, request, url, timeout)
    if status != 201 and status != 200:
        raise ConnectionLost(f"The server answered HTTP {status} instead of starting a call.",
                             code=str(status), detail=f"HTTP {status} from {redact(url)}")
    call_id = location.rstrip("/").rsplit("/", 1)[-1] if location else None
    log.info("= call %s answered", call_id or "(no id)")
    return answer.decode("utf-8", "replace"), call_id


def _post(request: urllib.request.Request, url: str, timeout: float) -> tuple[int, bytes, str | None]:
    proxies = urllib.request.ProxyHandler({}) if _is_loopback(url) else None  # loopback never via a proxy
    opener = urllib.request.build_opener(_NoRedirect, proxies) if proxies is not None else _opener
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status), response.read(), response.headers.get("Location")
    except urllib.error.HTTPError as exc:
        raise _http_error(exc.code, exc.read(), url) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        log.error("! offer to %s failed: %r", redact(url), reason)
        lost = ConnectionLost(_network_reason(reason), detail=redact(repr(reason)))
        lost.offline = isinstance(reason, socket.gaierror) or (
            isinstance(reason, OSError) and reason.errno in _OFFLINE_ERRNOS)
        raise lost from None


_OFFLINE_ERRNOS = {101, 113}  # ENETUNREACH, EHOSTUNREACH


def _http_error(status: int, payload: bytes, url: str) -> Exception:
    message = code = None
    try:
        error = json.loads(payload.decode("utf-8")).get("error") or {}
        message, code = error.get("message"), error.get("code")
    except (ValueError, AttributeError):
        pass
    detail = f"HTTP {status} from {redact(url)}: {redact(payload[:300].decode('utf-8', 'replace'))}"
    log.error("! %s", detail)
    if status in (401, 403):
        return AuthError("The server refused the API key; enter a valid key.", code=code or str(status),
                         detail=detail)
    sentence = f"The server refused the call: {message}" if message else (
        f"The server answered HTTP {status} instead of starting a call.")
    return ConnectionLost(sentence, code=code or str(status), detail=detail, fatal=status in (400, 404, 405))


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _network_reason(exc: object) -> str:
    if isinstance(exc, socket.gaierror):
        return "The server's name could not be resolved. Check your network connection."
    if isinstance(exc, ConnectionRefusedError):
        return "The server refused the connection. Is it running, and is the address right?"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "The server did not answer in time. Check your network connection."
    return "Could not connect to the server. Check your network connection."
