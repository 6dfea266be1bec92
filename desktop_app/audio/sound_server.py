"""The sound server's own devices on Linux (PipeWire through its PulseAudio interface, or
PulseAudio): every sink and source by name, streams routed to the chosen one, and its change
events — through ``pulsectl`` (ctypes over libpulse).

PortAudio's ALSA host lists only pseudo-devices there (``pipewire``, ``pulse``, ``default``), so a
person cannot pick a headset from PortAudio's list. Each sink and source becomes a
:class:`~.devices.DeviceInfo` whose ``index`` is PortAudio's ``pulse`` device and whose
``server_name`` is the sink or source; :func:`routed` sets ``PULSE_SINK``/``PULSE_SOURCE`` while
PortAudio opens the stream (libpulse reads them when the ALSA plugin connects), so the stream is
born on the chosen device. :func:`move_own_streams` moves this process's running streams to
another sink or source without reopening anything (the device came back).

When a sink or source disappears, the server moves the streams on it to the default one by itself:
nothing stops, and the app only has to say so. Without a server (Windows, macOS, plain ALSA) every
function here answers "nothing" and the PortAudio list stands alone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from desktop_app.log import get_logger

log = get_logger("audio")

PREFIX = "pulse:"
HOSTAPI = "PulseAudio"
CLIENT = "parley"
_ENV = {"output": "PULSE_SINK", "input": "PULSE_SOURCE"}
_env_lock = threading.Lock()

try:  # ctypes over libpulse: Linux desktops have it; elsewhere every function here answers "nothing"
    import pulsectl

    #: What the server's client library raises: refused or failed operations, a server gone away.
    PULSE_ERRORS: tuple[type[Exception], ...] = (pulsectl.PulseError, pulsectl.PulseDisconnected, OSError)
except (ImportError, OSError):  # not installed, or libpulse missing
    pulsectl = None
    PULSE_ERRORS = (OSError,)


def _pulse(name: str = CLIENT) -> Any:
    """A connected ``pulsectl.Pulse`` (never autospawning a daemon), or None without a server."""
    if pulsectl is None:
        return None
    try:
        pulse = pulsectl.Pulse(name, connect=False)
        pulse.connect(autospawn=False)  # (its timeout= variant always waits the whole timeout)
        return pulse
    except PULSE_ERRORS as exc:  # no server here
        log.debug("no sound server: %r", exc)
        return None


def _info(item: Any, kind: str, pa_index: int, default_name: str, cards: dict[int, Any]) -> dict[str, Any]:
    props = dict(item.proplist)
    card = cards.get(_card_of(item))
    profile = card.profile_active.name if card is not None and card.profile_active is not None else ""
    channels = int(item.channel_count)
    return {
        "index": pa_index, "name": str(item.description or item.name), "stable_id": PREFIX + item.name,
        "hostapi": HOSTAPI, "max_input_channels": channels if kind == "input" else 0,
        "max_output_channels": channels if kind == "output" else 0,
        "default_samplerate": float(item.sample_spec.rate),
        "is_default_input": kind == "input" and item.name == default_name,
        "is_default_output": kind == "output" and item.name == default_name, "server_name": str(item.name),
        "transport": str(props.get("device.bus", "")), "profile": profile,
        "form_factor": str(props.get("device.form_factor", "")),
        "monitor": kind == "input" and int(item.monitor_of_sink) != 0xFFFFFFFF,
    }


def _card_of(item: Any) -> int:
    """The card index of a sink or source (PA_INVALID_INDEX for virtual ones)."""
    return int(item.card)


def list_server_devices(pulse_index: int) -> list[dict[str, Any]]:
    """Every sink and source as ``DeviceInfo`` keyword arguments (PortAudio's ``pulse`` device at
    ``pulse_index`` opens them); [] without a server. Real sources come before monitors."""
    pulse = _pulse(f"{CLIENT}-list")
    if pulse is None:
        return []
    try:
        server = pulse.server_info()
        cards = {int(card.index): card for card in pulse.card_list()}
        sinks = [_info(s, "output", pulse_index, server.default_sink_name, cards) for s in pulse.sink_list()]
        sources = [_info(s, "input", pulse_index, server.default_source_name, cards) for s in pulse.source_list()]
    except PULSE_ERRORS as exc:  # the server went away mid-listing: the next change event lists again
        log.info("= sound server listing failed: %r", exc)
        return []
    finally:
        pulse.close()
    sources.sort(key=lambda d: d["monitor"])
    return sinks + sources


@contextmanager
def routed(kind: str, server_name: str) -> Iterator[None]:
    """While PortAudio opens a stream: send it to ``server_name`` (no-op for '')."""
    if not server_name:
        yield
        return
    key = _ENV[kind]
    with _env_lock:
        before = os.environ.get(key)
        os.environ[key] = server_name
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = before


def _is_ours(pulse: Any) -> Callable[[Any], bool]:
    """Whether a stream belongs to this process: by its own properties (PulseAudio clients, PortAudio's
    ``pulse`` device) or its client's (native PipeWire streams, e.g. PortAudio's ``pipewire``/``default``)."""
    pid = str(os.getpid())
    clients = {int(c.index) for c in pulse.client_list() if c.proplist.get("application.process.id") == pid}
    return lambda stream: stream.proplist.get("application.process.id") == pid or int(stream.client) in clients


def own_streams(kind: str) -> list[tuple[int, str]]:
    """``(stream index, sink or source name)`` for this process's playback (``output``) or
    recording (``input``) streams on the server."""
    pulse = _pulse(f"{CLIENT}-route")
    if pulse is None:
        return []
    try:
        ours = _is_ours(pulse)
        if kind == "output":
            names = {int(s.index): s.name for s in pulse.sink_list()}
            streams = [(int(i.index), names.get(int(i.sink), "")) for i in pulse.sink_input_list() if ours(i)]
        else:
            names = {int(s.index): s.name for s in pulse.source_list()}
            streams = [(int(o.index), names.get(int(o.source), "")) for o in pulse.source_output_list() if ours(o)]
        return streams
    except PULSE_ERRORS as exc:
        log.info("= sound server: could not list our streams: %r", exc)
        return []
    finally:
        pulse.close()


def move_own_streams(kind: str, server_name: str) -> int:
    """Move this process's ``kind`` streams to ``server_name`` without reopening them; how many moved."""
    pulse = _pulse(f"{CLIENT}-route")
    if pulse is None:
        return 0
    moved = 0
    try:
        ours = _is_ours(pulse)
        if kind == "output":
            target = pulse.get_sink_by_name(server_name)
            for stream in pulse.sink_input_list():
                if ours(stream) and int(stream.sink) != int(target.index):
                    pulse.sink_input_move(stream.index, target.index)
                    moved += 1
        else:
            target = pulse.get_source_by_name(server_name)
            for stream in pulse.source_output_list():
                if ours(stream) and int(stream.source) != int(target.index):
                    pulse.source_output_move(stream.index, target.index)
                    moved += 1
    except PULSE_ERRORS as exc:
        log.warning("! moving our %s streams to %s failed: %r", kind, server_name, exc)
    finally:
        pulse.close()
    if moved:
        log.info("= moved %d %s stream(s) to %s", moved, kind, server_name)
    return moved


