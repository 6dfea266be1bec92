"""What to do when devices come and go: the decisions, as plain Python (no devices, no Qt).

:class:`DeviceFollower` (one per side) is told the person's choice, the device the stream uses now
and the current list, and answers with a :class:`Move` or nothing:

* the chosen device disappeared → the system default, said in one sentence (a sound server has
  already moved the stream there by itself: nothing to reopen; a PortAudio device has failed: reopen);
* the chosen device came back → back to it (moved on the server, else reopened), said once;
* "follow the system default" (no choice) and the default changed → follow it (the server moves its
  streams itself; a PortAudio stream is reopened), said once;
* anything else → nothing, so a working stream is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.audio.devices import DeviceInfo, Kind, default_device, find_device, stable_name
from desktop_app.errors import AudioDeviceError

SERVER_PREFIX = "pulse:"


@dataclass(frozen=True, slots=True)
class Move:
    """Open or move the stream to ``target`` (a stable id; None: the system default).

    ``reopen`` False: the sound server moves it (``server_name``) or already did. ``sentence`` for
    the banner ('' for none) at ``level`` (info or warning)."""

    target: str | None
    reopen: bool
    sentence: str
    level: str = "info"
    server_name: str = ""


def _label(kind: Kind) -> str:
    return "microphone" if kind == "input" else "speaker"


class DeviceFollower:
    """Decides for one side (``input`` or ``output``); keeps what it needs between lists."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.fell_back_from: str | None = None
        self.names: dict[str, str] = {}
        self.last_default: str | None = None

    def _name(self, device_id: str) -> str:
        return self.names.get(device_id) or stable_name(device_id.split(":", 1)[-1])

    def update(self, chosen: str, in_use: DeviceInfo | None, devices: list[DeviceInfo],
               failed: bool = False) -> Move | None:
        """The move for this list (``in_use`` None: the side is not open; ``failed``: its stream died)."""
        self.names.update({d.stable_id: d.name for d in devices if d.has(self.kind)})
        try:
            default: DeviceInfo | None = default_device(self.kind, devices)
        except AudioDeviceError:
            default = None
        default_changed = default is not None and self.last_default not in (None, default.stable_id)
        self.last_default = default.stable_id if default is not None else None
        label = _label(self.kind)
        if not chosen:
            return self._follow_default(in_use, default, default_changed, failed)
        if in_use is None and not failed:
            return None  # nothing open: the next start resolves the choice (and says so if it is gone)
        present = find_device(chosen, self.kind, devices)
        if present is None:
            if self.fell_back_from == chosen or not (failed or in_use is None or in_use.stable_id == chosen):
                return None
            self.fell_back_from = chosen
            if default is None:
                return Move(None, False, f"The {label} “{self._name(chosen)}” was disconnected and no other "
                                         f"{label} is available.", "warning")
            server_moved = chosen.startswith(SERVER_PREFIX) and not failed
            return Move(None, not server_moved,
                        f"The {label} “{self._name(chosen)}” was disconnected; using “{default.name}” until it "
                        "is back.", "warning")
        if self.fell_back_from == chosen:
            self.fell_back_from = None
            return Move(chosen, failed or not present.server_name,
                        f"The {label} “{present.name}” is back; using it again.", server_name=present.server_name)
        return None

    def _follow_default(self, in_use: DeviceInfo | None, default: DeviceInfo | None, changed: bool,
                        failed: bool) -> Move | None:
        if default is None or in_use is None:
            return None
        if failed or (not changed and in_use.stable_id != default.stable_id and not in_use.follows_default):
            return Move(None, True, f"Following the system default: now “{default.name}”.")
        if changed:
            # A stream opened without a target on a sound server is moved by the server itself; a
            # PortAudio stream on the old default device is reopened on the new one.
            return Move(None, not in_use.follows_default, f"Following the system default: now “{default.name}”.")
        return None
