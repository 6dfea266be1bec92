"""Seeing devices come and go while streams run, without pressing Refresh and without touching
them.

* With a sound server (Linux: PipeWire or PulseAudio) its own change events say when a sink,
  source, card or default changed (:class:`~.sound_server.ServerWatch`, a daemon thread), and its
  list is read without re-initialising PortAudio.
* Elsewhere PortAudio only sees new devices after a re-initialisation, which would kill the open
  streams. So the list is read every :data:`POLL_S` seconds in a short-lived helper process
  (``parley --list-audio-devices``) while streams are open, and in-process (re-initialising
  PortAudio, which is then harmless) while none is.

Either way ``changed()`` runs on the loop, at most once per burst of events.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable

from desktop_app.audio import devices
from desktop_app.audio.sound_server import ServerWatch
from desktop_app.log import get_logger
from desktop_app.tasks import spawn

log = get_logger("audio")

POLL_S = 5.0
LIST_FLAG = "--list-audio-devices"


def helper_command() -> list[str]:
    """How to run the device-listing helper: the bundle's executable, or this Python on the package."""
    if getattr(sys, "frozen", False):  # PyInstaller: sys.executable is Parley itself
        return [sys.executable, LIST_FLAG]
    return [sys.executable, "-m", "desktop_app", LIST_FLAG]


def list_ids_json() -> str:
    """What the helper prints: the stable ids PortAudio lists now (freshly initialised)."""
    return json.dumps(sorted(d.stable_id for d in devices.list_devices(refresh=False)))


class DeviceWatch:
    """Calls ``changed()`` on ``loop`` when the device list (or a default) changes."""

    def __init__(self, loop: asyncio.AbstractEventLoop, changed: Callable[[], None]) -> None:
        self._loop = loop
        self._changed = changed
        self._pending = False
        self._server: ServerWatch | None = None
        self._poll: asyncio.Task[None] | None = None
        self.how = ""

    def start(self) -> str:
        """Start watching; returns how (``server`` or ``poll``)."""
        server = ServerWatch(self._post)
        if server.start():
            self._server, self.how = server, "server"
        else:
            self._poll = spawn(self._polling(), name="device poll", logger=log)
            self.how = "poll"
        log.info("= watching audio devices (%s)", self.how)
        return self.how

    def _post(self) -> None:
        """From any thread: one ``changed()`` on the loop per burst."""
        if self._pending or self._loop.is_closed():
            return
        self._pending = True
        self._loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        self._pending = False
        self._changed()

    async def _polling(self) -> None:
        last: list[str] | None = None
        while True:
            await asyncio.sleep(POLL_S)
            now = await self._snapshot()
            if now is not None and last is not None and now != last:
                self._post()
            last = now if now is not None else last

    async def _snapshot(self) -> list[str] | None:
        if devices.open_stream_count() == 0:
            return sorted(d.stable_id for d in devices.list_devices(refresh=True))
        proc = await asyncio.create_subprocess_exec(*helper_command(), stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.DEVNULL)
        out, _ = await proc.communicate()
        try:
            found = json.loads(out)
        except ValueError:
            log.info("= device helper printed no list (exit %s)", proc.returncode)
            return None
        return [str(x) for x in found]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
