"""``parley --self-check``: prove that an installation (source or bundle) has everything it needs.

Prints one section per concern — versions, the Qt platform, audio devices, the keyring backend,
the directories Parley uses, and a text round-trip through the embedded local server — then exits
0. When something Parley cannot work without is broken, it still prints every section, then exits
1 with one line on stderr naming the first failure and what to do about it.

Things that are *reported but not failures*: no audio devices (a headless CI runner has none), an
insecure or absent keyring (the key can come from ``OPENAI_API_KEY``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop_app import __version__, paths
from desktop_app.log import get_logger

log = get_logger("app")

EXIT_OK = 0
EXIT_FAILED = 1
ROUND_TRIP_TIMEOUT = 15.0
PROMPT = "Say hello in five words or fewer."


@dataclass
class Section:
    """One titled block of the report; ``failure`` is a one-line reason when the block failed."""

    title: str
    summary: str = ""
    lines: list[str] = field(default_factory=list)
    failure: str | None = None

    def render(self) -> str:
        head = f"{self.title}: {self.summary}" if self.summary else f"{self.title}:"
        if self.failure:
            head += f"  [FAILED: {self.failure}]"
        return "\n".join([head, *(f"  {line}" for line in self.lines)])


def _module_version(name: str) -> str:
    """The module's ``__version__``, else its distribution's; ``missing (…)`` when it cannot import."""
    try:
        module = __import__(name)
    except Exception as exc:  # noqa: BLE001 - a broken import is what we are here to report
        return f"missing ({type(exc).__name__}: {exc})"
    version = getattr(module, "__version__", None)
    if version is None:
        from importlib import metadata

        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "(version unknown)"
    return str(version)


def check_versions() -> Section:
    """Parley, Python, Qt/PySide6 and the libraries Parley cannot run without."""
    section = Section("versions")
    section.lines.append(f"Parley {__version__} ({'bundle' if getattr(sys, 'frozen', False) else 'source'})")
    section.lines.append(f"Python {platform.python_version()} on {platform.platform()}")
    try:
        import PySide6
        from PySide6 import QtCore

        section.lines.append(f"Qt {QtCore.qVersion()}, PySide6 {PySide6.__version__}")
    except ImportError as exc:
        section.failure = f"Qt cannot be loaded ({exc})"
    versions = {name: _module_version(name) for name in ("websockets", "numpy", "soxr", "keyring", "qasync")}
    section.lines.append(", ".join(f"{name} {version}" for name, version in versions.items()))
    broken = [name for name, version in versions.items() if version.startswith("missing")]
    if broken and section.failure is None:
        section.failure = f"{', '.join(broken)} cannot be imported: the installation is incomplete"
    try:
        import sounddevice

        section.lines.append(f"sounddevice {sounddevice.__version__}")
        section.lines.append(f"{sounddevice.get_portaudio_version()[1]} ({sounddevice._libname})")
    except (ImportError, OSError) as exc:
        section.lines.append(f"sounddevice/PortAudio: {exc}")
        if section.failure is None:
            section.failure = f"PortAudio cannot be loaded ({exc}); install libportaudio2"
    return section


def _ensure_qt_platform() -> None:
    """Without a display, run Qt offscreen rather than abort: the check is about the installation."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def check_qt() -> Section:
    """Start (or reuse) a QApplication and report the platform plugin, the screen and the app icon."""
    section = Section("qt platform")
    _ensure_qt_platform()
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    section.summary = QGuiApplication.platformName()
    screen = QGuiApplication.primaryScreen()
    if screen is not None:
        size = screen.size()
        section.lines.append(f"screen {size.width()}x{size.height()} @ {screen.devicePixelRatio():g}x")
    section.lines.append(f"style {app.style().name()}")
    icon_path = paths.resources_dir() / "icons" / "parley.svg"
    pixmap = QIcon(str(icon_path)).pixmap(64, 64) if icon_path.is_file() else None
    if pixmap is not None and not pixmap.isNull():
        section.lines.append(f"app icon renders (svg, {pixmap.width()}x{pixmap.height()})")
    else:
        section.failure = f"the app icon {icon_path} is missing or the SVG plugin is not bundled"
    return section


def check_audio() -> Section:
    """List the audio devices PortAudio sees. None at all is reported, not a failure."""
    section = Section("audio devices")
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        section.failure = f"PortAudio cannot be loaded ({exc})"
        return section
    try:
        devices = list(sounddevice.query_devices())
        host_apis = [api["name"] for api in sounddevice.query_hostapis()]
    except sounddevice.PortAudioError as exc:
        section.summary = f"no audio devices (PortAudio: {exc})"
        return section
    if not devices:
        section.summary = "no audio devices (that is fine for this check; Parley needs one to talk)"
        return section
    section.summary = f"{len(devices)} found"
    for index, device in enumerate(devices):
        api = host_apis[device["hostapi"]] if device["hostapi"] < len(host_apis) else "?"
        section.lines.append(
            f"[{index}] {device['name']} (in {device['max_input_channels']}, "
            f"out {device['max_output_channels']}, {api})"
        )
    return section


