"""How the controller reacts to each server event (a mixin of :class:`Controller`).

One small method per event type, looked up in a table. The protocol core has already updated its
own state (conversation, responses, ledger) when these run; here the events become what a person
sees and hears: indicators, playback, barge-in, tool runs, notices.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from desktop_app.controller.config import interrupt_is_servers_job, vad_view_from_config
from desktop_app.controller.echo import is_echo
from desktop_app.controller.states import ConnEvent, MicMode, Turn, TurnEvent
from desktop_app.log import get_logger
from desktop_app.realtime.classify import Severity, classify_error
from desktop_app.realtime.events import (
    ConnectionClosed, ErrorEvent, InputAudioCommitted, InputAudioTimeoutTriggered,
    InputTranscriptionCompleted, ProtocolErrorEvent, ServerEvent, SessionCreated, SessionUpdated,
    SpeechStarted, SpeechStopped,
)
from desktop_app.realtime.response_events import OutputAudioDelta, OutputAudioDone, ResponseCreated, ResponseDone

if TYPE_CHECKING:
    from desktop_app.controller.controller import Controller

log = get_logger("controller")

TOOL_TIMEOUT_S = 30.0
#: A local onset the server's VAD has not confirmed by then was not speech (its VAD answers in ~0.3 s).
FALSE_START_S = 1.5


class EventHandlers:
    """Server events → view, playback and follow-up commands."""

    def _on_events(self: Controller, events: list[ServerEvent]) -> None:
        for event in events:
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                handler(self, event)
        self._publish(transcript=not all(type(event) is OutputAudioDelta for event in events))

    def _on_session_created(self: Controller, event: SessionCreated) -> None:
        self._conn_state(ConnEvent.OPENED)
        self._set(session_expires_at=self._local_deadline(event.session.get("expires_at")),
                  reconnect_attempt=0, connection_detail="")
        self._session_opened()
        hands_free = self.mic.mode is MicMode.HANDS_FREE
        self._turn(TurnEvent.READY_HANDS_FREE if hands_free else TurnEvent.READY_PTT)
        self._schedule_tick()

    def _on_session_updated(self: Controller, event: SessionUpdated) -> None:
        effective = self.link.conn.session if self.link else None
        if effective is None:
            return
        self._set(voice=effective.voice, model=effective.model,
                  vad=vad_view_from_config(effective, self.view.vad))

    def _on_speech_started(self: Controller, event: SpeechStarted) -> None:
        conn = self.link.conn if self.link else None
        self._local_onset_at = None  # the server heard it too: no false start
        if self.audio.is_playing:
            self._over_playback.add(event.item_id)  # its transcript may be echo: judged when it comes
        if conn is not None and self.audio.is_playing and self._mic_heard_only_echo():
            # The server heard the assistant's own voice through the speakers: keep talking.
            log.info("= speech_started during playback ignored: the microphone holds only echo")
            self._echo_suspects.add(event.item_id)
            return
        self._set(user_speaking=True)
        answering = conn is not None and conn.response_pending and conn.active_response_id not in self._silenced
        if conn is not None and (self.audio.is_playing or answering):
            self._barge_in(server_cancels=interrupt_is_servers_job(conn.session))
        self._turn(TurnEvent.SPEECH_STARTED)

    def _mic_heard_only_echo(self: Controller) -> bool:
        """The local check on the echo-cancelled microphone: False/None mean trust the server."""
        probe = getattr(self.audio, "near_end_speech", None)
        return probe is not None and probe() is False

    def _local_onset(self: Controller) -> None:
        """The audio side heard the user start talking over the assistant: stop it before the
        server's speech_started arrives (the server event then finds playback already silent)."""
        if not self.audio.is_playing or self.mic.mode is not MicMode.HANDS_FREE:
            return
        if self.link is None:
            log.info("= local speech onset during playback while reconnecting: playback stopped")
            self.audio.flush()  # the rest of an answer received before the drop: the user talks over it
            self._set(assistant_speaking=False)
            self._publish()
        else:
            log.info("= local speech onset during playback: barge-in")
            self._local_onset_at = time.monotonic()
            # Ahead of the server's VAD: cancel ourselves, so the truncate that follows is accepted.
            self._barge_in(server_cancels=False)
            self._set(user_speaking=True)
            self._turn(TurnEvent.SPEECH_STARTED)
            self._publish()

    def _false_start(self: Controller) -> None:
        """A local barge-in (a cough, a door) that the server's VAD never took for speech: the
        user is not speaking after all (tick, ``FALSE_START_S`` after the onset)."""
        onset = self._local_onset_at
        if onset is None or time.monotonic() - onset < FALSE_START_S:
            return
        self._local_onset_at = None
        if self.view.user_speaking or self.view.turn is Turn.USER_SPEAKING:
            log.info("= local onset %.1f s ago never became speech on the server: listening again",
                     time.monotonic() - onset)
            self._set(user_speaking=False)
            self._turn(TurnEvent.FALSE_START)

    def _on_transcription_completed(self: Controller, event: InputTranscriptionCompleted) -> None:
        """Only speech that started while the assistant was audible can be its echo; it is judged
        against what the assistant said before it (not the answer to it)."""
        conn = self.link.conn if self.link else None
        if conn is None or event.item_id not in self._over_playback:
            return
        self._over_playback.discard(event.item_id)
        items = conn.conversation.items
        ids = [i.id for i in items]
        before = items[: ids.index(event.item_id)] if event.item_id in ids else items
        recent = [i.display_text for i in before if i.role == "assistant"][-2:]
        if not is_echo(event.transcript, recent):
            return
        log.warning("! echo: user item %s repeats the assistant (%r); removed from the conversation",
                    event.item_id, event.transcript[:80])
        self._echo_items = self._echo_items | {event.item_id}
        conn.delete_item(event.item_id)
        active = conn.active_response_id
        if active is not None and self._answers.get(active) == event.item_id:
            # The model is answering its own echo: nobody should hear that (a response created
            # before the echo was committed — the answer going on, a resume — is left alone).
            self._silenced.add(active)
            conn.cancel_response()
            for answer in [i.id for i in items if i.response_id == active]:  # already queued: unheard
                self.audio.drop(answer)
                conn.delete_item(answer)  # the model's context keeps no answer to its own echo
        self.link.flush()

    def _on_speech_stopped(self: Controller, event: SpeechStopped) -> None:
        self._set(user_speaking=False)
        self._turn(TurnEvent.SPEECH_STOPPED)

    def _on_committed(self: Controller, event: InputAudioCommitted | InputAudioTimeoutTriggered) -> None:
        session = self.link.conn.session if self.link else None
        td = session.turn_detection if session else None
        if td is not None:  # VAD: the server answers by itself when create_response is on
            self._awaiting_response = bool(getattr(td, "create_response", False))
        self._turn(TurnEvent.COMMITTED)
        self._check_turn_finished()

    def _on_response_created(self: Controller, event: ResponseCreated) -> None:
        self._awaiting_response = False
        conn = self.link.conn if self.link else None
        if conn is not None:  # what it answers: the newest user item (for the echo check)
            users = [i.id for i in conn.conversation.items if i.role == "user"]
            self._answers[event.response_id] = users[-1] if users else None
        self._turn(TurnEvent.RESPONSE_STARTED)

    def _on_audio_delta(self: Controller, event: OutputAudioDelta) -> None:
        if event.response_id in self._silenced:
            return  # audio of an interrupted answer still in flight: the user must not hear it
        self.audio.enqueue(event.item_id, self._decode(event.delta))

    def _on_audio_done(self: Controller, event: OutputAudioDone) -> None:
        self.audio.finish(event.item_id)

    def _on_response_done(self: Controller, event: ResponseDone) -> None:
        response = event.response
        interrupted_by_us = event.response_id in self._silenced
        self._silenced.discard(event.response_id)
        self._answers.pop(event.response_id, None)
        status = response.get("status")
        if (status == "cancelled" and event.status_reason == "turn_detected" and not interrupted_by_us
                and self._echo_suspects and self.link is not None):
            # The server cut its answer on echo we judged harmless: ask it to go on, text kept.
            log.info("= answer cancelled by echo-triggered turn detection; asking it to continue")
            self._echo_suspects.clear()
            self.link.conn.create_response()
            self._awaiting_response = True
        if status == "failed":
            details = response.get("status_details") or {}
            error = details.get("error") or {}
            verdict = classify_error(error.get("code"), error.get("type"))
            log.warning("! response failed: %s", error)
            self.notify(verdict.user_message, "error" if verdict.fatal else "warning")
        calls = [item for item in response.get("output") or ()
                 if isinstance(item, dict) and item.get("type") == "function_call"]
        if calls and status == "completed":
            self._turn(TurnEvent.TOOL_CALLED)
            task = asyncio.ensure_future(self._run_tools(calls))
            self._tool_tasks.add(task)
            task.add_done_callback(self._tool_tasks.discard)

    async def _run_tools(self: Controller, calls: list[dict[str, Any]]) -> None:
        for call in calls:
            name, arguments = str(call.get("name")), str(call.get("arguments") or "{}")
            try:
                if self._tools is None:
                    raise LookupError(f"no tool named {name!r} is available")
                output = await asyncio.wait_for(self._tools(name, arguments), TOOL_TIMEOUT_S)
            except asyncio.TimeoutError:
                output = json.dumps({"error": f"{name} took longer than {TOOL_TIMEOUT_S:.0f} s"})
            except Exception as exc:  # a tool's failure is the model's to explain, not a crash
                log.warning("! tool %s failed: %r", name, exc)
                output = json.dumps({"error": str(exc)})
            link = self.link
            if link is None or link.conn.closed:
                return
            link.conn.send_function_output(str(call.get("call_id")), output, respond=False)
        link = self.link
        if link is not None and not link.conn.closed:
            link.conn.create_response()
            link.flush()
            self._awaiting_response = True
        self._turn(TurnEvent.TOOL_DONE)
        self._publish()

    def _on_error(self: Controller, event: ErrorEvent) -> None:
        error = event.error
        verdict = event.classification
        if error.event_id in self._update_ids:
            self._update_ids.discard(error.event_id)
            self._rollback_view()
            self.notify(f"The server refused the new settings: {error.message}", "warning")
            return
        if error.code == "conversation_already_has_active_response":
            # A create raced the answer in progress (the server's VAD committing echo while a resumed
            # answer plays, a tool result): that answer ends the turn; nothing for the user to do.
            log.warning("! %s (%s): the answer in progress goes on", error.code, error.message)
            self._awaiting_response = False
            return
        if error.code == "input_audio_buffer_commit_empty":
            self._awaiting_response = False
            if self.link is not None and self.link.conn.response_pending:
                self.link.conn.cancel_response()
                self.link.flush()
        if verdict.fatal:
            self.fatal_error = verdict.user_message
            self.fatal_code = error.code
            self.notify(verdict.user_message, "error", "settings")
        elif verdict.severity is Severity.RECYCLE:
            self._recycle_pending = True
        elif error.code not in ("response_cancel_not_active", "item_truncate_invalid_item_id"):
            self.notify(verdict.user_message, "warning")

    def _on_protocol_error(self: Controller, event: ProtocolErrorEvent) -> None:
        if not self._protocol_warned:
            self._protocol_warned = True
            self.notify(event.classification.user_message, "warning")

    def _on_closed(self: Controller, event: ConnectionClosed) -> None:
        self._connection_closed(event)


_HANDLERS = {
    SessionCreated: EventHandlers._on_session_created,
    SessionUpdated: EventHandlers._on_session_updated,
    SpeechStarted: EventHandlers._on_speech_started,
    SpeechStopped: EventHandlers._on_speech_stopped,
    InputAudioCommitted: EventHandlers._on_committed,
    InputAudioTimeoutTriggered: EventHandlers._on_committed,
    ResponseCreated: EventHandlers._on_response_created,
    OutputAudioDelta: EventHandlers._on_audio_delta,
    OutputAudioDone: EventHandlers._on_audio_done,
    ResponseDone: EventHandlers._on_response_done,
    InputTranscriptionCompleted: EventHandlers._on_transcription_completed,
    ErrorEvent: EventHandlers._on_error,
    ProtocolErrorEvent: EventHandlers._on_protocol_error,
    ConnectionClosed: EventHandlers._on_closed,
}
