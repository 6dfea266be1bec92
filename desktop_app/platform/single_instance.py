"""One Parley per user: a second launch raises the running window instead of starting another.

The first instance holds a lock file (:class:`QLockFile`: cross-platform, and a lock left by a
crashed process is noticed by its dead PID and taken over) in the config folder, and listens on a
loopback TCP port with a random token, both written to ``instance.json`` (readable by this user
only). A second launch finds the lock taken, reads the file, connects, sends the token and
``raise``, and exits; the first shows, raises and activates its window. Loopback TCP works the
same on Linux, macOS and Windows, and needs nothing beyond the standard library and QtCore.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile

from desktop_app.log import get_logger

log = get_logger("platform")

LOCK_NAME = "instance.lock"
INFO_NAME = "instance.json"
RAISE = b"raise"


class SingleInstance:
    """The lock and the door of the running instance in ``folder`` (the config folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = QLockFile(str(folder / LOCK_NAME))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self._server: asyncio.AbstractServer | None = None
        self._token = secrets.token_hex(16)

    @property
    def info_file(self) -> Path:
        return self.folder / INFO_NAME

    def acquire(self) -> bool:
        """True when this process is the first (it keeps the lock until :meth:`close`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._lock.tryLock(0):
            return True
        log.info("= another Parley holds the instance lock (%s)", self._lock.getLockInfo())
        return False

    async def serve(self, on_raise: Callable[[], None]) -> None:
        """Listen for a second launch; ``on_raise()`` runs on the loop when one knocks."""

        async def knock(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                line = await asyncio.wait_for(reader.readline(), 2.0)
                token, _, request = line.strip().partition(b" ")
                if secrets.compare_digest(token, self._token.encode()) and request == RAISE:
                    log.info("= a second launch asked for the window")
                    on_raise()
                    writer.write(b"ok\n")
                else:
                    log.warning("! instance door: a request without the right token was ignored")
                await writer.drain()
            except (asyncio.TimeoutError, OSError) as exc:
                log.info("= instance door: %r", exc)
            finally:
                writer.close()

        self._server = await asyncio.start_server(knock, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        tmp = self.info_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"port": port, "token": self._token, "pid": os.getpid()}, out)
        os.replace(tmp, self.info_file)
        log.info("= single instance: listening on 127.0.0.1:%d", port)

    def raise_running(self, timeout: float = 10.0) -> bool:
        """Ask the running instance to show its window (blocking; the second launch has no loop yet).
        Retries while the first is still starting; False when it never answered."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                info = json.loads(self.info_file.read_text())
                with socket.create_connection(("127.0.0.1", int(info["port"])), timeout=2.0) as conn:
                    conn.sendall(f"{info['token']} ".encode() + RAISE + b"\n")
                    if conn.makefile("rb").readline().strip() == b"ok":
                        return True
            except (OSError, ValueError, KeyError) as exc:
                log.debug("instance door not ready: %r", exc)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)  # the first instance is still starting: its door opens within a second

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
            try:
                self.info_file.unlink()
            except OSError:
                pass
        self._lock.unlock()
