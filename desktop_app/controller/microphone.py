"""The microphone part: what is sent, when, and the push-to-talk button.

* Frames reach the server only while the microphone machine says so (hands-free, or the button
  held; never muted) and nothing has suspended the conversation (:meth:`Microphone.suspend`: the
  microphone test and the room calibration must not talk to the assistant). A transport that
  carries audio as media gets the PCM itself; otherwise the core turns it into events.
* A press silences the assistant at once (playback paused, nothing lost) and becomes a barge-in
  only once it has lasted :data:`PRESS_CONFIRM_S`; a shorter press is a slip of the finger: the
  answer goes on and no turn is left behind.
* A release commits and asks for the answer, or drops a press too short for the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from desktop_app.audio.codecs import Encoder
from desktop_app.controller.audio_port import AudioPort
from desktop_app.controller.states import MicMachine, MicMode, Turn, TurnEvent
from desktop_app.controller.turns import TurnKeeper
from desktop_app.controller.view import ViewModel
from desktop_app.log import get_logger
from desktop_app.realtime.dialect import Dialect
from desktop_app.transport.base import Transport

log = get_logger("controller")

#: A push-to-talk press shorter than this is a slip of the finger: the answer goes on, no turn.
PRESS_CONFIRM_S = 0.15
#: Microphone frames are 20 ms; silence fills a gap of three or more (a continuous-input dialect).
FRAME_S = 0.02
KEEP_CLOCK_FRAMES = 3
SILENT_FRAME = bytes(960)  # 20 ms of pcm16 24 kHz


class Microphone:
    """The microphone machine, the press in progress, and the reasons sending is suspended."""

    def __init__(self, *, audio: AudioPort, view: ViewModel, turns: TurnKeeper, mode: MicMode,
                 core: Callable[[], Dialect | None], transport: Callable[[], Transport | None],
                 flush: Callable[[], None], interrupt: Callable[[bool], None], encoder: Encoder | None) -> None:
        self.machine = MicMachine(mode=mode)
        self._audio = audio
        self._view = view
        self._turns = turns
        self._core = core
        self._transport = transport
        self._flush = flush
        self._interrupt = interrupt
        self._encoder = encoder  # None: the input format is PCM16 already
        self._press: asyncio.TimerHandle | None = None
        self._confirmed = False
        self._pauses: set[str] = set()
        self._suspended: set[str] = set()
        self._sent_at: float | None = None  # loop time the last frame went out (continuous-input dialects)

    @property
    def mode(self) -> MicMode:
        return self.machine.mode

    def _open_core(self) -> Dialect | None:
        core = self._core()
        return core if core is not None and not core.closed and core.session is not None else None

    # --- frames ---------------------------------------------------------------------------------
    def frame(self, pcm16: bytes) -> None:
        """Microphone audio, whole 20 ms frames: one, or several in one piece (a hold's release, a
        press's pre-roll: one message, not one per frame). Called on the loop by the audio port."""
        core = self._open_core()
        if core is None or not self.machine.sending or self._suspended:
            return
        self._send(core, pcm16)

    def _send(self, core: Dialect, pcm16: bytes) -> None:
        self._sent_at = time.monotonic()
        transport = self._transport()
        if transport is not None and transport.carries_audio:
            transport.send_audio(pcm16)
            core.media_audio(None, len(pcm16))  # counted for the push-to-talk commit guard
            return
        payload = pcm16 if self._encoder is None else self._encoder.encode(pcm16)
        if payload:
            core.append_audio(payload)
            self._flush()

    def keep_clock(self) -> None:
        """A dialect whose session clock runs on input audio (GPT-Live) hears silence while nothing else
        is sent — muted, push-to-talk released, suspended, no microphone — so its time, its answers
        and its output never stall. Called by the controller's tick."""
        core = self._open_core()
        if core is None or not core.traits.continuous_input:
            return
        now = time.monotonic()
        if self._sent_at is None or now - self._sent_at > 1.0:
            self._sent_at = now - FRAME_S  # a first tick, or the loop stalled: one frame, not a burst
        since = self._sent_at
        frames = int((now - since) / FRAME_S)
        if frames >= KEEP_CLOCK_FRAMES:
            for _ in range(frames):
                self._send(core, SILENT_FRAME)
            self._sent_at = since + frames * FRAME_S  # the remainder counts towards the next frame

    # --- push-to-talk ---------------------------------------------------------------------------
    def press(self) -> None:
        """The button went down: the assistant falls silent now; a fresh input buffer starts."""
        before = self.machine
        self.machine = self.machine.transition("press")
        if self.machine == before or not self.machine.sending:
            return
        self._confirmed = False
        core = self._open_core()
        if core is not None:
            if core.traits.input_buffer:
                core.clear_audio()
                self._flush()
            self.pause("press", True)
            self._press = asyncio.get_running_loop().call_later(PRESS_CONFIRM_S, self._confirm)
        else:
            self._confirm()
        self._audio.set_gate(True)
        self._view.set(mic=self.machine.state)

    def _confirm(self) -> None:
        """The press has lasted: it is the user's turn, and whatever the assistant said is cut."""
        self._press = None
        if not self.machine.held:
            return
        self._confirmed = True
        if self._open_core() is not None:
            self._interrupt(False)
        self.pause("press", False)
        self._turns.step(TurnEvent.SPEECH_STARTED)
        self._turns.speaking(True)

    def release(self) -> None:
        """The button went up: commit and ask for an answer, or drop a press too short to send."""
        if not self.machine.held:
            return
        self.machine = self.machine.transition("release")
        self._audio.set_gate(False)
        core = self._open_core()
        if self._press is not None:  # released before it was confirmed: a slip, nothing happened
            self._press.cancel()
            self._press = None
            self.pause("press", False)
            if core is not None and core.traits.input_buffer:
                core.clear_audio()
                self._flush()
            log.debug("= push-to-talk tap dropped (< %d ms); the answer goes on", PRESS_CONFIRM_S * 1000)
            self._view.set(mic=self.machine.state)
            return
        self._turns.speaking(False)
        if core is None or not core.traits.input_buffer:
            self._turns.step(TurnEvent.NOTHING_SENT)
        elif core.can_commit:
            core.commit_audio()
            core.create_response()
            self._flush()
            self._turns.asked()
            self._turns.step(TurnEvent.SPEECH_STOPPED)
            self._view.resolve("push_to_talk")
        else:
            heard = core.appended_ms_since_commit
            core.clear_audio()
            self._flush()
            self._view.notify("That was too short to send; hold the talk button while you speak.", "warning",
                              cause="push_to_talk")
            log.info("= push-to-talk press of %.0f ms dropped (< 100 ms)", heard)
            self._turns.step(TurnEvent.NOTHING_SENT)
        self._view.set(mic=self.machine.state)

    # --- mute, mode -----------------------------------------------------------------------------
    def _abandon_press(self) -> None:
        """Muting or switching mode mid-press ends the press without a turn (nothing committed)."""
        if self._press is not None:
            self._press.cancel()
            self._press = None
        self.pause("press", False)
        if not self.machine.held:
            return
        self._turns.speaking(False)
        core = self._open_core()
        if core is not None and core.traits.input_buffer:
            core.clear_audio()  # what was said while held is dropped (a VAD switched on must not commit it)
            self._flush()
        if self._confirmed and self._turns.turn is Turn.USER_SPEAKING:  # the press's turn ends, nothing to answer
            self._turns.step(TurnEvent.NOTHING_SENT)

    def set_muted(self, muted: bool) -> None:
        if muted:
            self._abandon_press()
        self.machine = self.machine.transition("mute" if muted else "unmute")
        self._audio.set_muted(muted)
        if muted:
            self._audio.set_gate(False)
        elif self.machine.mode is MicMode.HANDS_FREE:
            self._audio.set_gate(True)
        self._view.set(mic=self.machine.state)

    def set_mode(self, mode: str) -> None:
        """``hands_free`` or ``push_to_talk`` (the caller sends the turn-detection change)."""
        self._abandon_press()
        self.machine = self.machine.transition(mode)
        self._audio.set_gate(mode == "hands_free" and not self.machine.muted)
        self._view.set(mic=self.machine.state)

    # --- pausing and suspending -----------------------------------------------------------------
    def pause(self, reason: str, on: bool) -> None:
        """Pause the assistant's audio for ``reason`` (resumed when no reason is left)."""
        before = bool(self._pauses)
        if on:
            self._pauses.add(reason)
        else:
            self._pauses.discard(reason)
        if bool(self._pauses) != before:
            self._audio.pause_playback(bool(self._pauses))

    def suspend(self, reason: str, on: bool, *, pause_playback: bool = True) -> None:
        """Suspend the conversation for ``reason``: nothing is sent and the assistant's audio waits
        (it plays on afterwards; ``pause_playback=False`` lets it play, as for the spending limit,
        whose answer is already paid for). A half-spoken turn is dropped at both ends, so nothing
        said during the suspension reaches the assistant."""
        if on == (reason in self._suspended):
            return
        if on:
            self._suspended.add(reason)
        else:
            self._suspended.discard(reason)
        log.info("= conversation %s (%s)", "suspended" if on else "resumed", reason)
        if pause_playback:
            self.pause("suspend:" + reason, on)
        core = self._open_core()
        if core is not None and core.traits.input_buffer:
            core.clear_audio()
            self._flush()

    @property
    def suspended(self) -> bool:
        return bool(self._suspended)
