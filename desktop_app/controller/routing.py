"""Server events → the controller's parts: one small method per event type, looked up in a table.

The protocol core has already updated its own state (conversation, responses, ledger) when these
run; here the events become what a person sees and hears. Each handler asks the part that owns the
decision (echo judge, turn keeper, session editor, reconnector, barge-in, tool slot) and carries it
out on the audio port and the core. The router holds references to those parts, given explicitly;
it keeps no state of its own beyond the one-time protocol warning.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_app.audio.codecs import Decoder
from desktop_app.controller.audio_port import AudioPort
from desktop_app.controller.barge_in import BargeIn
from desktop_app.controller.config import interrupt_is_servers_job
from desktop_app.controller.echo_judge import EchoJudge
from desktop_app.controller.media_voice import MediaVoice
from desktop_app.controller.reconnector import Reconnector
from desktop_app.controller.record import ConversationRecord
from desktop_app.controller.session_editor import SessionEditor
from desktop_app.controller.states import Turn, TurnEvent
from desktop_app.controller.tool_slot import ToolSlot
from desktop_app.controller.turns import TurnKeeper
from desktop_app.controller.view import ViewModel
from desktop_app.log import get_logger
from desktop_app.realtime.classify import Severity, classify_error
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.errors import ProtocolError
from desktop_app.realtime.events import (
    ConnectionClosed, ConversationItemAdded, ConversationItemDone, ErrorEvent, InputAudioCommitted,
    InputAudioTimeoutTriggered, InputTranscriptionCompleted, ProtocolErrorEvent, ServerEvent, SessionCreated,
    SessionUpdated, SpeechStarted, SpeechStopped,
)
from desktop_app.realtime.response_events import (
    ContentPartAdded, McpListToolsCompleted, McpListToolsFailed, McpListToolsInProgress, OutputAudioBufferCleared,
    OutputAudioBufferStarted, OutputAudioBufferStopped, OutputAudioDelta, OutputAudioDone, ResponseCreated, ResponseDone,
)

log = get_logger("controller")

#: Errors that change nothing for the user: a cancel or truncate that raced the answer's end.
_QUIET_ERRORS = frozenset({"response_cancel_not_active", "item_truncate_invalid_item_id"})


@dataclass(slots=True)
class Parts:
    """The controller's parts, as the router sees them."""

    audio: AudioPort
    view: ViewModel
    turns: TurnKeeper
    echo: EchoJudge
    barge: BargeIn
    editor: SessionEditor
    connection: Reconnector
    tools: ToolSlot
    record: ConversationRecord
    media: MediaVoice  # the assistant's voice when it arrives as media (WebRTC)


@dataclass(slots=True)
class Wiring:
    """What the router needs of the controller itself: a few actions across parts."""

    hands_free: Callable[[], bool]
    interrupt: Callable[[bool], None]  # barge in; the argument says whether the server cancels
    start_ticking: Callable[[], None]
    publish: Callable[[bool], None]  # publish the view; the argument says whether text changed
    flush: Callable[[], None]  # hand the core's frames to the link
    keep_clock: Callable[[], None]  # a dialect whose clock runs on input audio gets silence while the mic is off


