"""The diagnostic bundle a user copies into a bug report: versions, settings without secrets, the
error table, connection and usage figures, and the newest events — all redacted.

:func:`diagnostic_text` is one plain-text document (for "copy to clipboard"); :func:`diagnostic_zip`
puts the same parts in separate files of a zip (``report.txt``, ``events.jsonl``, ``settings.json``,
``errors.json``) for attaching. Settings are written from the schema (``window_geometry`` and other
binary values left out); API keys never live in the settings, and the whole text goes through
:func:`~desktop_app.log.redact` once more anyway.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import platform
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import desktop_app
from desktop_app.log import redact
from desktop_app.observe.errors import ErrorGroup
from desktop_app.observe.event_log import EventRecord
from desktop_app.observe.monitor import MonitorSnapshot
from desktop_app.observe.usage_meter import UsageSnapshot
from desktop_app.settings.schema import SCHEMA, Settings

_PACKAGES = ("PySide6-Essentials", "qasync", "websockets", "sounddevice", "numpy", "soxr", "keyring",
             "pywebrtc-audio")


def versions() -> dict[str, str]:
    """Parley's, Python's, the platform's and the main libraries' versions."""
    found = {"parley": desktop_app.__version__, "python": sys.version.split()[0],
             "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    try:
        from PySide6 import QtCore

        found["qt"] = QtCore.qVersion()
    except ImportError:
        pass
    return found


def settings_without_secrets(settings: Settings) -> dict[str, Any]:
    """Every setting by name, as plain JSON values; binary values left out."""
    out: dict[str, Any] = {}
    for decl in SCHEMA:
        if decl.type is bytes:
            continue
        value = getattr(settings, decl.name)
        if decl.type is tuple:
            out[decl.name] = json.loads(decl.encode(value))
        else:
            out[decl.name] = value
    return out


@dataclass(frozen=True, slots=True)
class DiagnosticParts:
    """What goes into a bundle; every part may be missing."""

    settings: Settings | None = None
    events: Sequence[EventRecord] = ()
    errors: Sequence[ErrorGroup] = ()
    monitor: MonitorSnapshot | None = None
    usage: UsageSnapshot | None = None
    notes: Sequence[str] = ()


def _stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t).isoformat(timespec="seconds")


def _monitor_dict(snap: MonitorSnapshot) -> dict[str, Any]:
    return {
        "state": snap.state, "reconnects": snap.reconnects, "connected_s": round(snap.connected_s, 1),
        "time_left_s": snap.time_left_s, "ping_last_ms": snap.ping_last_ms,
        "ping_median_ms": snap.ping_median_ms, "pings_lost": snap.pings_lost,
        "sent": dataclasses.asdict(snap.sent), "received": dataclasses.asdict(snap.received),
        "turn_stats": dataclasses.asdict(snap.turn_stats),
        "link_quality": None if snap.quality is None else dataclasses.asdict(snap.quality),
        "history": [[_stamp(c.at), c.state, c.detail] for c in snap.history[-30:]],
    }


def _usage_dict(snap: UsageSnapshot) -> dict[str, Any]:
    return {
        "model": snap.model, "transcription_model": snap.transcription_model,
        "tokens": dataclasses.asdict(snap.session), "realtime_usd": round(snap.realtime_usd, 6),
        "transcription_usd": round(snap.transcription_usd, 6), "price_known": snap.price_known,
        "rate_limits": [dataclasses.asdict(r) for r in snap.rate_limits],
    }


def _sections(parts: DiagnosticParts) -> dict[str, Any]:
    sections: dict[str, Any] = {"versions": versions()}
    if parts.settings is not None:
        sections["settings"] = settings_without_secrets(parts.settings)
    sections["errors"] = [g.as_dict() | {"first_at": _stamp(g.first_at), "last_at": _stamp(g.last_at)}
                          for g in parts.errors]
    if parts.monitor is not None:
        sections["connection"] = _monitor_dict(parts.monitor)
    if parts.usage is not None:
        sections["usage"] = _usage_dict(parts.usage)
    return sections


def diagnostic_text(parts: DiagnosticParts) -> str:
    """The bundle as one redacted text: JSON sections, then the newest events as JSONL."""
    lines = [f"Parley diagnostic report, {dt.datetime.now().isoformat(timespec='seconds')}", ""]
    lines += [f"note: {n}" for n in parts.notes]
    for name, body in _sections(parts).items():
        lines += [f"## {name}", json.dumps(body, indent=2, ensure_ascii=False, default=str), ""]
    lines.append(f"## last {len(parts.events)} events (JSONL, audio summarised)")
    lines += [record.line() for record in parts.events]
    return redact("\n".join(lines) + "\n")


def diagnostic_zip(parts: DiagnosticParts) -> bytes:
    """The bundle as a zip: ``report.txt`` (all of it) and each part as its own file."""
    buffer = io.BytesIO()
    sections = _sections(parts)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.txt", diagnostic_text(parts))
        archive.writestr("events.jsonl", redact("".join(r.line() + "\n" for r in parts.events)))
        for name in ("settings", "errors", "connection", "usage", "versions"):
            if name in sections:
                archive.writestr(f"{name}.json", redact(json.dumps(sections[name], indent=2, default=str)))
    return buffer.getvalue()
