"""HTTP tools: a request built from a template, sent only to allowed hosts, redirects checked hop by hop.

The request runs in a worker thread on the standard library's ``http.client`` (no HTTP client is a
dependency of the app, and ``http.client`` never follows redirects by itself, which is what the
per-hop host check needs). A cancelled or timed-out call shuts the socket down, so the thread ends
at once instead of waiting for the server. The body is read up to a cap and the rest is never read.

Security (see :mod:`desktop_app.tools.security`): placeholders percent-encoded; scheme, host and
port checked before the first request and after every redirect (an https → http downgrade is
refused); headers holding secrets are dropped when a redirect changes host; CR/LF in any header
value refused; secrets come from the keyring by name and are registered for log redaction.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import ssl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from desktop_app.log import get_logger
from desktop_app.tools.secrets import SecretSource
from desktop_app.tools.security import (
    PLACEHOLDER, SECRET_PLACEHOLDER, check_header_value, check_url_host, fill_url, refused, scalar_text,
)
from desktop_app.tools.spec import CallContext, ToolError

log = get_logger("tools")

REDIRECTS = (301, 302, 303, 307, 308)
_TOKEN = re.compile(SECRET_PLACEHOLDER.pattern + "|" + PLACEHOLDER.pattern)
MAX_BODY_BYTES = 4_000_000
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml", "+json", "+xml", "javascript")


@dataclass(frozen=True, slots=True)
class HttpToolConfig:
    """A validated ``type = "http"`` entry of the tools file."""

    method: str
    url: str
    allowed_hosts: tuple[str, ...]
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = "none"  # "none" | "json": arguments not used in the URL go in a JSON body
    max_redirects: int = 3
    user_agent: str = "Parley tools"

    @property
    def allow_http(self) -> bool:
        return urlsplit(self.url).scheme == "http"


@dataclass
class _Abort:
    """Lets the event loop shut down the socket a worker thread is blocked on."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    connection: http.client.HTTPConnection | None = None
    aborted: bool = False

    def attach(self, connection: http.client.HTTPConnection) -> None:
        with self.lock:
            if self.aborted:
                raise ToolError("Cancelled.", kind="cancelled")
            self.connection = connection

    def abort(self) -> None:
        with self.lock:
            self.aborted = True
            sock = self.connection.sock if self.connection is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    reason: str
    content_type: str
    body: bytes
    truncated: bool
    url: str


