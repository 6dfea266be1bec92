"""Short-lived client secrets (``ek_…``): minted over HTTPS, cached, renewed before they expire.

Two sources (realtime-protocol.md §1.4):

* OpenAI's ``POST /v1/realtime/client_secrets`` with the long-lived key as ``Authorization: Bearer``;
* an organisation's own token URL (POST, same JSON body, the long key optional) that answers
  ``{"value": "ek_…", "expires_at": <unix s>}`` — the GA shape — or the beta shape
  ``{"client_secret": {"value": …, "expires_at": …}}``.

The request body is ``{"expires_after": {"anchor": "created_at", "seconds": ttl}, "session": {…}}``.
A secret's lifetime limits *starting* sessions only, so :meth:`EphemeralKeyProvider.get` hands out the
cached secret until fewer than 60 s remain, then mints a new one.

The HTTP call is stdlib ``urllib.request`` run in ``asyncio.to_thread`` (no extra dependency; the
event loop never blocks). Redirects are not followed: ``urllib`` would forward the ``Authorization``
header to wherever the redirect points. Failures are typed — 401/403 → :class:`AuthError` (fatal),
unreachable/timeouts/429/5xx → :class:`ConnectionLost` (retryable), anything else →
:class:`RemoteError` — and their text names the cause, never the key.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from desktop_app import __version__
from desktop_app.errors import AuthError, ConfigError, ConnectionLost, RemoteError
from desktop_app.log import get_logger, redact, register_secret
from desktop_app.settings.profiles import EphemeralProfile, mask_key

log = get_logger("settings")

RENEW_MARGIN_S = 60.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 — stdlib hook
        return None  # urllib then raises HTTPError(3xx), handled like any other refusal


_opener = urllib.request.build_opener(_NoRedirect)


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


class EphemeralKeyProvider:
    """Hands out a valid client secret, minting a new one when the cached one is about to expire.

    ``clock`` (unix seconds) is injectable so tests step time instead of sleeping.
    """

    def __init__(
        self,
        mint_url: str,
        long_key: str | None,
        session_config: Mapping[str, Any] | None = None,
        ttl_s: int = 600,
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(mint_url)
        self.host = parts.hostname or ""
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(self.host)):
            raise ConfigError(
                "The token URL must start with https:// (plain http is allowed only on this computer).",
                detail=f"refused token URL {mint_url!r}",
            )
        if not 10 <= ttl_s <= 7200:
            raise ConfigError(f"A client secret must live 10–7200 seconds, not {ttl_s}.")
        register_secret(long_key)
        self.mint_url = mint_url
        self._long_key = long_key or None
        self._session_config = dict(session_config) if session_config is not None else None
        self.ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._clock = clock
        # A secret shorter-lived than two margins would be renewed on every call otherwise.
        self._margin = min(RENEW_MARGIN_S, ttl_s / 2)
        self._cached: tuple[str, float] | None = None
        self._lock = asyncio.Lock()
        self.mint_count = 0

    @classmethod
    def for_profile(
        cls, profile: EphemeralProfile, long_key: str | None, session_config: Mapping[str, Any] | None
    ) -> EphemeralKeyProvider:
        """The provider an ephemeral profile describes (its token URL and secret lifetime)."""
        return cls(profile.effective_mint_url, long_key, session_config, profile.ttl_s)

    def __repr__(self) -> str:
        secret = mask_key(self._cached[0]) if self._cached else None
        return (
            f"EphemeralKeyProvider(mint_url={self.mint_url!r}, long_key={mask_key(self._long_key)!r}, "
            f"ttl_s={self.ttl_s}, cached={secret!r})"
        )

    async def get(self) -> tuple[str, float]:
        """``(secret, expires_at)``: the cached secret while more than 60 s remain, else a new one."""
        async with self._lock:  # concurrent callers share one mint
            if self._cached is not None and self._cached[1] - self._clock() > self._margin:
                return self._cached
            self._cached = await asyncio.to_thread(self._mint)
            return self._cached

    def invalidate(self) -> None:
        """Drop the cached secret (e.g. the server refused it); the next :meth:`get` mints anew."""
        self._cached = None

    def _request_body(self) -> bytes:
        body: dict[str, Any] = {"expires_after": {"anchor": "created_at", "seconds": self.ttl_s}}
        if self._session_config is not None:
            body["session"] = self._session_config
        return json.dumps(body).encode("utf-8")

    def _mint(self) -> tuple[str, float]:
        request = urllib.request.Request(self.mint_url, data=self._request_body(), method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", f"parley/{__version__}")
        if self._long_key:
            request.add_header("Authorization", f"Bearer {self._long_key}")
        try:
            with _opener.open(request, timeout=self._timeout_s) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc.code, exc.read()) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = _network_reason(exc)
            log.warning("! settings: token request to %s failed: %s", self.host, reason)
            raise ConnectionLost(
                f"Could not reach the key server {self.host} ({reason}); check the network and try again.",
                detail=f"POST {self.mint_url}: {reason}",
            ) from None
        secret, expires_at = self._parse(payload)
        register_secret(secret)
        self.mint_count += 1
        log.info("= settings: client secret from %s (%s), valid %d s", self.host, mask_key(secret),
                 expires_at - self._clock())
        return secret, expires_at

    def _parse(self, payload: bytes) -> tuple[str, float]:
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("client_secret"), dict):
            data = data["client_secret"]  # the beta response shape
        value = data.get("value") if isinstance(data, dict) else None
        expires_at = data.get("expires_at") if isinstance(data, dict) else None
        if not isinstance(value, str) or not value or isinstance(expires_at, bool) \
                or not isinstance(expires_at, (int, float)):
            log.error("! settings: token answer from %s has no value/expires_at", self.host)
            raise RemoteError(
                f"The key server {self.host} answered without a client secret; check the token URL.",
                detail=f"unexpected token response of {len(payload)} bytes",
            )
        register_secret(value)
        if expires_at <= self._clock():
            raise RemoteError(
                f"The key server {self.host} sent a client secret that had already expired; "
                "check this computer's clock.",
                detail=f"expires_at {expires_at} <= now {self._clock():.0f}",
            )
        return value, float(expires_at)

    def _http_error(self, status: int, payload: bytes) -> RemoteError:
        code, message = _error_fields(payload)
        detail = redact(f"HTTP {status} from {self.mint_url}: code={code} message={message}")
        if self._long_key:
            detail = detail.replace(self._long_key, "[REDACTED]")
        log.warning("! settings: %s", detail)
        why = f"HTTP {status}" + (f", {code}" if code else "")
        if status in (401, 403):
            return AuthError(
                f"The key server {self.host} refused the API key ({why}); check or replace the key "
                "of this profile.",
                code=code, detail=detail,
            )
        if status == 429 or status >= 500:
            return ConnectionLost(
                f"The key server {self.host} is busy or failing ({why}); Parley will try again.",
                code=code, detail=detail,
            )
        return RemoteError(
            f"The key server {self.host} rejected the request ({why}); check the profile's token "
            "URL and session settings.",
            code=code, detail=detail, fatal=True,
        )


def _error_fields(payload: bytes) -> tuple[str | None, str]:
    """``(code, message)`` from an OpenAI-style ``{"error": {...}}`` body, if it is one."""
    try:
        error = json.loads(payload).get("error")
    except (ValueError, AttributeError):
        return None, ""
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code") or error.get("type")
    return (str(code) if code else None), str(error.get("message", ""))[:300]


def _network_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "host name not found"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {getattr(reason, 'reason', None) or type(reason).__name__}"
    return redact(str(reason)) or type(reason).__name__