class EventRouter:
    """``route(events)``: each event to its handler, then one publish."""

    def __init__(self, parts: Parts, wiring: Wiring, decoder: Decoder | None) -> None:
        self.p = parts
        self.w = wiring
        self._decoder = decoder  # None: the output format is PCM16 already
        self._protocol_warned = False
        self._table: dict[type, Callable[[Any], None]] = {
            SessionCreated: self._session_created, SessionUpdated: self._session_updated,
            SpeechStarted: self._speech_started, SpeechStopped: self._speech_stopped,
            InputAudioCommitted: self._committed, InputAudioTimeoutTriggered: self._committed,
            ResponseCreated: self._response_created, OutputAudioDelta: self._audio_delta,
            OutputAudioDone: self._audio_done, ResponseDone: self._response_done,
            InputTranscriptionCompleted: self._transcription_completed, ErrorEvent: self._error,
            ProtocolErrorEvent: self._protocol_error, ConnectionClosed: self._closed,
            ContentPartAdded: parts.media.part_added, OutputAudioBufferStarted: parts.media.started,
            OutputAudioBufferStopped: parts.media.stopped, OutputAudioBufferCleared: parts.media.cleared,
            ConversationItemAdded: lambda e: self.p.tools.item_seen(e.item),
            ConversationItemDone: lambda e: self.p.tools.item_seen(e.item),
            McpListToolsInProgress: lambda e: self.p.tools.listing_event(e.type, e.item_id),
            McpListToolsCompleted: lambda e: self.p.tools.listing_event(e.type, e.item_id),
            McpListToolsFailed: lambda e: self.p.tools.listing_event(e.type, e.item_id),
        }

    @property
    def core(self) -> Dialect | None:
        return self.p.connection.core

    @property
    def playing(self) -> bool:
        """The assistant is audible: audio queued or sounding here, or still on its way (WebRTC)."""
        return self.p.audio.is_playing or self.p.media.streaming

    def route(self, events: list[ServerEvent]) -> None:
        for event in events:
            handler = self._table.get(type(event))
            if handler is not None:
                handler(event)
        # Audio-only batches (~20 a second) change no text: the transcript is not rebuilt for them.
        self.w.publish(not all(type(event) is OutputAudioDelta for event in events))

    # --- the session --------------------------------------------------------------------------
    def _session_created(self, event: SessionCreated) -> None:
        self.p.connection.session_started(event.session.get("expires_at"))
        self.p.turns.ready(self.w.hands_free())
        self.w.start_ticking()

    def _session_updated(self, event: SessionUpdated) -> None:
        core = self.core
        if core is not None and core.session is not None:
            self.p.editor.updated(core.session)

    # --- the user's turn ----------------------------------------------------------------------
    def _speech_started(self, event: SpeechStarted) -> None:
        core, audio = self.core, self.p.audio
        playing = self.playing
        # The local check on the echo-cancelled microphone: False means only echo; None, trust the server.
        only_echo = playing and core is not None and audio.near_end_speech() is False
        if self.p.echo.speech_started(event.item_id, playing=playing, mic_only_echo=only_echo):
            return
        self.p.turns.speaking(True)
        answering = (core is not None and core.response_pending
                     and not self.p.barge.is_silenced(core.active_response_id)) or self.p.tools.busy
        if core is not None and (playing or answering):
            self.w.interrupt(interrupt_is_servers_job(core.session))
        self.p.turns.step(TurnEvent.SPEECH_STARTED)

    def _speech_stopped(self, event: SpeechStopped) -> None:
        self.p.turns.speaking(False)
        self.p.turns.step(TurnEvent.SPEECH_STOPPED)

    def _committed(self, event: InputAudioCommitted | InputAudioTimeoutTriggered) -> None:
        core = self.core
        td = core.session.turn_detection if core is not None and core.session is not None else None
        if td is not None:  # VAD: the server answers by itself when create_response is on
            if td.create_response:
                self.p.turns.asked()
            else:
                self.p.turns.answered()
        self.p.view.resolve("push_to_talk")  # a turn got through: an old "too short" no longer applies
        self.p.turns.step(TurnEvent.COMMITTED)
        self.check_finished()

    def _transcription_completed(self, event: InputTranscriptionCompleted) -> None:
        """Speech that started during playback may be the assistant's echo: judged here."""
        core = self.core
        if core is None:
            return
        verdict = self.p.echo.judge(event.item_id, event.transcript, core.conversation.items,
                                    core.active_response_id)
        if verdict is None:
            return
        if not core.traits.item_deletion:  # GPT-Live: nothing to delete; the transcript flags the echo
            return
        core.delete_item(verdict.item_id)
        if verdict.cancel_response is not None:
            # The model is answering its own echo: nobody should hear that.
            self.p.barge.silence(verdict.cancel_response)
            core.cancel_response()
            for answer in verdict.answer_items:  # already queued: never played, not kept in context
                self.p.audio.drop(answer)
                core.delete_item(answer)

    # --- the assistant's turn -----------------------------------------------------------------
    def _response_created(self, event: ResponseCreated) -> None:
        core = self.core
        if event.response_id is not None and self.p.barge.started(event.response_id):
            log.info("= %s was interrupted before it started: cancelled, never played", event.response_id)
            self.p.turns.answered()  # nothing awaited any more (a newer create is pending in the core)
            if core is not None:
                core.cancel_response()
            return
        self.p.turns.answered()
        if core is not None and event.response_id is not None:  # what it answers: the newest user item
            users = [i.id for i in core.conversation.items if i.role == "user"]
            self.p.echo.response_created(event.response_id, users[-1] if users else None)
        self.p.turns.step(TurnEvent.RESPONSE_STARTED)

    def _audio_delta(self, event: OutputAudioDelta) -> None:
        if self.p.barge.is_silenced(event.response_id):
            return  # audio of an interrupted answer still in flight: the user must not hear it
        try:
            pcm = self._decode(event.delta)
        except ValueError as exc:  # binascii.Error too: the server's fault, not a reason to drop the link
            log.warning("! unreadable audio delta for %s skipped: %s", event.item_id, exc)
            self._protocol_error(ProtocolErrorEvent(error=ProtocolError(f"unreadable audio: {exc}",
                                                                        event_type=event.type)))
            return
        self.p.audio.enqueue(event.item_id, pcm)

    def _audio_done(self, event: OutputAudioDone) -> None:
        self.p.audio.finish(event.item_id)

    def _response_done(self, event: ResponseDone) -> None:
        response = event.response
        status = response.get("status")
        rid = event.response_id or ""
        by_us = self.p.barge.finished(rid)
        self.p.media.response_done(rid, status if isinstance(status, str) else None)
        core = self.core
        on_turn = status == "cancelled" and event.status_reason == "turn_detected"
        if self.p.echo.resume_after(rid, cancelled_on_turn=on_turn, by_us=by_us) and core is not None:
            core.create_response()  # the server cut its answer on echo: go on, the text so far is kept
            self.p.turns.asked()
        if status == "failed":
            details = response.get("status_details") or {}
            error = details.get("error") or {}
            verdict = classify_error(error.get("code"), error.get("type"))
            log.warning("! response failed: %s", error)
            self.p.view.notify(verdict.user_message, "error" if verdict.fatal else "warning", cause="response")
        # An answer we interrupted (or silenced) may still complete: its cancel crossed its done. Its
        # calls are answered "cancelled", never run — the user has moved on.
        if status == "completed" and self.p.tools.take(response, self._tools_answered, cancelled=by_us) and not by_us:
            self.p.turns.step(TurnEvent.TOOL_CALLED)

    def _tools_answered(self) -> None:
        """Every call has its output and the follow-up answer was asked for."""
        self.p.turns.asked()
        self.p.turns.step(TurnEvent.TOOL_DONE)
        self.w.flush()
        self.w.publish(True)

    def tools_crashed(self, exc: BaseException) -> None:
        self.p.view.notify("A tool run failed unexpectedly; the details are in the log.", "warning", cause="tools")
        self.p.turns.step(TurnEvent.TOOL_DONE)
        self.w.publish(True)

    def tick(self, core: Dialect) -> bool:
        """The controller's tick (``ticker.py``): the speaking indicator, the end of a turn, a false
        start, and the planned refresh between turns. True once settled — listening, nothing playing,
        no answer, tool or local onset pending — when only the refresh is left to look for. (The
        meters are the window's: it reads the port's levels while it is on screen.)"""
        playing = self.playing
        self.p.view.set(assistant_speaking=playing)
        if playing:
            self.p.turns.step(TurnEvent.AUDIO_STARTED)
        elif self.p.tools.busy and not core.response_pending:
            self.p.turns.step(TurnEvent.TOOL_CALLED)  # a spoken "let me check" ended: the tool's turn again
        self.false_start()
        self.check_finished()
        self.w.keep_clock()
        view = self.p.view.state
        between = view.turn in (Turn.LISTENING, Turn.IDLE) and not playing and not core.response_pending
        self.p.connection.maybe_recycle(between_turns=between)
        # A dialect whose clock runs on input audio (GPT-Live) never settles: keep_clock fills the
        # microphone's gaps with silence on this tick.
        return (between and not view.user_speaking and not self.p.turns.awaiting_response
                and not self.p.tools.busy and not self.p.echo.onset_pending and not core.traits.continuous_input)

    def check_finished(self) -> None:
        """End the assistant's turn once nothing is left: no answer, no tool, no audio."""
        core = self.core
        busy = (core is not None and core.response_pending) or self.p.tools.busy or self.playing
        self.p.turns.check_finished(busy=busy, hands_free=self.w.hands_free())
        if not busy:
            self.p.editor.answer_finished()

    # --- the audio side hears the user --------------------------------------------------------
    def local_onset(self) -> None:
        """The user started talking over the assistant (the port's detector, ahead of the server's
        VAD): stop it now; the server's speech_started then finds playback already silent."""
        if not self.p.audio.is_playing or not self.w.hands_free():
            return
        if self.core is None:
            log.info("= local speech onset during playback while reconnecting: playback stopped")
            self.p.audio.flush()  # the rest of an answer received before the drop: the user talks over it
            self.p.view.set(assistant_speaking=False)
        else:
            log.info("= local speech onset during playback: barge-in")
            self.p.echo.local_onset(time.monotonic())
            # Ahead of the server's VAD: cancel ourselves, so the truncate that follows is accepted.
            self.w.interrupt(False)
            self.p.turns.speaking(True)
            self.p.turns.step(TurnEvent.SPEECH_STARTED)
        self.w.publish(True)

    def false_start(self) -> None:
        """A local onset (a cough, a door) the server's VAD never took for speech: listening again."""
        ago = self.p.echo.false_start(time.monotonic())
        view = self.p.view.state
        if ago is not None and (view.user_speaking or view.turn is Turn.USER_SPEAKING):
            log.info("= local onset %.1f s ago never became speech on the server: listening again", ago)
            self.p.turns.speaking(False)
            self.p.turns.step(TurnEvent.FALSE_START)

    # --- errors -------------------------------------------------------------------------------
    def _error(self, event: ErrorEvent) -> None:
        error, verdict = event.error, event.classification
        if self.p.editor.refused(error.event_id, error.message):
            return
        core = self.core
        if error.code == "conversation_already_has_active_response":
            # A create raced the answer in progress (the server's VAD committing echo while a resumed
            # answer plays, a tool result): that answer ends the turn; nothing for the user to do.
            log.warning("! %s (%s): the answer in progress goes on", error.code, error.message)
            self.p.turns.answered()
            self.p.barge.create_refused()
            return
        if error.code == "input_audio_buffer_commit_empty":
            self.p.turns.answered()
            if core is not None and core.response_pending:
                core.cancel_response()
        if verdict.fatal:
            self.p.connection.fatal_error = verdict.user_message
            self.p.connection.fatal_code = error.code
            self.p.view.notify(verdict.user_message, "error", "settings", cause="connection")
        elif verdict.severity is Severity.RECYCLE:
            self.p.connection.recycle_pending = True
        elif error.code not in _QUIET_ERRORS:
            self.p.view.notify(verdict.user_message, "warning", cause="server")

    def _closed(self, event: ConnectionClosed) -> None:
        """The link ended: keep what was said (replayed into the next session, unless the
        conversation was cleared), end per-connection state, let the reconnector decide."""
        core, p = self.core, self.p
        if core is not None:
            if p.record.clearing:
                p.record.clearing = False
            else:
                items = p.record.connection_ended(core, p.connection.replayed_ids, p.echo.echo_items)
                # The user spoke (or typed) last and the answer never came: the next session gives it
                # (a tool call in flight is carried over by the tool slot instead).
                last = core.conversation.items[-1] if core.conversation.items else None
                unanswered = (last is not None and last.type == "message" and last.role == "user"
                              and bool(items) and event.classification.severity is not Severity.NORMAL)
                p.connection.keep(items, unanswered=unanswered)
            p.echo.connection_ended()
            p.barge.connection_ended()
        p.media.connection_ended()
        p.view.set(assistant_speaking=False)
        p.turns.disconnected()
        p.connection.closed(event)

    def _protocol_error(self, event: ProtocolErrorEvent) -> None:
        if not self._protocol_warned:
            self._protocol_warned = True
            self.p.view.notify(event.classification.user_message, "warning", cause="protocol")

    def _decode(self, b64: str) -> bytes:
        """The delta as PCM16; ValueError when it is not base64 audio in the session's format."""
        raw = base64.b64decode(b64, validate=True)
        if self._decoder is not None:
            return self._decoder.decode(raw)
        if len(raw) % 2:
            raise ValueError(f"{len(raw)} bytes is not whole PCM16 samples")
        return raw