def check_keyring() -> Section:
    """Name the keyring backend and say whether Parley can keep the API key in it.

    The verdict is the key store's own (:func:`desktop_app.settings.secrets.keyring_status`), so the
    self-check says "secure" exactly where the app would save a key.
    """
    section = Section("keyring")
    try:
        import keyring
        from keyring.backends.chainer import ChainerBackend

        from desktop_app.settings.secrets import backend_name, keyring_status
    except ImportError as exc:
        section.failure = f"keyring cannot be imported ({exc})"
        return section
    backend = keyring.get_keyring()
    kind = backend_name(backend)
    status = keyring_status(backend)
    section.summary = f"{kind} ({'secure' if status.usable else 'NOT secure'})"
    if isinstance(backend, ChainerBackend):
        members = backend.backends  # keyring's chainer: its members, highest priority first
        section.lines.extend(f"via {backend_name(child)}" for child in members)
    if status.usable and status.name != kind:
        section.lines.append(f"API keys go to {status.name}")
    if not status.usable:
        section.lines.append("API keys cannot be stored safely here; set OPENAI_API_KEY instead")
    return section


def check_paths() -> Section:
    """Where settings, logs and user tools go."""
    section = Section("directories")
    try:
        section.lines.extend(f"{name:9} {place}" for name, place in paths.describe().items())
    except OSError as exc:
        section.failure = str(exc)
        return section
    from desktop_app.voicepack.store import activate, found_engines

    pack = activate()
    section.lines.append(f"voicepack {'not installed' if pack is None else pack.describe()}"
                         + ("" if pack is None else f" engines: {found_engines(pack)}"))
    return section


async def text_round_trip(url: str, headers: dict[str, str] | None = None) -> tuple[str, float]:
    """One text-only turn on an open Realtime endpoint: returns the reply and the seconds it took.

    Raises :class:`RuntimeError` with a readable reason when the turn does not complete.
    """
    from desktop_app.transport.socket import RealtimeSocket

    sock = await RealtimeSocket.open(url, headers or {}, open_timeout=ROUND_TRIP_TIMEOUT)
    try:
        started = time.perf_counter()
        item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": PROMPT}]}
        await sock.send(json.dumps({"type": "conversation.item.create", "item": item}))
        await sock.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}}))
        reply: list[str] = []
        while True:
            frame = await sock.recv()
            if frame is None:
                raise RuntimeError(f"the server closed the connection ({sock.close_code} {sock.close_reason})")
            event = json.loads(frame)
            kind = event.get("type")
            if kind == "error":
                raise RuntimeError(f"the server sent an error: {event.get('error', {}).get('message', event)}")
            if kind == "response.output_text.delta":
                reply.append(event.get("delta", ""))
            elif kind == "response.done":
                response = event.get("response", {})
                if response.get("status") != "completed":
                    raise RuntimeError(f"the response ended {response.get('status')}: {response.get('status_details')}")
                if not reply:  # no deltas seen: take the text from the final item
                    for out in response.get("output", []):
                        for part in out.get("content", []):
                            reply.append(part.get("text") or part.get("transcript") or "")
                return "".join(reply).strip(), time.perf_counter() - started
    finally:
        await sock.close()


async def _local_server_round_trip() -> tuple[str, str, float, float]:
    from desktop_app.local_server import LocalServer

    started = time.perf_counter()
    async with LocalServer(port=0) as server:
        ready = time.perf_counter() - started
        reply, turn = await asyncio.wait_for(text_round_trip(server.url), ROUND_TRIP_TIMEOUT)
        return server.url, reply, ready, turn


def check_local_server() -> Section:
    """Start the embedded server in-process on 127.0.0.1, connect, and do one text turn."""
    section = Section("local server")
    try:
        url, reply, ready, turn = asyncio.run(_local_server_round_trip())
    except ImportError as exc:
        missing_module = isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("desktop_app.local_server")
        if not (missing_module or exc.name == "desktop_app.local_server"):
            raise  # something the server imports is missing: a real, reported failure
        section.summary = "not available (module missing)"
        section.failure = f"the embedded local server is not installed ({exc})"
        return section
    except (RuntimeError, OSError, asyncio.TimeoutError) as exc:
        section.failure = f"round-trip failed: {exc or type(exc).__name__}"
        return section
    section.summary = f"round-trip ok in {turn * 1000:.0f} ms (server up in {ready * 1000:.0f} ms)"
    section.lines.append(f"url {url}")
    section.lines.append(f"reply {reply!r}")
    if not reply:
        section.failure = "the local server answered with an empty reply"
    return section


CHECKS: tuple[Callable[[], Section], ...] = (
    check_versions, check_qt, check_audio, check_keyring, check_paths, check_local_server,
)


def _quiet_console() -> None:
    """Keep stderr for warnings and the verdict: the INFO chatter (server start, connects) goes to the log file."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_parley", False) and not isinstance(handler, logging.FileHandler):
            handler.setLevel(max(handler.level, logging.WARNING))


def run(args: argparse.Namespace | None = None) -> int:
    """Run every check, print the report on stdout; the first failure's reason goes to stderr."""
    if args is None or args.log_level != "DEBUG":
        _quiet_console()
    started = time.perf_counter()
    print(f"Parley {__version__} self-check", flush=True)
    failures: list[str] = []
    for check in CHECKS:
        try:
            section = check()
        except Exception as exc:
            log.exception("! self-check %s crashed", check.__name__)
            section = Section(check.__name__.removeprefix("check_"), failure=f"{type(exc).__name__}: {exc}")
        print(section.render(), flush=True)
        log.debug("self-check %s", section.render())  # the log file keeps it even when stdout goes nowhere
        if section.failure:
            failures.append(f"{section.title}: {section.failure}")
    elapsed = time.perf_counter() - started
    if failures:
        print(f"self-check: FAILED ({len(failures)} of {len(CHECKS)}) in {elapsed:.1f} s", flush=True)
        print(f"parley self-check failed: {failures[0]}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    print(f"self-check: ok in {elapsed:.1f} s", flush=True)
    return EXIT_OK
