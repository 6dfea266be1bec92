"""The window's life on the desktop, composed beside it (never mixed into it): the tray icon and its
menu, close-to-tray, the mini window, global hotkeys, devices that come and go, screen-reader
announcements, and raising the window for a second launch.

``DesktopShell(window)`` is built by ``ui/bootstrap.build_window`` right after the window, as a
child of it (``window.findChild(DesktopShell)``); it stops its watchers when the window shuts down.
It talks to the window only through the window's own widgets' signals and the session's intents.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from desktop_app.controller.states import Conn
from desktop_app.controller.view_state import ViewState
from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger
from desktop_app.platform.hotkey_backends import make_hotkeys
from desktop_app.platform.hotkeys import MUTE, TALK, GlobalHotkeys, HotkeyRouter
from desktop_app.ui.announcer import Announcer
from desktop_app.ui.device_sync import DeviceSync
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.mini_window import MiniWindow
from desktop_app.ui.tray import Tray
from desktop_app.ui.voice_pack import VoicePackControl
from desktop_app.ui.widgets.desktop_panel import DesktopPanel
from desktop_app.ui.widgets.talk_controls import PUSH_TO_TALK

log = get_logger("ui")

TRAY_NOTICE = ("Parley is still running in the tray, so your hotkeys keep working. Choose Quit in the tray menu "
               "(or press Ctrl+Q) to end it.")


class DesktopShell(QObject):
    """See the module docstring. Parts: ``tray``, ``mini``, ``panel`` (the Desktop tab),
    ``hotkeys``, ``devices``, ``announcer``, ``pack``."""

    def __init__(self, window: MainWindow, tray: Tray | None = None, hotkeys: GlobalHotkeys | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        theme = window.theme
        self.tray = tray if tray is not None else Tray(theme, window)
        self.mini = MiniWindow(theme)
        window.meters.add_meters(self.mini, self.mini.show_levels)  # its meters read while it is on screen
        self.panel = DesktopPanel(theme, window.tabs)
        window.tabs.addTab(self.panel, "Desktop")
        # Five tabs in the 360 px side panel: tighter sides keep every label whole (no scroll arrows).
        window.tabs.tabBar().setStyleSheet("QTabBar::tab { padding-left: 6px; padding-right: 6px; }")
        self.router = HotkeyRouter(self._hotkey_down, self._hotkey_up)
        self.hotkeys = hotkeys if hotkeys is not None else make_hotkeys(
            QGuiApplication.platformName(), self.router, self._show_hotkeys)
        self._talk_held = False
        self._stopped = False
        self.hotkey_problems: dict[str, str] = {}
        self.devices = DeviceSync(window.audio, window.devices_panel, lambda: self.session.store.settings,
                                  lambda sentence, level: self.session.notify(sentence, level, "audio"), self)
        self.announcer = Announcer(window.indicators.turn)
        self.pack = VoicePackControl(self.panel, lambda: self.session.store.settings, self)
        self._wire()
        window.installEventFilter(self)
        self.bind_hotkeys()
        self.panel.set_close_to_tray(self.session.store.settings.close_to_tray, self.tray.available())
        self.mini.restore(self.session.store.settings.mini_geometry)
        self.tray.show()
        self.devices.start()
        self._on_view(self.session.view)

    def _wire(self) -> None:
        w, s, t = self.window, self.session, self.tray
        s.view_changed.connect(self._on_view)
        w.stopping.connect(self.stop)
        t.show_requested.connect(self.bring_to_front)
        t.mini_requested.connect(self.show_mini)
        t.quit_requested.connect(w.close)  # not spontaneous: the window's own quit path
        t.connect_requested.connect(lambda: w.run(s.open_conversation()))
        t.disconnect_requested.connect(lambda: w.run(s.close_conversation()))
        t.mode_chosen.connect(self._choose_mode)
        t.mute_toggled.connect(w.talk.mute.setChecked)
        m = self.mini
        m.talk_pressed.connect(s.press_talk)
        m.talk_released.connect(s.release_talk)
        m.mute_toggled.connect(w.talk.mute.setChecked)
        m.expand_requested.connect(self.bring_to_front)
        m.closed.connect(self._mini_closed)
        p = self.panel
        p.talk_key_chosen.connect(lambda name: self._set_hotkey(hotkey_talk=name))
        p.mute_key_chosen.connect(lambda name: self._set_hotkey(hotkey_mute=name))
        p.close_to_tray_toggled.connect(lambda on: s.save_settings(close_to_tray=on))
        p.mini_requested.connect(self.show_mini)
        w.devices_panel.alternative_chosen.connect(w.devices_panel.input_chosen)  # the window's own choose path
        w.devices_panel.input_chosen.connect(lambda _id: self.devices.check_bluetooth())  # after the window saved it
        if w.audio.engine is not None:  # an unplugged device: follow the choice, or say the engine's sentence
            w.audio.engine.on_error = self.device_failed

    def device_failed(self, error: AudioDeviceError) -> None:
        self.devices.device_failed(error)

    # --- the view -------------------------------------------------------------------------------

    def _on_view(self, view: ViewState | None) -> None:
        if view is None:
            return
        mode = self.window.talk.mode
        self.tray.show_view(view, mode)
        if self.mini.isVisible():
            self.mini.show_view(view, mode == PUSH_TO_TALK)
        self.announcer.show_view(view)
        if view.connection is not Conn.CONNECTED and self._talk_held:
            self._hotkey_up(TALK)

    def _choose_mode(self, mode: str) -> None:
        self.window.talk.set_mode(mode)
        self.session.set_mode(mode)

    # --- hotkeys ----------------------------------------------------------------------------------

    def bind_hotkeys(self) -> None:
        settings = self.session.store.settings
        self.hotkey_problems = self.hotkeys.bind({TALK: settings.hotkey_talk, MUTE: settings.hotkey_mute})
        self._show_hotkeys()

    def _show_hotkeys(self) -> None:
        settings = self.session.store.settings
        status = " ".join(dict.fromkeys([*self.hotkey_problems.values(), self.hotkeys.status()])).strip()
        if not status and (settings.hotkey_talk or settings.hotkey_mute):
            status = "They work whichever window has the focus."
        self.panel.set_hotkeys(settings.hotkey_talk, settings.hotkey_mute, status)

    def _set_hotkey(self, **change: str) -> None:
        self.session.save_settings(**change)
        self.bind_hotkeys()

    def _hotkey_down(self, action: str) -> None:
        if action == MUTE:
            self.window.talk.mute.toggle()
            muted = self.window.talk.mute.isChecked()
            log.info("= microphone %s by the global hotkey", "muted" if muted else "unmuted")
            return
        view = self.session.view
        if self.window.talk.mode != PUSH_TO_TALK or view is None or view.connection is not Conn.CONNECTED:
            log.info("= global talk key: not in push-to-talk with a connection, ignored")
            return
        log.info("= push-to-talk pressed by the global hotkey")
        self._talk_held = True
        self.session.press_talk()

    def _hotkey_up(self, action: str) -> None:
        if action == TALK and self._talk_held:
            self._talk_held = False
            log.info("= push-to-talk released by the global hotkey")
            self.session.release_talk()

    # --- windows ----------------------------------------------------------------------------------

    def bring_to_front(self) -> None:
        """Show the main window on top (tray, mini window, a second launch)."""
        self.mini.hide()
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def show_mini(self) -> None:
        """The mini window stands in for the main one."""
        self._save_main_geometry()
        if self.session.view is not None:
            self.mini.show_view(self.session.view, self.window.talk.mode == PUSH_TO_TALK)
        self.mini.show()
        self.mini.raise_()
        self.window.hide()

    def _mini_closed(self) -> None:
        self.session.save_settings(mini_geometry=bytes(self.mini.saveGeometry().data()))
        if not self.window.isVisible() and not self.tray.available():
            self.bring_to_front()  # never leave the person without a window and without a tray

    def _save_main_geometry(self) -> None:
        if self.window.isVisible():
            self.session.save_settings(window_geometry=bytes(self.window.saveGeometry().data()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        """A close from the window manager (spontaneous) hides to the tray when that is chosen and
        possible; a close asked by the app itself (Ctrl+Q, the tray's Quit) quits. Each show puts the
        Tab order in reading order."""
        if watched is self.window and event.type() == QEvent.Type.Show:
            reading_order(self.window)
        if watched is self.window and event.type() == QEvent.Type.Close and event.spontaneous():
            if self.hide_to_tray():
                event.ignore()
                return True
        return False

    def hide_to_tray(self) -> bool:
        """Hide the window into the tray if the settings and the desktop allow it (True), telling
        the person the first time; False: the close goes on and Parley quits."""
        settings = self.session.store.settings
        if not (settings.close_to_tray and self.tray.available()):
            return False
        self._save_main_geometry()
        self.window.hide()
        if not settings.close_to_tray_told:
            self.tray.tell("Parley is still running", TRAY_NOTICE)
            self.session.save_settings(close_to_tray_told=True)
        log.info("= window closed to the tray")
        return True

    def stop(self) -> None:
        """The window shuts down: release the keys, stop watching devices, hide the icon."""
        if self._stopped:
            return
        self._stopped = True
        self.session.view_changed.disconnect(self._on_view)
        self.window.removeEventFilter(self)
        self.hotkeys.close()
        self.devices.stop()
        self.pack.cancel()
        if self.mini.isVisible():
            self.session.save_settings(mini_geometry=bytes(self.mini.saveGeometry().data()))
        self.mini.hide()
        self.mini.deleteLater()
        self.tray.hide()


def reading_order(window: MainWindow) -> None:
    """Tab walks the window as it is read: the header left to right, the conversation, the talking
    row, then the side panel (each part keeps its own order; the header's is by position)."""
    areas = (window.bar, window.stack, window.talk, window.side)
    # The widget tree in order, never ``nextInFocusChain()``: PySide6 (6.11) records the widget it
    # returns as a Python child of the one asked, and deleting any widget of that chain later (a Tools
    # tab relayout) invalidated unrelated wrappers such as the tray menu's actions.
    # Only widgets of this window: the tree also holds other top-level windows (the mini window, the
    # event log when floating, dialogs), whose tab order is their own (Qt warns at each such pair).
    chain = [w for w in window.findChildren(QWidget)
             if w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.window() is window]

    def place(item: tuple[int, QWidget]) -> tuple[int, int, int]:
        index, w = item
        area = next((i for i, part in enumerate(areas) if part is w or part.isAncestorOf(w)), len(areas))
        return area, w.mapTo(window, QPoint(0, 0)).x() if area == 0 else 0, index

    ordered = [w for _i, w in sorted(enumerate(chain), key=place)]
    for first, second in zip(ordered, ordered[1:], strict=False):
        QWidget.setTabOrder(first, second)


def raise_window(window: MainWindow) -> None:
    """For the single-instance door: show ``window`` (and its shell's choice of how)."""
    shell = window.findChild(DesktopShell)
    if shell is not None:
        shell.bring_to_front()
    else:
        window.showNormal()
        window.raise_()
        window.activateWindow()
