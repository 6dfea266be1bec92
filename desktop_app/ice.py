"""Which of this computer's addresses a WebRTC peer offers as ICE candidates.

aioice offers every interface address except loopback. That is right for a call to a server
elsewhere, and wrong for a call to a peer on this very computer (the offline demo, the tests, the
benchmarks): such a call would leave loopback for the machine's network address, and on a computer
with no network up there would be no candidate at all, so the offline demo could not call its own
server. Inside :func:`loopback_only` the only candidate is ``127.0.0.1``; everywhere else aioice's
own choice stands.

The choice is a context variable, so it follows the tasks aiortc starts while gathering (they copy
the context) and never leaks into another call on the same loop. Both the client transport and the
local server use it; it imports nothing of Parley.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import aioice.ice

_LOOPBACK_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("parley_ice_loopback_only", default=False)


def _scoped(original: Callable[[bool, bool], list[str]]) -> Callable[[bool, bool], list[str]]:
    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        if _LOOPBACK_ONLY.get():
            return ["127.0.0.1"] if use_ipv4 else ["::1"]
        return original(use_ipv4, use_ipv6)

    host_addresses.parley_scoped = True  # type: ignore[attr-defined]  # marks the wrapper: install once
    return host_addresses


def _install() -> None:
    current = aioice.ice.get_host_addresses
    if current.__dict__.get("parley_scoped"):
        return
    aioice.ice.get_host_addresses = _scoped(current)  # type: ignore[assignment]  # same signature, wrapped


_install()


@contextlib.contextmanager
def loopback_only(on: bool = True) -> Iterator[None]:
    """Within this block (and the tasks started in it), gather ICE candidates on loopback only."""
    token = _LOOPBACK_ONLY.set(on)
    try:
        yield
    finally:
        _LOOPBACK_ONLY.reset(token)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, ``::1`` and 127.0.0.0/8."""
    return host in ("localhost", "::1") or host.startswith("127.")
