"""The window users run, on real devices, for end-to-end tests: composed by the app's own root.

:class:`AppWindow` builds what ``make run`` builds — :func:`desktop_app.ui.bootstrap.build_engine`
(the real :class:`~desktop_app.audio.engine.AudioEngine` on the system's default devices: in the
tests, the private PipeWire room) and :func:`desktop_app.ui.bootstrap.build_window` (settings,
keys, the observatory and the history, :class:`~desktop_app.ui.session.ConversationSession` with its
:class:`~desktop_app.ui.audio_guard.GuardedPort`, the window) — and closes it the way a person does.
Nothing is assembled by hand: the controller, its audio port and the embedded server are the ones
the window makes. The test only chooses what a person would have chosen before (the settings file,
the keyring) and, where it needs a seeded server, which local server the demo profile starts.

:class:`Wire` is every frame of the window's connection, parsed and timed (and told to an
:class:`~tests.helpers.audio_probe.AudioProbe`); :meth:`AppWindow.tap` puts it beside the app's own
frame observer (the observatory's), so the app's observation is untouched.

    async with AppWindow(keys=memory_keys(), store=store, local_server=lambda: server) as app:
        app.window.bar.connect_button.click()
        await wait_until(lambda: app.session.view.connection is Conn.CONNECTED, 10, "the session")
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from desktop_app.audio.engine import AudioEngine
from desktop_app.settings.secrets import KeyStore
from desktop_app.settings.store import SettingsStore
from desktop_app.ui.bootstrap import build_engine, build_window
from desktop_app.ui.demo_server import DemoServer
from tests.gui.harness import MemoryKeyring
from tests.helpers.audio_probe import AudioProbe


def memory_keys() -> KeyStore:
    """A key store with no key in it, on an in-memory keyring (no environment key either)."""
    return KeyStore(MemoryKeyring(), environ={})


class Wire:
    """Every frame on the socket, parsed, with the time it passed (and told to the probe, if any)."""

    def __init__(self, probe: AudioProbe | None = None) -> None:
        self.frames: list[tuple[float, str, dict[str, Any]]] = []
        self.probe = probe

    def __call__(self, direction: str, text: str) -> None:
        event = json.loads(text)
        self.frames.append((time.monotonic(), direction, event))
        if self.probe is not None:
            self.probe.wire(direction, event)

    def sent(self, kind: str) -> list[dict[str, Any]]:
        return [e for _, d, e in self.frames if d == "sent" and e.get("type") == kind]

    def received(self, kind: str) -> list[dict[str, Any]]:
        return [e for _, d, e in self.frames if d == "received" and e.get("type") == kind]

    def times(self, direction: str, kind: str) -> list[float]:
        """When each ``kind`` frame passed in ``direction`` (monotonic seconds)."""
        return [t for t, d, e in self.frames if d == direction and e.get("type") == kind]


class AppWindow:
    """The window ``make run`` builds, with the real audio engine; an async context that closes it.

    ``store``: the settings file (None: the one in ``PARLEY_HOME``, as the app opens it); ``keys``:
    the key store; ``local_server``: what the demo profile starts (None: the app's default, a fresh
    :class:`~desktop_app.local_server.LocalServer`); ``history_path``: None for the data folder's.
    """

    def __init__(self, *, keys: KeyStore, store: SettingsStore | None = None,
                 local_server: Callable[[], AbstractAsyncContextManager[DemoServer]] | None = None,
                 history_path: Path | None = None) -> None:
        engine = build_engine()
        assert engine is not None, "PortAudio did not load: the window would run without audio"
        self.engine: AudioEngine = engine
        self.quit_requested = asyncio.Event()
        self.window = build_window(self.quit_requested.set, engine=engine, store=store, keys=keys,
                                   local_server=local_server, dark=False, history_path=history_path)
        self.session = self.window.session
        self.probe = AudioProbe(engine)
        self.wire = Wire(self.probe)
        self.tap(self.wire)
        self.closed = False
        self.window.show()

    def tap(self, observer: Callable[[str, str], None]) -> None:
        """Give ``observer`` every frame the window's connections pass, after the app's own observer."""
        observatory = self.session.conversations.observatory
        own = observatory.frame_observer

        def both(direction: str, text: str) -> None:
            own(direction, text)
            observer(direction, text)

        observatory.frame_observer = both  # type: ignore[method-assign]  # the app calls it by name per frame

    async def rendered(self) -> None:
        """Wait until the window shows the session's latest view (it renders on a later loop turn)."""
        deadline = time.monotonic() + 5
        while self.window.rendered is not self.session.view:
            assert time.monotonic() < deadline, "the window did not render the latest view within 5 s"
            await asyncio.sleep(0.01)

    @contextmanager
    def timeline_on_failure(self) -> Iterator[None]:
        """A failed check or a timed-out wait inside carries the audio probe's timeline."""
        try:
            yield
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{self.probe.report()}") from None

    async def close(self) -> None:
        """Close the window as a person does and wait for the app's clean shutdown (session, streams,
        the local server, settings and history)."""
        if self.closed:
            return
        self.closed = True
        self.probe.stop()
        self.window.close()
        await asyncio.wait_for(self.quit_requested.wait(), 5)
        await asyncio.wait_for(self.window.shutdown(), 20)
        self.window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    async def __aenter__(self) -> AppWindow:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()  # also when the test failed: no stream, task or server may outlive it
