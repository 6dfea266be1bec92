"""The embedded offline server as the window's session sees it: a declared protocol, and the default
factory that starts the real one (on the app's own loop) for the offline demo."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from desktop_app.errors import ConfigError


class Voices(Protocol):
    """The demo server's synthesizer, as the session uses it (warm-up, voice previews)."""

    def warm_up(self) -> None: ...

    async def synthesize(self, text: str, voice: str) -> tuple[Any, Any]: ...


class DemoServer(Protocol):
    """The embedded offline server as the session uses it: its URL and, when it speaks, its voices."""

    @property
    def url(self) -> str: ...

    @property
    def pool(self) -> Voices | None: ...



def default_server() -> AbstractAsyncContextManager[DemoServer]:
    """A fresh local server on a free port (loaded only when the demo is used)."""
    try:
        from desktop_app.local_server import LocalServer
    except ImportError:
        raise ConfigError("The offline demo is not part of this build of Parley.",
                          detail="desktop_app.local_server.LocalServer missing") from None
    return LocalServer(port=0)
