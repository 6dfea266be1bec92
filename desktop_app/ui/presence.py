"""What the conversation is doing, in one word, for the tray icon, the mini window and screen
readers: derived from the :class:`ViewState` alone (pure functions, tested without a window)."""

from __future__ import annotations

from desktop_app.controller.states import Conn, Mic, Turn
from desktop_app.controller.view_state import ViewState

OFFLINE, IDLE, LISTENING, SPEAKING, THINKING, MUTED = "offline", "idle", "listening", "speaking", "thinking", "muted"

#: What a screen reader says when the state becomes this one ('' = nothing worth saying).
ANNOUNCEMENTS = {
    OFFLINE: "Disconnected", IDLE: "", LISTENING: "Listening", SPEAKING: "The assistant is speaking",
    THINKING: "", MUTED: "Microphone muted", "you": "You are speaking",
}


def presence(view: ViewState | None) -> str:
    """``offline``, ``muted``, ``speaking`` (the assistant), ``you`` (the user speaks),
    ``thinking``, ``listening`` (the microphone is open) or ``idle``."""
    if view is None or view.connection is not Conn.CONNECTED:
        return OFFLINE
    if view.mic is Mic.MUTED:
        return MUTED
    if view.assistant_speaking or view.turn is Turn.ASSISTANT_SPEAKING:
        return SPEAKING
    if view.user_speaking or view.turn is Turn.USER_SPEAKING or view.mic is Mic.PTT_HELD:
        return "you"
    if view.turn in (Turn.COMMITTING, Turn.WAITING, Turn.RUNNING_TOOL):
        return THINKING
    if view.mic is Mic.HANDS_FREE:
        return LISTENING
    return IDLE


def last_lines(view: ViewState | None) -> tuple[str, str]:
    """The newest line said by each side: ``(you, assistant)`` ('' when that side said nothing yet)."""
    you = assistant = ""
    for entry in reversed(view.transcript if view is not None else ()):
        text = (entry.heard if entry.role == "assistant" and entry.heard else entry.text).strip()
        if entry.role == "user" and not you and text:
            you = text
        elif entry.role == "assistant" and not assistant and text:
            assistant = text
        if you and assistant:
            break
    return you, assistant


def tooltip(state: str) -> str:
    return {OFFLINE: "Parley — not connected", IDLE: "Parley — hold to talk", LISTENING: "Parley — listening",
            SPEAKING: "Parley — the assistant is speaking", "you": "Parley — you are speaking",
            THINKING: "Parley — thinking…", MUTED: "Parley — microphone muted"}[state]
