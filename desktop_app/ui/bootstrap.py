"""Start Qt with a qasync loop, build the conversation and the window, and shut down cleanly.

Start-up in one ordered list (qutebrowser's habit): theme, settings, keys, audio engine, the
observatory and the history, session, window. Clean shutdown is one path for every way out: closing the window, Ctrl+Q, and SIGINT/SIGTERM
all set the same asyncio event, after which the window's ``shutdown()`` closes the session, stops
the streams and the local server and saves the settings before the loop stops.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import TYPE_CHECKING, Any

from desktop_app.log import get_logger

if TYPE_CHECKING:  # Qt and the audio engine load only when the window is built
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager
    from pathlib import Path

    from desktop_app.audio.engine import AudioEngine
    from desktop_app.controller.audio_port import AudioPort
    from desktop_app.settings.launch import RunOverride
    from desktop_app.settings.schema import Settings
    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore
    from desktop_app.ui.conversation_log import ConversationLog
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.demo_server import DemoServer

log = get_logger("ui")


def build_engine() -> Any | None:
    """The audio engine, or None when PortAudio is missing (the app then runs without audio)."""
    try:
        from desktop_app.audio.engine import AudioEngine

        return AudioEngine(asyncio.get_running_loop())
    except OSError as exc:  # sounddevice raises OSError when libportaudio cannot be loaded
        log.warning("! no audio engine: %s", exc)
        return None


def audio_factory(engine: AudioEngine | None) -> Callable[[Settings], AudioPort]:
    """``make_audio(settings)`` for the session: the devices the settings name, or no audio."""
    from desktop_app.ui.audio_guard import NoAudioPort

    def make_audio(settings: Settings) -> AudioPort:
        if engine is None:
            return NoAudioPort()
        from desktop_app.controller.ports import DevicePort

        return DevicePort(engine, settings.input_device or None, settings.output_device or None)

    return make_audio


def build_conversation_log(settings: Settings, history_path: Path | None = None) -> ConversationLog:
    """The observatory and the history (``history_path`` None: the data directory's), on the running
    loop: the event log spills to the data directory, spending is judged against the settings' limits
    and recorded in the history, the governor's verdicts reach the window through the loop."""
    from desktop_app.history.service import History
    from desktop_app.observe.observatory import Observatory, default_spill_dir, spend_limits_from
    from desktop_app.ui.conversation_log import ConversationLog

    history = History(history_path, audio_cap_bytes=settings.history_audio_cap_mb * 1_000_000)
    observatory = Observatory(model=settings.model, transcription_model=settings.input_transcription_model,
                              limits=spend_limits_from(settings), spill_dir=default_spill_dir(), ledger=history,
                              schedule=asyncio.get_running_loop().call_soon,
                              event_capacity=settings.event_log_capacity)
    return ConversationLog(observatory, history)


def build_window(on_quit: Callable[[], None], *, engine: AudioEngine | None = None,
                 store: SettingsStore | None = None, keys: KeyStore | None = None,
                 make_audio: Callable[[Settings], AudioPort] | None = None,
                 local_server: Callable[[], AbstractAsyncContextManager[DemoServer]] | None = None,
                 dark: bool | None = None, override: RunOverride | None = None,
                 history_path: Path | None = None) -> MainWindow:
    """Compose settings → keys → observatory and history → session → window on the running loop;
    returns the window (``history_path``: where conversations are kept, for tests)."""
    from PySide6.QtWidgets import QApplication

    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore
    from desktop_app.ui import theme as themes
    from desktop_app.ui.audio_control import AudioControl
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.session import ConversationSession

    from desktop_app.ui.qt_workarounds import guard_none_refcount

    guard_none_refcount()
    app = QApplication.instance()
    assert isinstance(app, QApplication), "build_window needs the QApplication to exist"
    # Quitting is ours to run (close the session, save settings, then stop the loop): Qt must not
    # stop the loop by itself when the window closes.
    app.setQuitOnLastWindowClosed(False)
    log.info("= initializing theme")
    theme = themes.apply(app, dark)
    log.info("= initializing settings and keys")
    store = store if store is not None else SettingsStore()
    keys = keys if keys is not None else KeyStore()
    log.info("= initializing history and the event log")
    conversations = build_conversation_log(store.settings, history_path)
    log.info("= initializing session")
    extra: dict[str, Any] = {} if local_server is None else {"local_server": local_server}
    if override is not None:
        extra["override"] = override
    session = ConversationSession(store, keys, make_audio or audio_factory(engine), conversations=conversations,
                                  **extra)
    audio = AudioControl(engine, lambda s: session.notify(s, "warning", "audio"), suspend=session.suspend)
    if engine is not None:  # a device that fails mid-stream (unplugged headset) says so in the banner
        engine.on_error = lambda error: session.notify(error.user_message, "warning", "audio")
    log.info("= initializing window")
    from desktop_app.ui.desktop import DesktopShell
    from desktop_app.ui.theme_follow import ThemeFollower

    def make_window(theme: themes.Theme) -> MainWindow:
        window = MainWindow(session, theme, audio, on_quit)
        DesktopShell(window)  # tray, mini window, hotkeys, devices that come and go (it follows engine errors too)
        return window

    window = make_window(theme)
    if dark is None:  # follow the system's light/dark switch live (session.findChild(ThemeFollower).window)
        ThemeFollower(app, make_window, window, parent=session)
    return window


def current_window(window: MainWindow) -> MainWindow:
    """The window on screen now: ``window``, or the one that replaced it in new colours."""
    from desktop_app.ui.theme_follow import ThemeFollower

    follower = window.session.findChild(ThemeFollower)
    return follower.window if follower is not None else window


def run(args: argparse.Namespace) -> int:
    """Run the GUI until the window is closed; returns the exit code."""
    import qasync
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui import icons

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([])
    app.setApplicationName("Parley")
    app.setOrganizationName("Parley")
    app.setDesktopFileName("parley")
    app.setWindowIcon(icons.app_icon())

    from desktop_app import paths
    from desktop_app.platform.single_instance import SingleInstance

    instance = SingleInstance(paths.config_dir())
    if not instance.acquire():  # a second launch: show the running one's window instead
        if instance.raise_running():
            log.info("= Parley is already running: its window was raised")
            return 0
        log.error("! Parley is already running but did not answer; end it or try again")
        return 1

    async def main() -> int:
        from desktop_app.tasks import install_loop_handler
        from desktop_app.ui.desktop import raise_window

        quitting = asyncio.Event()
        loop = asyncio.get_running_loop()
        window = build_window(quitting.set, engine=build_engine(), override=args.run_override)
        await instance.serve(lambda: raise_window(current_window(window)))
        # An exception in a loop callback reaches the log and the banner, never only stderr.
        install_loop_handler(loop, lambda sentence: window.session.notify(sentence, "warning"))
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, quitting.set)
            except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(quitting.set))
        window.show()
        log.info("= window shown")
        if isinstance(window.session.profile, _local_profile()) and not quitting.is_set():
            window.run(window.session.open_conversation())  # the demo was chosen before: hold a conversation at once
        if args.quit_after is not None:
            loop.call_later(args.quit_after, quitting.set)
        await quitting.wait()
        await current_window(window).shutdown()
        await instance.close()
        log.info("= shut down cleanly")
        return 0

    return qasync.run(main())


def _local_profile() -> type:
    from desktop_app.settings.profiles import LocalProfile

    return LocalProfile
