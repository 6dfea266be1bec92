"""The meters' clock: the microphone and assistant levels and the turn-detection plot, 20 times a
second while the window is on screen and a conversation captures — and nothing at all otherwise.

The levels are not part of the controller's view: its tick sleeps once a conversation has settled
(issue #23, "idle means idle"), and the meters are only worth reading while someone can see them.
So the window reads them from the session's audio port itself:

* the clock runs while the window is shown and not minimised, connected, with working audio; hidden
  to the tray or minimised, nothing is read, pushed or painted — unless another window that shows
  the levels (the mini window, :meth:`MeterClock.add_meters`) is on screen: then only it is fed;
* the speech-probability meter behind the plot (Silero VAD, 15 % of the loop's time in a silent
  minute) runs only while the plot is on screen — its tab shown, the side panel not folded away;
* a stopping clock drops the meters to silence, so a window that comes back shows no stale level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop_app.controller.states import Conn
from desktop_app.controller.view_state import ViewState
from desktop_app.ui.widgets.indicators import SILENT_DBFS

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

#: The meters and the plot advance this often (the plot's 150 points are then 7.5 s).
METER_INTERVAL_MS = 50
#: The window events after which the clock decides again whether it should run.
_WINDOW_EVENTS = (QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.WindowStateChange)


class MeterClock(QObject):
    """Reads the port's levels for ``window``'s meters and plot while they can be seen.
    ``levels_shown(mic_dbfs, out_dbfs)`` follows each reading (tests, benchmarks); ``window_back``
    says the window is on screen again (shown, restored), when it renders what changed meanwhile."""

    levels_shown = Signal(float, float)
    window_back = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._connected = False
        self._timer = QTimer(self)
        self._timer.setInterval(METER_INTERVAL_MS)
        self._timer.timeout.connect(self._read)
        self._others: list[tuple[QWidget, Callable[[float, float], None]]] = []
        window.installEventFilter(self)
        window.session.view_changed.connect(self._on_view)

    def add_meters(self, widget: QWidget, show_levels: Callable[[float, float], None]) -> None:
        """Another top-level window with meters (the mini window): while it is on screen the clock
        runs too, and ``show_levels(mic_dbfs, out_dbfs)`` gets each reading."""
        entry = (widget, show_levels)
        self._others.append(entry)
        widget.installEventFilter(self)
        widget.destroyed.connect(lambda: self._others.remove(entry))  # the shell deletes it at shutdown

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if event.type() in _WINDOW_EVENTS and (watched is self._window or any(
                watched is widget for widget, _ in self._others)):
            self.refresh()
            if watched is self._window and event.type() != QEvent.Type.Hide and self._window_shown():
                self.window_back.emit()
        return False

    def _on_view(self, view: ViewState) -> None:
        connected = view.connection is Conn.CONNECTED
        if connected != self._connected:
            self._connected = connected
            self.refresh()

    def refresh(self) -> None:
        """Run or stop, as the window's state and the conversation say."""
        window = self._window
        port = window.session.port
        wanted = (self._connected and port is not None and port.working
                  and (self._window_shown() or any(self._shown(widget) for widget, _ in self._others)))
        if wanted and not self._timer.isActive():
            self._timer.start()
            self._read()
        elif not wanted:
            if self._timer.isActive():
                self._timer.stop()
                window.indicators.show_levels(SILENT_DBFS, SILENT_DBFS)
                for _, show_levels in self._others:
                    show_levels(SILENT_DBFS, SILENT_DBFS)
            self._rest_speech_meter(True)

    def _read(self) -> None:
        window = self._window
        port = window.session.port
        if port is None:
            return
        mic, out = port.mic_level_dbfs, port.output_level_dbfs
        for widget, show_levels in self._others:
            if self._shown(widget):
                show_levels(mic, out)
        if not self._window_shown():  # only another window is on screen: the main one is not fed
            self._rest_speech_meter(True)
            self.levels_shown.emit(mic, out)
            return
        window.indicators.show_levels(mic, out)
        plot_shown = window.vad_panel.plot.isVisible()
        self._rest_speech_meter(not plot_shown)
        if plot_shown:
            engine = window.audio.engine
            window.vad_panel.show_levels(mic, engine.speech_probability if engine is not None else None)
        self.levels_shown.emit(mic, out)

    @staticmethod
    def _shown(widget: QWidget) -> bool:
        return widget.isVisible() and not widget.isMinimized()

    def _window_shown(self) -> bool:
        return self._shown(self._window)

    def _rest_speech_meter(self, rest: bool) -> None:
        engine = self._window.audio.engine
        capture = engine.capture if engine is not None else None
        meter = capture.speech_meter if capture is not None else None
        if meter is not None and meter.active == rest:
            meter.set_active(not rest)
