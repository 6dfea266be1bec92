"""The three state machines the user sees, each a table of transitions (h11's habit).

Every transition lives in one dict keyed by ``(state, event)``. An event with no entry for the current
state is *ignored* and reported as such — server events can legitimately arrive in states where they
change nothing (a late ``speech_stopped`` after an interrupt, say) — so :func:`step` returns the new
state and whether the table had an entry. Tests walk the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import TypeVar


class Conn(str, Enum):
    """Connection states: disconnected → connecting → connected → (reconnecting ↺) → failed / closed."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    CLOSED = "closed"


class ConnEvent(str, Enum):
    CONNECT = "connect"              # the user (or start-up) asks for a session
    OPENED = "opened"                # session.created received
    LOST = "lost"                    # retryable drop (1006, 1011, timeout)
    RETRY = "retry"                  # a reconnect attempt starts
    FATAL = "fatal"                  # not retryable (3000, 4000, quota) or retries exhausted
    RECYCLE = "recycle"              # planned refresh before the 60-minute limit
    CLOSE = "close"                  # the user disconnects
    CLOSED = "closed"                # the socket finished closing


CONN_TABLE: dict[tuple[Conn, ConnEvent], Conn] = {
    (Conn.DISCONNECTED, ConnEvent.CONNECT): Conn.CONNECTING,
    (Conn.CLOSED, ConnEvent.CONNECT): Conn.CONNECTING,
    (Conn.FAILED, ConnEvent.CONNECT): Conn.CONNECTING,
    (Conn.CONNECTING, ConnEvent.OPENED): Conn.CONNECTED,
    (Conn.CONNECTING, ConnEvent.LOST): Conn.RECONNECTING,
    (Conn.CONNECTING, ConnEvent.FATAL): Conn.FAILED,
    (Conn.CONNECTING, ConnEvent.CLOSE): Conn.CLOSED,
    (Conn.CONNECTED, ConnEvent.LOST): Conn.RECONNECTING,
    (Conn.CONNECTED, ConnEvent.RECYCLE): Conn.RECONNECTING,
    (Conn.CONNECTED, ConnEvent.FATAL): Conn.FAILED,
    (Conn.CONNECTED, ConnEvent.CLOSE): Conn.CLOSED,
    (Conn.CONNECTED, ConnEvent.CLOSED): Conn.CLOSED,
    (Conn.RECONNECTING, ConnEvent.RETRY): Conn.RECONNECTING,
    (Conn.RECONNECTING, ConnEvent.LOST): Conn.RECONNECTING,
    (Conn.RECONNECTING, ConnEvent.OPENED): Conn.CONNECTED,
    (Conn.RECONNECTING, ConnEvent.FATAL): Conn.FAILED,
    (Conn.RECONNECTING, ConnEvent.CLOSE): Conn.CLOSED,
}


class Turn(str, Enum):
    """Whose turn it is, as the indicators show it."""

    IDLE = "idle"                          # not connected, or push-to-talk with the button up
    LISTENING = "listening"                # hands-free, waiting for speech
    USER_SPEAKING = "user_speaking"
    COMMITTING = "committing"              # speech ended, waiting for the server to take the turn
    WAITING = "waiting"                    # "thinking": a response is on its way
    ASSISTANT_SPEAKING = "assistant_speaking"
    RUNNING_TOOL = "running_tool"


class TurnEvent(str, Enum):
    READY_HANDS_FREE = "ready_hands_free"  # connected (or switched) in hands-free mode
    READY_PTT = "ready_ptt"                # connected (or switched) in push-to-talk mode
    SPEECH_STARTED = "speech_started"      # server VAD onset, or the PTT button went down
    SPEECH_STOPPED = "speech_stopped"      # server VAD end, or the PTT button went up
    COMMITTED = "committed"                # input_audio_buffer.committed / text item sent
    RESPONSE_STARTED = "response_started"  # response.created
    AUDIO_STARTED = "audio_started"        # first assistant sample reached the speaker
    TOOL_CALLED = "tool_called"            # a function call is being executed
    TOOL_DONE = "tool_done"
    RESPONSE_FINISHED_HF = "response_finished_hands_free"  # response done and playback drained
    RESPONSE_FINISHED_PTT = "response_finished_ptt"
    FALSE_START = "false_start"            # a local onset the server's VAD never confirmed
    NOTHING_SENT = "nothing_sent"          # a push-to-talk press that sent nothing (too short, offline)
    DISCONNECTED = "disconnected"


_T, _E = Turn, TurnEvent
TURN_TABLE: dict[tuple[Turn, TurnEvent], Turn] = {}
for _s in Turn:
    TURN_TABLE[(_s, _E.DISCONNECTED)] = _T.IDLE
    # Speech can start in any state: that is barge-in while the assistant talks or thinks.
    TURN_TABLE[(_s, _E.SPEECH_STARTED)] = _T.USER_SPEAKING
    # Switching modes mid-way re-bases the idle state without losing an answer in flight.
    if _s in (_T.IDLE, _T.LISTENING):
        TURN_TABLE[(_s, _E.READY_HANDS_FREE)] = _T.LISTENING
        TURN_TABLE[(_s, _E.READY_PTT)] = _T.IDLE
