"""The main window: connection bar, banner, conversation, speaking indicators, talk controls and a
side panel (turn detection, session, audio).

Attributes flow down — every widget renders the session's one :class:`ViewState` — and intents
flow up as signals connected here to the :class:`~desktop_app.ui.session.ConversationSession`.
Rendering never runs inside the controller's event handling: a change of state (turn, connection,
notice …) renders on the next turn of the loop, once for a whole batch of server events, and other
changes at most every :data:`RENDER_INTERVAL_MS`; meters and plot: :class:`~.meter_clock.MeterClock`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QByteArray, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QApplication, QFrame, QHBoxLayout, QMainWindow, QStackedWidget, QTabWidget, QToolButton, QVBoxLayout,
    QWidget,
)

from desktop_app.controller.states import Conn
from desktop_app.controller.view_state import ViewState
from desktop_app.log import get_logger
from desktop_app.settings.profiles import LocalProfile
from desktop_app.ui import icons, shortcuts
from desktop_app.ui.audio_control import AudioControl
from desktop_app.ui.banner import Banner
from desktop_app.ui.dialog_actions import DialogActions
from desktop_app.ui.first_run import FirstRunPanel
from desktop_app.ui.keyboard import PushToTalkKey
from desktop_app.ui.meter_clock import MeterClock
from desktop_app.ui.notices import AUDIO, NoticeKeeper
from desktop_app.ui.observe_docks import ObserveDocks
from desktop_app.tasks import spawn
from desktop_app.ui.session import ConversationSession
from desktop_app.ui.session_tab import SessionTab
from desktop_app.ui.theme import Theme
from desktop_app.ui.tools_part import WindowTools
from desktop_app.ui.widgets.connection_bar import ConnectionBar
from desktop_app.ui.widgets.devices_panel import DevicesPanel
from desktop_app.ui.widgets.indicators import SpeakingIndicators
from desktop_app.ui.widgets.parts import text_label, tool_button
from desktop_app.ui.widgets.session_panel import SessionPanel
from desktop_app.ui.widgets.talk_controls import PUSH_TO_TALK, TalkControls
from desktop_app.ui.widgets.transcript_view import TranscriptView, empty_hint
from desktop_app.ui.widgets.vad_panel import VadPanel
from desktop_app.ui.window_layout import MIN_HEIGHT, SIDE_PANEL_WIDTH, SidePanelFit
from desktop_app.ui.window_notices import BannerActions

log = get_logger("ui")
T = TypeVar("T")

RENDER_INTERVAL_MS = 33


class MainWindow(QMainWindow):
    """Top-level window. Closing it, Ctrl+Q or the app's quit path call ``on_quit``; the caller then
    awaits :meth:`shutdown`. ``view_rendered(view)`` follows each render (tests, benchmarks).

    Its parts: ``dialogs`` (endpoint choice, dialogs), ``fit`` (the side panel in a narrow window),
    ``banner_actions`` (notices), ``notices`` (their lifetimes), ``observe`` (event log, monitor, history)."""

    view_rendered = Signal(object)
    stopping = Signal()  # shutdown() began: composed parts (ui/desktop.py) stop their watchers

    def __init__(self, session: ConversationSession, theme: Theme, audio: AudioControl,
                 on_quit: Callable[[], None]) -> None:
        super().__init__()
        self.session = session
        self.theme = theme
        self.audio = audio
        self._on_quit = on_quit
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rendered: ViewState | None = None
        self._pending: ViewState | None = None
        self.setWindowTitle("Parley")
        self.setWindowIcon(icons.app_icon())
        self.dialogs = DialogActions(self)
        self.banner_actions = BannerActions(self)
        self._build()
        self.observe = ObserveDocks(self, session.conversations) if session.conversations is not None else None
        self.tools = WindowTools(self)  # the Tools tab, the permission prompt, what runs now
        self._left.insertWidget(self._left.indexOf(self.talk), self.tools.strip)
        self.tabs.addTab(self.tools.tab, "Tools")
        self.fit = SidePanelFit(self, self.bar, self.side, self.tabs, self._body, self._left)
        self._wire()
        self.meters = MeterClock(self)  # levels and the plot, only while the window is on screen
        self.meters.window_back.connect(self._render_pending)  # shown or restored: what changed meanwhile
        self.setMinimumSize(self.fit.widths()[0], MIN_HEIGHT)
        settings = session.store.settings
        if not settings.window_geometry or not self.restoreGeometry(QByteArray(settings.window_geometry)):
            self.resize(1240, 820)
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_INTERVAL_MS)
        self._render_timer.timeout.connect(self._render_pending)
        self._soon_timer = QTimer(self)
        self._soon_timer.setSingleShot(True)
        self._soon_timer.setInterval(0)
        self._soon_timer.timeout.connect(self._render_pending)
        self.show_settings()
        self.show_first_run(session.needs_key() and not isinstance(session.profile, LocalProfile))
        self.notices.observe(session.view)  # a notice from start-up (a settings problem) gets its lifetime too
        self.render_view(session.view)

    # --- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        t = self.theme
        root = QWidget(self)
        outer = QVBoxLayout(root)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.bar = ConnectionBar(t, root)
        outer.addWidget(self.bar)
        body = QHBoxLayout()
        body.setContentsMargins(16, 14, 16, 16)
        body.setSpacing(14)
        outer.addLayout(body, 1)
        self._body = body

        left = QVBoxLayout()
        left.setSpacing(12)
        self._left = left
        self.banner = Banner(t, root)
        left.addWidget(self.banner)
        self.stack = QStackedWidget(root)
        self.first_run = FirstRunPanel(t, self.stack)
        conversation = QFrame(self.stack)
        conversation.setProperty("role", "card")
        column = QVBoxLayout(conversation)
        column.setContentsMargins(0, 8, 0, 0)
        column.setSpacing(0)
        header = QHBoxLayout()
        header.setContentsMargins(18, 2, 10, 6)
        header.addWidget(text_label("CONVERSATION", conversation, "section"))
        header.addStretch(1)
        self.copy_button = self._flat_button("copy", "Copy the conversation (Ctrl+Shift+C)", conversation)
        self.clear_button = self._flat_button("trash", "New conversation (this one stays in the history)",
                                              conversation)
        header.addWidget(self.copy_button)
        header.addWidget(self.clear_button)
        column.addLayout(header)
        self.transcript = TranscriptView(t, conversation)
        column.addWidget(self.transcript, 1)
        line = QFrame(conversation)
        line.setFixedHeight(1)
        line.setStyleSheet(f"background: {t.border};")
        column.addWidget(line)
        self.indicators = SpeakingIndicators(t, conversation)
        self.indicators.setContentsMargins(14, 10, 14, 12)
        column.addWidget(self.indicators)
        self.stack.addWidget(conversation)
        self.stack.addWidget(self.first_run)
        self.conversation = conversation
        left.addWidget(self.stack, 1)
        self.talk = TalkControls(t, root)
        left.addWidget(self.talk)
        body.addLayout(left, 1)

        self.side = QFrame(root)
        self.side.setProperty("role", "card")
        self.side.setFixedWidth(SIDE_PANEL_WIDTH)
        side_column = QVBoxLayout(self.side)
        side_column.setContentsMargins(4, 4, 4, 4)
        self.tabs = QTabWidget(self.side)
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)
        self.vad_panel = VadPanel(t, self.tabs)
        self.session_panel = SessionPanel(t, self.tabs)
        self.devices_panel = DevicesPanel(t, self.tabs)
        self.tabs.addTab(self.vad_panel, "Turn detection")
        self.tabs.addTab(self.session_panel, "Session")
        self.tabs.addTab(self.devices_panel, "Audio")
        side_column.addWidget(self.tabs)
        body.addWidget(self.side)
        self.setCentralWidget(root)

    def _flat_button(self, glyph: str, tip: str, parent: QWidget) -> QToolButton:
        return tool_button(parent, glyph, self.theme.muted, tip, flat=True)

    def _wire(self) -> None:
        s = self.session
        s.view_changed.connect(self._on_view)
        self.bar.connect_requested.connect(lambda: self.run(s.open_conversation()))
        self.bar.disconnect_requested.connect(lambda: self.run(s.close_conversation()))
        self.bar.profile_chosen.connect(self.dialogs.choose_profile)
        self.bar.key_requested.connect(self.dialogs.open_key_dialog)
        self.bar.endpoints_requested.connect(self.dialogs.open_endpoint_dialog)
        self.bar.panel_toggled.connect(self.fit.show_side_panel)
        self.bar.help_requested.connect(self.dialogs.open_shortcuts)
        self.banner.dismissed.connect(s.dismiss_notice)
        self.notices = NoticeKeeper(self.banner_actions.dismiss, self)
        self.banner.reading.connect(self.notices.pause)
        self.banner.action_requested.connect(self.banner_actions.act)
        self.first_run.key_requested.connect(self.dialogs.open_key_dialog)
        self.first_run.demo_requested.connect(self.start_demo)
        self.copy_button.clicked.connect(self.copy_conversation)
        self.clear_button.clicked.connect(self.dialogs.ask_new_conversation)
        self.talk.mode_changed.connect(s.set_mode)
        self.talk.talk_pressed.connect(s.press_talk)
        self.talk.talk_released.connect(s.release_talk)
        self.talk.mute_toggled.connect(s.set_muted)
        self.talk.interrupt_requested.connect(s.interrupt)
        self.talk.text_submitted.connect(s.send_text)
        self.vad_panel.vad_changed.connect(lambda changes: s.update_vad(**changes))
        self.vad_panel.reset_requested.connect(s.reset_vad)
        sp = self.session_panel
        self.session_tab = SessionTab(self)
        sp.ptt_key_chosen.connect(self._set_ptt_key)
        sp.preview_requested.connect(lambda voice: self.run(self.preview_voice(voice)))
        dp = self.devices_panel
        dp.refresh_requested.connect(lambda: self.audio.refresh(rescan=True))
        dp.input_chosen.connect(self._choose_input)
        dp.output_chosen.connect(self._choose_output)
        dp.mic_test_toggled.connect(lambda on: self.audio.set_probe(on, s.settings.input_device))
        dp.tone_requested.connect(lambda: self.audio.play_tone(s.settings.output_device))
        dp.mode_chosen.connect(self.dialogs.choose_audio_mode)
        dp.tune_requested.connect(self.dialogs.open_calibration)
        self.audio.devices_changed.connect(self._show_devices)
        self.audio.probe_level.connect(dp.set_probe_level)
        self.audio.refresh(rescan=False)
        self.ptt_key = PushToTalkKey(self, s.press_talk, s.release_talk, self._ptt_usable,
                                     s.settings.ptt_key)
        self.ptt_key.focus_lost.connect(self.talk.cancel_press)
        self.ptt_key.tapped.connect(self.talk.show_tap_hint)
        QApplication.instance().installEventFilter(self.ptt_key)  # type: ignore[union-attr]  # the app exists
        shortcuts.install(self, {
            "interrupt": s.interrupt, "mute": self.talk.mute.toggle, "type": self.talk.text.setFocus,
            "copy": self.copy_conversation, "panel": self.fit.toggle,
            "help": self.dialogs.open_shortcuts, "quit": self.close,
            **(self.observe.shortcut_actions() if self.observe is not None else {}),
        })

    def show_settings(self) -> None:
        settings = self.session.settings
        self.bar.set_profiles([p.name for p in settings.profiles], settings.active_profile)
        engine = self.audio.engine
        if engine is not None and engine.audio_mode != settings.audio_mode:
            try:
                engine.set_audio_mode(settings.audio_mode)
            except Exception as exc:  # echo handling must never keep the window from opening
                log.exception("! audio mode %s failed", settings.audio_mode)
                self.session.notify(f"Echo cancellation could not start ({exc.__class__.__name__}); "
                                    "use a headset or the ducking mode.", "warning", "audio")
        self.devices_panel.set_audio_mode(engine.audio_mode if engine is not None else settings.audio_mode,
                                          engine.aec_available if engine is not None else True)
        profile = settings.profile()
        self.bar.set_key_enabled(not isinstance(profile, LocalProfile))
        self.bar.set_free(isinstance(profile, LocalProfile))
        self.session_panel.set_demo(isinstance(profile, LocalProfile))
        self.session_panel.set_settings(settings)
        self.session_tab.show_profile()
        self.talk.set_mode(settings.turn_mode)
        self.talk.set_key_name(settings.ptt_key)

    # --- rendering ----------------------------------------------------------------------------

    def _on_view(self, view: ViewState) -> None:
        self.notices.observe(view)  # every view, not only rendered ones: a turn can pass between renders
        self._pending = view
        if not self.isVisible() or self.isMinimized():
            return  # nobody sees it: the newest view renders when the window is back (meters.window_back)
        last = self._rendered
        if last is None or (view.connection, view.turn, view.mic, view.notice, view.user_speaking,
                            view.assistant_speaking, view.vad, view.voice_locked, view.transcript) != (
                last.connection, last.turn, last.mic, last.notice, last.user_speaking,
                last.assistant_speaking, last.vad, last.voice_locked, last.transcript):
            if not self._soon_timer.isActive():
                self._soon_timer.start()
        elif not self._render_timer.isActive():
            self._render_timer.start()

    def _render_pending(self) -> None:
        if self._pending is not None:
            self.render_view(self._pending)

    @property
    def rendered(self) -> ViewState | None:
        """The view the widgets show now (the session's may be one loop turn ahead)."""
        return self._rendered

    def render_view(self, view: ViewState) -> None:
        """Show ``view`` in every widget."""
        self._pending = None
        self._render_timer.stop()
        self._soon_timer.stop()
        self._rendered = view
        self.bar.show_view(view)
        self.banner_actions.show(view.notice)
        self.transcript.set_entries(view.transcript)
        port = self.session.port
        audio_ok = view.connection is not Conn.CONNECTED or port is None or port.working
        self.indicators.show_view(view, audio_ok)
        self.transcript.set_empty_hint(empty_hint(view, audio_ok, self.talk.key_name))
        self.talk.set_audio_ok(audio_ok)
        self.talk.show_view(view)
        self.talk.set_hands_free_allowed(view.vad.type != "off", "Turn detection is off: choose Server VAD or "
                                         "Semantic under Turn detection to talk hands-free" if view.vad.type == "off"
                                         else "")
        self.vad_panel.show_view(view)
        self.session_panel.show_view(view)
        self.session_panel.set_preview_available(self.session.can_preview_voices and self.audio.engine is not None)
        if view.connection is Conn.CONNECTED and self.stack.currentWidget() is self.first_run:
            self.show_first_run(False)
        if view.connection is not Conn.CONNECTED and self.ptt_key.held:
            self.ptt_key.release()
        self.view_rendered.emit(view)

    def show_first_run(self, first_run: bool) -> None:
        self.stack.setCurrentWidget(self.first_run if first_run else self.conversation)
        self.indicators.setVisible(not first_run)

    # --- actions ------------------------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run ``coro`` on the loop; a failure is logged and told in the banner, never lost."""
        task = spawn(coro, name="window action", on_crash=self._action_failed)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _action_failed(self, exc: BaseException) -> None:
        self.session.notify("Something went wrong; the details are in the log file.", "error", "retry")

    def start_demo(self) -> asyncio.Task[None]:
        self.show_first_run(False)
        task = self.run(self.session.start_demo())
        task.add_done_callback(lambda _t: self.show_settings())
        return task

    def _ptt_usable(self) -> bool:
        view = self._rendered
        return self.talk.mode == PUSH_TO_TALK and view is not None and view.connection is Conn.CONNECTED

    def _set_ptt_key(self, name: str) -> None:
        self.session.save_settings(ptt_key=name)
        self.ptt_key.set_key(self.session.settings.ptt_key)
        self.talk.set_key_name(self.session.settings.ptt_key)

    def _choose_input(self, device_id: str) -> None:
        if self.audio.switch(input_name=device_id):
            self.session.save_settings(input_device=device_id)
            self.notices.resolve(AUDIO)

    def _choose_output(self, device_id: str) -> None:
        if self.audio.switch(output_name=device_id):
            self.session.save_settings(output_device=device_id)
            self.notices.resolve(AUDIO)

    def _show_devices(self, inputs: list, outputs: list) -> None:
        settings = self.session.settings
        self.devices_panel.set_devices(inputs, outputs, settings.input_device, settings.output_device)

    async def preview_voice(self, voice: str) -> None:
        """Speak a sample sentence in ``voice`` with the demo's synthesizer on the chosen speaker."""
        pcm = await self.session.voice_sample(voice)
        if pcm is not None:
            await self.audio.play_clip(pcm, self.session.settings.output_device)

    def copy_conversation(self) -> None:
        QGuiApplication.clipboard().setText(self.transcript.copy_text())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self.fit.resized(event.size().width())

    # --- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self._save_geometry()
        event.accept()
        self._on_quit()

    def _save_geometry(self) -> None:
        if self.isVisible():
            self.session.save_settings(window_geometry=bytes(self.saveGeometry().data()))

    def retire(self) -> None:
        """Let go of the app-wide hooks, save the geometry and hide (shutdown, or a rebuild in new colours)."""
        self._save_geometry()  # SIGINT and Ctrl+Q arrive here without a close event
        self.stopping.emit()
        QApplication.instance().removeEventFilter(self.ptt_key)  # type: ignore[union-attr]  # the app exists
        self.ptt_key.release()
        self.hide()

    async def shutdown(self) -> None:
        """Release everything the window holds (session, streams, settings) before the loop stops."""
        self.retire()
        self.audio.stop()
        for task in list(self._tasks):
            task.cancel()
        await self.session.shutdown()
