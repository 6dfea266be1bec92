"""Who is speaking: the microphone meter and "you are speaking", the turn in words, and the
assistant's output meter and "speaking".

"You are speaking" follows the server's VAD events; before the server has said anything, a local
level above :data:`LOCAL_SPEECH_DBFS` lights the pill as "hearing you…" so the person sees at once
that the microphone works. Between the end of speech and the first audio the turn reads "Thinking…".
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from desktop_app.controller.states import Conn, Mic, Turn
from desktop_app.controller.view_state import ViewState
from desktop_app.ui.theme import Theme, restyle
from desktop_app.ui.widgets.level_meter import LevelMeter, SpeakingPill

#: A microphone louder than this (dBFS) counts as probably speech until the server decides.
LOCAL_SPEECH_DBFS = -38.0
#: The level shown for a muted or not yet measured microphone.
SILENT_DBFS = -120.0


def turn_text(view: ViewState, audio_ok: bool = True) -> str:
    """The turn as a person would say it (``audio_ok`` False: the session has no microphone)."""
    if view.connection is not Conn.CONNECTED:
        return {Conn.CONNECTING: "Connecting…", Conn.RECONNECTING: "Reconnecting…"}.get(
            view.connection, "Not connected")
    turn = view.turn
    if turn is Turn.USER_SPEAKING or view.mic is Mic.PTT_HELD:  # the button shows at once, before it counts
        return "You are speaking"
    if turn in (Turn.COMMITTING, Turn.WAITING):
        return "Thinking…"
    if turn is Turn.ASSISTANT_SPEAKING:
        return "Assistant is speaking"
    if turn is Turn.RUNNING_TOOL:
        if any(run.phase == "approval" for run in view.tools):
            return "Waiting for your permission…"
        if len(view.tools) == 1:
            return f"Running {view.tools[0].label}…"
        return f"Running {len(view.tools)} tools…" if view.tools else "Running a tool…"
    if view.mic is Mic.MUTED:
        return "Microphone muted"
    if not audio_ok:
        return "Type a message"
    if turn is Turn.LISTENING:
        return "Listening"
    return "Hold to talk" if view.mic in (Mic.PTT_RELEASED, Mic.PTT_HELD) else "Ready"


def tool_run_s(view: ViewState, now: float | None = None) -> float | None:
    """How long the longest-running tool has run, in the tool turn (else None)."""
    if view.turn is not Turn.RUNNING_TOOL or not view.tools:
        return None
    return (time.monotonic() if now is None else now) - min(run.started_at for run in view.tools)


def tool_elapsed(view: ViewState, now: float | None = None) -> str:
    """" · 3 s" while a tool has run for a second or more in the tool turn, else ""."""
    ran = tool_run_s(view, now)
    seconds = 0 if ran is None else int(ran)
    return f" · {seconds} s" if seconds >= 1 else ""


def user_pill(view: ViewState, mic_dbfs: float = SILENT_DBFS) -> tuple[bool, str]:
    """``(lit, words)`` for the user's pill (``mic_dbfs``: the microphone's level now)."""
    if view.user_speaking or view.turn is Turn.USER_SPEAKING or view.mic is Mic.PTT_HELD:
        return True, "Speaking"
    hot_mic = view.connection is Conn.CONNECTED and view.mic in (Mic.HANDS_FREE, Mic.PTT_HELD)
    if hot_mic and mic_dbfs > LOCAL_SPEECH_DBFS:
        return True, "Hearing you…"
    return False, "Muted" if view.mic is Mic.MUTED else "Quiet"


class SpeakingIndicators(QFrame):
    """Two meters with pills, and the turn between them. ``phase`` is the turn text shown."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.phase = ""
        self._view = ViewState()
        self._mic_dbfs = SILENT_DBFS
        # the elapsed time of a running tool ticks between renders, each tick just past a whole second
        # of the tool's run (a free-running 1 s coarse timer may fire 5 % early: "1 s" was skipped)
        self._clock = QTimer(self)
        self._clock.setSingleShot(True)
        self._clock.setTimerType(Qt.TimerType.PreciseTimer)
        self._clock.timeout.connect(self._show_elapsed)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 0, 4, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        you = QLabel("You", self)
        you.setProperty("role", "section")
        self.user_pill = SpeakingPill("user", "Quiet", self)
        self.user_pill.setAccessibleName("You are speaking")
        self.mic_meter = LevelMeter(theme, theme.accent, self)
        self.mic_meter.setAccessibleName("Microphone level")
        self.turn = QLabel("Not connected", self)
        self.turn.setAccessibleName("Turn")
        self.turn.setProperty("turn", "idle")
        them = QLabel("Assistant", self)
        them.setProperty("role", "section")
        self.assistant_pill = SpeakingPill("assistant", "Quiet", self)
        self.assistant_pill.setAccessibleName("Assistant is speaking")
        self.out_meter = LevelMeter(theme, theme.assistant, self)
        self.out_meter.setAccessibleName("Assistant level")
        grid.addWidget(you, 0, 0)
        grid.addWidget(self.user_pill, 0, 1)
        grid.addWidget(self.mic_meter, 1, 0, 1, 2)
        grid.addWidget(self.turn, 0, 2, 2, 1)
        grid.addWidget(self.assistant_pill, 0, 3)
        grid.addWidget(them, 0, 4)
        grid.addWidget(self.out_meter, 1, 3, 1, 2)
        grid.setColumnStretch(0, 0)
        grid.setColumnStretch(2, 1)
        grid.setAlignment(self.turn, Qt.AlignmentFlag.AlignCenter)
        grid.setAlignment(them, Qt.AlignmentFlag.AlignRight)

    def show_levels(self, mic_dbfs: float, out_dbfs: float) -> None:
        """The meters (the window's meter clock, 20 a second while it is on screen and connected)."""
        self._mic_dbfs = mic_dbfs if self._view.mic is not Mic.MUTED else SILENT_DBFS
        self.mic_meter.set_level(self._mic_dbfs)
        self.out_meter.set_level(out_dbfs)
        self.user_pill.set_active(*user_pill(self._view, self._mic_dbfs))

    def show_view(self, view: ViewState, audio_ok: bool = True) -> None:
        self._view = view
        self.user_pill.set_active(*user_pill(view, self._mic_dbfs if view.mic is not Mic.MUTED else SILENT_DBFS))
        self.assistant_pill.set_active(view.assistant_speaking, "Speaking" if view.assistant_speaking else "Quiet")
        phase = turn_text(view, audio_ok)
        shown = phase + tool_elapsed(view)
        if shown != self.turn.text():
            self.turn.setText(shown)
        if tool_run_s(view) is None:
            self._clock.stop()
        elif not self._clock.isActive():
            self._tick_next()
        if phase != self.phase:
            self.phase = phase
            mood = {"Thinking…": "thinking", "You are speaking": "user", "Assistant is speaking": "assistant",
                    "Listening": "listening"}.get(phase, "thinking" if phase.endswith("…") and (
                        phase.startswith("Running") or phase.startswith("Waiting")) else "idle")
            restyle(self.turn, turn=mood)

    def _show_elapsed(self) -> None:
        self.turn.setText(self.phase + tool_elapsed(self._view))
        self._tick_next()

    def _tick_next(self) -> None:
        """Arm the clock for 10 ms past the next whole second of the longest-running tool (if any)."""
        ran = tool_run_s(self._view)
        if ran is not None:
            self._clock.start(int(1000 * (1.0 - ran % 1.0)) + 10)