class ServerWatch:
    """Calls ``changed()`` (from its own thread) whenever a sink, source, card or the defaults
    change. A daemon thread listens to the server's events; it reconnects when the server
    restarts. :meth:`stop` ends it within a second."""

    def __init__(self, changed: Callable[[], None]) -> None:
        self._changed = changed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="parley-device-watch", daemon=True)
        self.connected = threading.Event()

    def start(self) -> bool:
        """Start watching; False when there is no sound server to watch."""
        probe = _pulse(f"{CLIENT}-watch")
        if probe is None:
            return False
        probe.close()
        self._thread.start()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            pulse = _pulse(f"{CLIENT}-watch")
            if pulse is None:
                self._stop.wait(1.0)  # the server restarts: try again
                continue
            try:
                pulse.event_mask_set("sink", "source", "card", "server")
                pulse.event_callback_set(self._event)
                self.connected.set()
                self._changed()  # anything that happened while we were not listening
                while not self._stop.is_set():
                    pulse.event_listen(timeout=0.5)
            except PULSE_ERRORS as exc:  # the server restarted (PulseDisconnected): reconnect
                log.info("= device watch: %r; reconnecting", exc)
                self.connected.clear()
            finally:
                pulse.close()

    def _event(self, event: Any) -> None:
        """Devices that came or went, a new default (server), a profile switch (card). A sink's or
        source's own "change" (volume, running/idle as streams start and stop) is not a device change."""
        if event.t in ("new", "remove") or (event.t == "change" and event.facility in ("server", "card")):
            self._changed()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