TURN_TABLE.update({
    (_T.USER_SPEAKING, _E.SPEECH_STOPPED): _T.COMMITTING,
    (_T.COMMITTING, _E.COMMITTED): _T.WAITING,
    (_T.USER_SPEAKING, _E.COMMITTED): _T.WAITING,      # text messages skip the speaking part
    (_T.LISTENING, _E.COMMITTED): _T.WAITING,          # idle timeout commits silence
    (_T.IDLE, _E.COMMITTED): _T.WAITING,
    (_T.LISTENING, _E.RESPONSE_STARTED): _T.WAITING,
    (_T.IDLE, _E.RESPONSE_STARTED): _T.WAITING,
    (_T.COMMITTING, _E.RESPONSE_STARTED): _T.WAITING,
    (_T.WAITING, _E.RESPONSE_STARTED): _T.WAITING,
    (_T.WAITING, _E.AUDIO_STARTED): _T.ASSISTANT_SPEAKING,
    (_T.RUNNING_TOOL, _E.AUDIO_STARTED): _T.ASSISTANT_SPEAKING,
    (_T.WAITING, _E.TOOL_CALLED): _T.RUNNING_TOOL,
    (_T.ASSISTANT_SPEAKING, _E.TOOL_CALLED): _T.RUNNING_TOOL,
    (_T.RUNNING_TOOL, _E.TOOL_DONE): _T.WAITING,
    (_T.RUNNING_TOOL, _E.RESPONSE_STARTED): _T.WAITING,
    (_T.ASSISTANT_SPEAKING, _E.RESPONSE_STARTED): _T.ASSISTANT_SPEAKING,
    (_T.WAITING, _E.RESPONSE_FINISHED_HF): _T.LISTENING,
    (_T.ASSISTANT_SPEAKING, _E.RESPONSE_FINISHED_HF): _T.LISTENING,
    (_T.WAITING, _E.RESPONSE_FINISHED_PTT): _T.IDLE,
    (_T.ASSISTANT_SPEAKING, _E.RESPONSE_FINISHED_PTT): _T.IDLE,
    (_T.COMMITTING, _E.RESPONSE_FINISHED_HF): _T.LISTENING,   # commit rejected / nothing to answer
    (_T.COMMITTING, _E.RESPONSE_FINISHED_PTT): _T.IDLE,
    (_T.USER_SPEAKING, _E.FALSE_START): _T.LISTENING,
    (_T.USER_SPEAKING, _E.NOTHING_SENT): _T.IDLE,
    (_T.COMMITTING, _E.NOTHING_SENT): _T.IDLE,
})


S = TypeVar("S")
Ev = TypeVar("Ev")


def step(table: dict[tuple[S, Ev], S], state: S, event: Ev) -> tuple[S, bool]:
    """Return ``(new_state, handled)``; an event with no table entry leaves the state as it is."""
    new = table.get((state, event))
    return (state, False) if new is None else (new, True)


class MicMode(str, Enum):
    HANDS_FREE = "hands_free"
    PUSH_TO_TALK = "push_to_talk"


class Mic(str, Enum):
    """What the microphone does, as one value for the indicator."""

    HANDS_FREE = "hands_free"
    PTT_RELEASED = "push_to_talk_released"
    PTT_HELD = "push_to_talk_held"
    MUTED = "muted"


@dataclass(frozen=True, slots=True)
class MicMachine:
    """Mode, mute and the PTT button; ``state`` folds them into one :class:`Mic` value.

    Mute is orthogonal to the mode so unmuting returns to whatever mode was active; a PTT press
    while muted is ignored (a muted mic never sends), and changing mode releases the button.
    """

    mode: MicMode = MicMode.HANDS_FREE
    muted: bool = False
    held: bool = False

    @property
    def state(self) -> Mic:
        if self.muted:
            return Mic.MUTED
        if self.mode is MicMode.HANDS_FREE:
            return Mic.HANDS_FREE
        return Mic.PTT_HELD if self.held else Mic.PTT_RELEASED

    @property
    def sending(self) -> bool:
        """Whether microphone frames go to the server."""
        return self.state in (Mic.HANDS_FREE, Mic.PTT_HELD)

    def transition(self, event: str) -> MicMachine:
        """Apply ``hands_free`` / ``push_to_talk`` / ``press`` / ``release`` / ``mute`` / ``unmute``."""
        if event == "hands_free":
            return replace(self, mode=MicMode.HANDS_FREE, held=False)
        if event == "push_to_talk":
            return replace(self, mode=MicMode.PUSH_TO_TALK, held=False)
        if event == "press":
            ok = self.mode is MicMode.PUSH_TO_TALK and not self.muted
            return replace(self, held=True) if ok else self
        if event == "release":
            return replace(self, held=False)
        if event == "mute":
            return replace(self, muted=True, held=False)
        if event == "unmute":
            return replace(self, muted=False)
        raise ValueError(f"unknown microphone event {event!r}")