class HttpRunner:
    """Runs one HTTP tool: ``await runner(arguments, context)``."""

    def __init__(self, config: HttpToolConfig, secrets: SecretSource, *, max_output_chars: int) -> None:
        self.config = config
        self.secrets = secrets
        self.max_body = min(MAX_BODY_BYTES, max(100, max_output_chars - 500))  # room for the JSON and note

    async def __call__(self, arguments: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        url = fill_url(self.config.url, arguments)
        check_url_host(url, self.config.allowed_hosts, allow_http=self.config.allow_http)
        headers, secret_headers = self._headers(arguments)
        body: bytes | None = None
        if self.config.body == "json":
            used = set(PLACEHOLDER.findall(self.config.url))
            for value in self.config.headers.values():
                used.update(PLACEHOLDER.findall(SECRET_PLACEHOLDER.sub("", value)))
            body = json.dumps({k: v for k, v in arguments.items() if k not in used}, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        abort = _Abort()
        try:
            response = await asyncio.to_thread(self._fetch, url, headers, secret_headers, body, context.timeout_s, abort)
        finally:
            abort.abort()  # a cancel or timeout unblocks the worker; after success this only closes
        return self._describe(response)

    def _headers(self, arguments: Mapping[str, Any]) -> tuple[dict[str, str], set[str]]:
        """The request headers, and the (lower-case) names of those that carry a secret.

        One pass over each template: a value put in from an argument is never scanned again, so an
        argument reading ``{secret:bank}`` stays that text and cannot pull a secret in.
        """
        headers = {"User-Agent": self.config.user_agent, "Accept": "application/json, text/*;q=0.9, */*;q=0.5"}
        secret_headers: set[str] = set()
        for name, template in self.config.headers.items():
            def fill(match: re.Match[str]) -> str:
                secret_name, argument = match.group(1), match.group(2)
                if secret_name:
                    value = self.secrets.get(secret_name)
                    if value is None:
                        raise ToolError(f"The secret “{secret_name}” this tool needs is not set; the user can add "
                                        "it in the Tools tab.")
                    secret_headers.add(name.lower())  # noqa: B023 — fill() runs within this iteration
                    return value
                if argument not in arguments:
                    raise refused(f"The header {name} needs the argument {argument!r}.")  # noqa: B023 — same
                return scalar_text(arguments[argument])

            headers[name] = check_header_value(name, _TOKEN.sub(fill, template))
        return headers, secret_headers

    def _fetch(self, url: str, headers: dict[str, str], secret_headers: set[str], body: bytes | None,
               timeout_s: float, abort: _Abort) -> _Response:
        method = self.config.method
        first_host = urlsplit(url).hostname
        for _hop in range(self.config.max_redirects + 1):
            parts = urlsplit(url)
            connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            kwargs: dict[str, Any] = {"timeout": timeout_s}
            if parts.scheme == "https":
                kwargs["context"] = ssl.create_default_context()
            connection = connection_class(parts.hostname or "", parts.port, **kwargs)
            abort.attach(connection)
            try:
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                log.info("> tools: HTTP %s %s://%s%s", method, parts.scheme, parts.netloc, parts.path)
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                location = response.getheader("Location")
                if response.status in REDIRECTS and location:
                    response.close()
                    next_url = urljoin(url, location)
                    if parts.scheme == "https" and urlsplit(next_url).scheme == "http":
                        raise refused("The server redirected from https to plain http, which is refused.")
                    check_url_host(next_url, self.config.allowed_hosts, allow_http=self.config.allow_http)
                    log.info("< tools: HTTP %d redirect to %s", response.status, urlsplit(next_url).netloc)
                    if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                        method, body = "GET", None
                        headers.pop("Content-Type", None)
                    if urlsplit(next_url).hostname != first_host:  # never hand a secret to another host
                        headers = {k: v for k, v in headers.items() if k.lower() not in secret_headers}
                    url = next_url
                    continue
                data = response.read(self.max_body)
                truncated = len(data) == self.max_body and bool(response.read(1))
                log.info("< tools: HTTP %d %s (%d bytes%s)", response.status, response.reason, len(data),
                         ", more not read" if truncated else "")
                return _Response(response.status, response.reason, response.getheader("Content-Type") or "",
                                 data, truncated, url)
            except TimeoutError:  # the socket's own timeout: the same outcome as the tool's timeout
                if abort.aborted:
                    raise ToolError("Cancelled.", kind="cancelled") from None
                raise
            except (OSError, http.client.HTTPException) as exc:
                if abort.aborted:
                    raise ToolError("Cancelled.", kind="cancelled") from None
                raise ToolError(f"The request failed: {_network_problem(exc)}.") from None
            finally:
                connection.close()
        raise ToolError(f"The server redirected more than {self.config.max_redirects} times.")

    @staticmethod
    def _describe(response: _Response) -> dict[str, Any]:
        out: dict[str, Any] = {"status": response.status, "content_type": response.content_type}
        kind = response.content_type.lower()
        if not kind or any(t in kind for t in _TEXT_TYPES):
            charset = "utf-8"
            if "charset=" in kind:
                charset = kind.split("charset=", 1)[1].split(";")[0].strip() or "utf-8"
            try:
                text = response.body.decode(charset, errors="replace")
            except LookupError:
                text = response.body.decode("utf-8", errors="replace")
            out["body"] = json.loads(text) if "json" in kind and not response.truncated and _is_json(text) else text
        else:
            out["body"] = f"({len(response.body):,} bytes of {response.content_type} not shown)"
        if response.truncated:
            out["note"] = "The response was longer than this tool reads; only its beginning is shown."
        if response.status >= 400:
            out["error"] = f"The server answered {response.status} {response.reason}."
        return out


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _network_problem(exc: Exception) -> str:
    if isinstance(exc, socket.timeout):
        return "the server did not answer in time"
    if isinstance(exc, ssl.SSLError):
        return "the secure connection failed"
    if isinstance(exc, socket.gaierror):
        return "the host name could not be resolved"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    return type(exc).__name__


def header_templates_ok(headers: Mapping[str, str], params: Sequence[str]) -> list[str]:
    """Problems with header templates at load time (unknown placeholders, literal CR/LF)."""
    problems = []
    for name, template in headers.items():
        if any(ch in template for ch in "\r\n\x00") or any(ch in name for ch in "\r\n\x00:"):
            problems.append(f"header {name!r}: line breaks are not allowed in headers")
        for placeholder in PLACEHOLDER.findall(SECRET_PLACEHOLDER.sub("", template)):
            if placeholder not in params:
                problems.append(f"header {name!r}: {{{placeholder}}} is not one of the tool's params")
    return problems
