"""A whole Parley window against a scripted Realtime peer, with a WAV as the microphone.

:class:`Gui` builds the real composition (settings store in a temp dir, a key store on an in-memory
keyring, the session, the window) and points the offline-demo profile at a :class:`ScriptedPeer`,
so the test decides every server frame and the peer validates every client frame with the SDK.
"""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from pathlib import Path
from typing import Any

import keyring.backend
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
import keyring.errors

from desktop_app.controller.ports import FilePort
from desktop_app.controller.states import Conn
from desktop_app.settings.secrets import KeyStore
from desktop_app.settings.store import SettingsStore
from desktop_app.ui.bootstrap import build_window
from tests.controller.peer import ScriptedPeer
from tests.realtime import frames as F


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps secrets in a dict (counts as a safe backend for the key store)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.data.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


def write_voice_wav(path: Path, seconds: float = 1.2, silence_s: float = 0.3, rate: int = 24000) -> Path:
    """A voice-like test signal (harmonics with a syllable rhythm at about -20 dBFS), then silence."""
    frames = bytearray()
    for n in range(int(rate * (seconds + silence_s))):
        t = n / rate
        if t < seconds:
            envelope = 0.55 + 0.45 * math.sin(2 * math.pi * 4 * t)
            x = sum(math.sin(2 * math.pi * 140 * k * t) / k for k in (1, 2, 3, 4)) * 0.12 * envelope
        else:
            x = 0.0
        frames += struct.pack("<h", int(max(-1, min(1, x)) * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


def merged(base: dict[str, Any], diff: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in diff.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = merged(base[key], value) if both else value
    return out


class PeerServer:
    """Looks like the embedded LocalServer to the session: an async context with ``url`` (and no
    synthesizer: ``pool`` is None, so voice previews are off)."""

    pool = None

    def __init__(self, peer: ScriptedPeer) -> None:
        self.peer = peer
        self.url = peer.url
        self.entered = 0
        self.exited = 0

    async def __aenter__(self) -> PeerServer:
        self.entered += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.exited += 1


async def wait_until(predicate, timeout: float = 10.0, describe=None) -> None:  # noqa: ANN001
    """Wait on the running loop until ``predicate()`` is true (fails the test after ``timeout``;
    ``describe()``, when given, says in the failure what there was instead)."""
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)
    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        if describe is None:
            raise
        raise AssertionError(f"not true within {timeout} s; instead: {describe()}") from None


class Gui:
    """The window, its session and the peer; ``phases`` records every turn text the window showed,
    ``views`` every view it rendered."""

    def __init__(self, tmp: Path, peer: ScriptedPeer | None, *, wav: Path | None = None, audio=None,  # noqa: ANN001
                 keyring_backend: keyring.backend.KeyringBackend | None = None, profile: str = "Local server",
                 settings: dict[str, Any] | None = None, server=None, engine=None,  # noqa: ANN001
                 override=None) -> None:  # noqa: ANN001
        """``peer`` scripts the server; or ``server`` is a real embedded LocalServer (``peer=None``).
        ``engine``: a real :class:`~desktop_app.audio.engine.AudioEngine` (the devices of the PipeWire
        room), composed exactly as ``make run`` does (a DevicePort over it), instead of a WAV.
        Settings and the conversation history live in ``tmp``: a second ``Gui`` on the same folder is
        the app opened again."""
        self.peer = peer
        self.server = server if server is not None else PeerServer(peer)
        self.store = SettingsStore(tmp / "settings.ini")
        self.store.update(active_profile=profile, **(settings or {}))
        self.backend = keyring_backend or MemoryKeyring()
        self.keys = KeyStore(self.backend, environ={})
        self.quit_requested = asyncio.Event()
        self.played: list[bytes] = []
        wav = wav or write_voice_wav(tmp / "voice.wav")

        def make_audio(_settings):  # noqa: ANN001
            return audio if audio is not None else FilePort(wav, on_played=self.played.append)

        self.engine = engine
        self.window = build_window(self.quit_requested.set, store=self.store, keys=self.keys, engine=engine,
                                   make_audio=None if engine is not None else make_audio,
                                   local_server=lambda: self.server, dark=False, override=override,
                                   history_path=tmp / "history.sqlite3")
        self.session = self.window.session
        self.phases: list[str] = []
        self.views: list = []
        self.window.view_rendered.connect(self._record)
        self.server_session = F.session_obj()
        self.closed = False
        self.window.show()

    def _record(self, view) -> None:  # noqa: ANN001
        self.views.append(view)
        phase = self.window.indicators.phase
        if not self.phases or self.phases[-1] != phase:
            self.phases.append(phase)

    @property
    def view(self):  # noqa: ANN201
        return self.session.view

    @property
    def port(self):  # noqa: ANN201
        return self.session.port.inner

    async def rendered(self) -> None:
        """Wait until the window shows the session's latest view (it renders on the next loop turn)."""
        await wait_until(lambda: self.window.rendered is self.session.view)

    async def accept_update(self) -> dict[str, Any]:
        update = await self.peer.next("session.update")
        self.server_session = merged(self.server_session, update["session"])
        await self.peer.send(F.session_updated(self.server_session))
        return update

    async def connect(self, click: bool = True) -> None:
        """Press Connect (or start), answer the handshake, wait for "Connected"."""
        if click:
            self.window.bar.connect_button.click()
        await self.peer.connected(self.peer.connections + 1)
        await self.peer.send(F.session_created())
        await self.accept_update()
        await wait_until(lambda: self.view.connection is Conn.CONNECTED)
        await self.rendered()

    async def close(self) -> None:
        """Close the window the way a person does and wait for the clean shutdown."""
        if self.closed:
            return
        self.closed = True
        self.window.close()
        await asyncio.wait_for(self.quit_requested.wait(), 5)
        await asyncio.wait_for(self.window.shutdown(), 10)
        self.window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    async def __aenter__(self) -> Gui:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()  # also when the test failed: no task may outlive it
