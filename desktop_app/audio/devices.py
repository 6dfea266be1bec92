"""Audio devices: enumerate, refresh for hot-plug, and resolve the user's choice by a stable name.

PortAudio numbers devices by position, and the numbers shift whenever something is plugged in, so
the user's choice is stored as :attr:`DeviceInfo.stable_id` (host API + name, with ALSA's volatile
``(hw:2,0)`` card suffix removed) and resolved again at every start. A choice that is gone falls back
to the system default with a one-sentence notice for the UI.

PortAudio builds its device list once, at initialisation; seeing a newly plugged device means
terminating and re-initialising the library. That invalidates every open stream, so
:func:`list_devices` only re-initialises while no stream is open (streams register themselves with
:func:`stream_opened`/:func:`stream_closed`) and otherwise returns the current list with a log line.
PortAudio is process-global state; this module's small counter is the one place that mirrors it.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from dataclasses import dataclass
from typing import Literal

import sounddevice as sd

from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger

log = get_logger("audio")

Kind = Literal["input", "output"]

_HW_SUFFIX = re.compile(r"\s*\((?:hw|plughw):\d+(?:,\d+)?\)\s*$")
_open_lock = threading.Lock()
_open_streams = 0


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device as the settings UI shows it. ``index`` is valid until the next refresh."""

    index: int
    name: str
    stable_id: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False
    # A sound server's sink or source (sound_server.py): opened through PortAudio's ``pulse``
    # device and routed by name; '' for PortAudio's own devices and for "follow the default".
    server_name: str = ""
    transport: str = ""  # "bluetooth", "usb", "pci" … as the server says
    profile: str = ""  # the card's active profile (a Bluetooth headset: a2dp-sink, headset-head-unit …)
    form_factor: str = ""  # "internal", "headset" …
    monitor: bool = False  # a sink's monitor (what plays), not a microphone

    @property
    def follows_default(self) -> bool:
        """Opened without a target on a sound server, which moves it when the default changes."""
        return not self.server_name and (self.hostapi == "PulseAudio" or self.name in ("default", "pipewire", "pulse"))

    def has(self, kind: Kind) -> bool:
        return (self.max_input_channels if kind == "input" else self.max_output_channels) > 0


def stable_name(name: str) -> str:
    """The device name without ALSA's card/device numbers, which change between plug-ins."""
    return _HW_SUFFIX.sub("", name).strip()


def stream_opened() -> None:
    global _open_streams
    with _open_lock:
        _open_streams += 1


def stream_closed() -> None:
    global _open_streams
    with _open_lock:
        _open_streams = max(0, _open_streams - 1)


def open_stream_count() -> int:
    return _open_streams


def reinitialize() -> bool:
    """Re-initialise PortAudio so added/removed devices show up; refused (False) with open streams."""
    with _open_lock:
        if _open_streams:
            log.info("- device refresh postponed: %d audio stream(s) open", _open_streams)
            return False
        sd._terminate()
        sd._initialize()
    log.debug("= PortAudio re-initialised for a device refresh")
    return True


def _default_index(kind: Kind) -> int:
    try:
        return int(sd.query_devices(kind=kind)["index"])
    except (sd.PortAudioError, ValueError, TypeError):
        return -1


def list_devices(refresh: bool = True) -> list[DeviceInfo]:
    """Every input and output device with host API, channels and default rate.

    ``refresh`` re-initialises PortAudio first (hot-plug), unless a stream is open.
    """
    if refresh:
        reinitialize()
    hostapis = [api["name"] for api in sd.query_hostapis()]
    default_in, default_out = _default_index("input"), _default_index("output")
    devices = _server_devices()
    served = bool(devices)
    for raw in sd.query_devices():
        hostapi = hostapis[raw["hostapi"]] if raw["hostapi"] < len(hostapis) else "?"
        devices.append(
            DeviceInfo(
                index=raw["index"],
                name=raw["name"],
                stable_id=f"{hostapi}:{stable_name(raw['name'])}",
                hostapi=hostapi,
                max_input_channels=raw["max_input_channels"],
                max_output_channels=raw["max_output_channels"],
                default_samplerate=float(raw["default_samplerate"]),
                # With a sound server, its default is the one (PortAudio's "default" is a pseudo-device).
                is_default_input=raw["index"] == default_in and not served,
                is_default_output=raw["index"] == default_out and not served,
            )
        )
    return devices


def _server_devices() -> list[DeviceInfo]:
    """The sound server's sinks and sources (Linux), opened through PortAudio's ``pulse`` device."""
    from desktop_app.audio import sound_server

    pulse = [d["index"] for d in sd.query_devices() if d["name"] == "pulse"]
    return [DeviceInfo(**found) for found in sound_server.list_server_devices(pulse[0])] if pulse else []


def _label(kind: Kind) -> str:
    return "microphone" if kind == "input" else "speaker"


def find_device(name: str, kind: Kind, devices: list[DeviceInfo]) -> DeviceInfo | None:
    """Match ``name`` as a stable id, then an exact name, then a name without the ALSA suffix."""
    usable = [d for d in devices if d.has(kind)]
    for match in (
        lambda d: d.stable_id == name,
        lambda d: d.name == name,
        lambda d: stable_name(d.name) == stable_name(name.split(":", 1)[-1]),
    ):
        for device in usable:
            if match(device):
                return device
    return None


def default_device(kind: Kind, devices: list[DeviceInfo]) -> DeviceInfo:
    """The system default for ``kind``, else the first capable device; AudioDeviceError if none."""
    usable = [d for d in devices if d.has(kind)]
    for device in usable:
        if device.is_default_input if kind == "input" else device.is_default_output:
            return device
    if usable:
        return usable[0]
    if kind == "input":
        message = "No microphone was found; connect one and choose it on the Audio tab."
    else:
        message = "No speaker or headphones were found; connect some and choose them on the Audio tab."
    raise AudioDeviceError(message, detail=f"PortAudio lists {len(devices)} device(s), none with {kind} channels")


def resolve_device(
    name: str | None, kind: Kind, devices: list[DeviceInfo] | None = None
) -> tuple[DeviceInfo, str | None]:
    """The device to open for the user's choice ``name`` (None = system default).

    Returns ``(device, notice)``; ``notice`` is a sentence for the UI when the chosen device is gone
    and the default was used instead. Raises :class:`AudioDeviceError` when there is no device at all.
    """
    if devices is None:
        devices = list_devices(refresh=False)
    if name:
        found = find_device(name, kind, devices)
        if found is not None:
            return found, None
    fallback = default_device(kind, devices)
    if fallback.server_name:
        # The default is opened as before, through PortAudio's own default device: the sound server
        # moves it when the default changes, and (PipeWire's ALSA device) with the lowest latency —
        # PortAudio's "pulse" device, which routes by name, buffers ~40 ms more.
        own = [d for d in devices if not d.server_name and d.index == _default_index(kind) and d.has(kind)]
        fallback = own[0] if own else dataclasses.replace(fallback, server_name="")
    if not name:
        return fallback, None
    notice = f"The {_label(kind)} “{stable_name(name.split(':', 1)[-1])}” is not available; using “{fallback.name}” instead."
    log.warning("! %s", notice)
    return fallback, notice
