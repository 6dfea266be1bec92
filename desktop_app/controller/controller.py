"""The conversation controller: intents in, protocol commands out; protocol events in, view state out.

It owns one :class:`Link` at a time (socket + sans-I/O core), the audio port and the three state
machines. Every change ends in :meth:`_publish`, which hands the UI one immutable
:class:`ViewState`. The protocol's event handling lives in :mod:`.handlers`, connection lifecycle
(connect, reconnect with backoff, session recycling) in :mod:`.lifecycle`; this module keeps the
intents a person can express and the state they act on.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import replace

from desktop_app.audio.codecs import Decoder, Encoder
from desktop_app.controller.audio_port import AudioPort
from desktop_app.controller.config import (
    turn_detection_from_vad, vad_view_from_config,
)
from desktop_app.controller.handlers import EventHandlers
from desktop_app.controller.lifecycle import Lifecycle
from desktop_app.controller.link import Link
from desktop_app.controller.states import (
    CONN_TABLE, TURN_TABLE, ConnEvent, MicMachine, MicMode, Turn, TurnEvent, step,
)
from desktop_app.controller.transcript import entries_from_items
from desktop_app.controller.view_state import Notice, TranscriptEntry, VadView, ViewState
from desktop_app.log import get_logger
from desktop_app.realtime.errors import LocalUsageError
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.realtime.usage import Usage

log = get_logger("controller")

#: Sliders fire many changes a second while dragged; the server gets one update after they settle.
UPDATE_DEBOUNCE_S = 0.3
#: Meters and speaking indicators refresh at this rate while connected.
TICK_S = 0.05

Target = Callable[[], Awaitable[tuple[str, dict[str, str]]]]
"""Returns ``(url, headers)`` for the next connection (may mint an ephemeral key)."""

ToolRunner = Callable[[str, str], Awaitable[str]]
"""``await run(name, arguments_json) -> output`` for a function call."""


class Controller(EventHandlers, Lifecycle):
    """One conversation, across reconnects. Use it from the event loop only."""

    def __init__(
        self,
        *,
        target: Target,
        audio: AudioPort,
        config: SessionConfig,
        vad: VadView | None = None,
        on_view: Callable[[ViewState], None] = lambda view: None,
        frame_observer: Callable[[str, str], None] | None = None,
        tools: ToolRunner | None = None,
        max_retries: int = 5,
        endpoint_label: str = "",
    ) -> None:
        self._target = target
        self.audio = audio
        self._config = config.validate()
        self._on_view = on_view
        self._observer = frame_observer
        self._tools = tools
        self.max_retries = max_retries
        self.link: Link | None = None
        self.mic = MicMachine(mode=MicMode.PUSH_TO_TALK if config.push_to_talk else MicMode.HANDS_FREE)
        vad = vad or vad_view_from_config(config, VadView())
        self.view = ViewState(
            mic=self.mic.state, model=config.model, voice=config.voice, vad=vad,
            instructions=config.instructions or "", endpoint_label=endpoint_label,
            reconnect_limit=max_retries,
        )
        self._history: tuple[TranscriptEntry, ...] = ()  # entries from earlier connections
        self._past_usage = Usage()  # tokens of earlier connections
        self._silenced: set[str] = set()  # responses whose audio must not play (interrupted)
        self._awaiting_response = False
        self._tool_tasks: set[asyncio.Task] = set()
        self._update_handle: asyncio.TimerHandle | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        self._encoder = Encoder(config.input_format.type)
        self._decoder = Decoder(config.output_format.type)
        self.idle = asyncio.Event()  # set whenever a turn has fully finished
        self.responses_finished = 0
        self.closed_event = asyncio.Event()
        self.fatal_error: str | None = None
        self._init_lifecycle()

    # --- what the view shows ------------------------------------------------------------------

    @property
    def config(self) -> SessionConfig:
        """The session asked for (the server's effective session is ``link.conn.session``)."""
        return self._config

    def transcript(self) -> tuple[TranscriptEntry, ...]:
        """Every entry of this conversation, earlier connections included."""
        if self.link is None:
            return self._history
        conn = self.link.conn
        items = [item for item in conn.conversation.items if item.id not in self._replayed_ids]
        received = {item.id: conn.received_ms(item.id) for item in items}
        return self._history + tuple(entries_from_items(items, received, self._echo_items))

    def usage(self) -> Usage:
        """Tokens of the whole conversation, earlier connections included."""
        return self._past_usage + self.link.conn.usage if self.link is not None else self._past_usage

    def _set(self, **changes) -> None:
        new = replace(self.view, **changes)
        if new != self.view:
            self.view = new
            self._on_view(new)

    def _publish(self, transcript: bool = True) -> None:
        """Publish the derived parts of the view; ``transcript=False`` skips rebuilding the entries
        (audio-only event batches, ~20 a second, change no text)."""
        usage = self.usage()
        locked = self.link.conn.voice_locked if self.link is not None else self.view.voice_locked
        entries = self.transcript() if transcript else self.view.transcript
        self._set(transcript=entries, mic=self.mic.state, total_tokens=usage.total_tokens,
                  cost_usd=usage.cost(self._config.model) or 0.0, voice_locked=locked)

    def notify(self, sentence: str, level: str = "error", action: str | None = None) -> None:
        """Show one sentence in the banner (the log has the detail)."""
        log.info("= notice (%s): %s", level, sentence)
        self._set(notice=Notice(sentence, level, action))

    def dismiss_notice(self) -> None:
        self._set(notice=None)

    def _turn(self, event: TurnEvent) -> None:
        new, handled = step(TURN_TABLE, self.view.turn, event)
        if handled and new is not self.view.turn:
            log.debug("= turn %s -> %s (%s)", self.view.turn.value, new.value, event.value)
            self._set(turn=new)
        if new in (Turn.LISTENING, Turn.IDLE) and event in (
            TurnEvent.RESPONSE_FINISHED_HF, TurnEvent.RESPONSE_FINISHED_PTT
        ):
            self.responses_finished += 1
            self.idle.set()

    def _conn_state(self, event: ConnEvent, detail: str = "") -> None:
        new, handled = step(CONN_TABLE, self.view.connection, event)
        if handled:
            log.info("= connection %s -> %s %s", self.view.connection.value, new.value, detail)
            self._set(connection=new, connection_detail=detail)

    # --- intents: talking ---------------------------------------------------------------------

    def on_mic_frame(self, pcm16: bytes) -> None:
        """20 ms of microphone audio (called on the loop by the audio port)."""
        link = self.link
        if link is None or not self.mic.sending or link.conn.session is None or link.conn.closed:
            return
        payload = pcm16 if self._config.input_format.type == "audio/pcm" else self._encoder.encode(pcm16)
        if payload:
            link.conn.append_audio(payload)
            link.flush()

    def press_talk(self) -> None:
        """Push-to-talk pressed: stop the assistant if it talks, start a fresh input buffer."""
        before = self.mic
        self.mic = self.mic.transition("press")
        if self.mic == before or not self.mic.sending:
            return
        link = self.link
        if link is not None and not link.conn.closed and link.conn.session is not None:
            self._barge_in(server_cancels=False)
            link.conn.clear_audio()
            link.flush()
        self.audio.set_gate(True)
        self._turn(TurnEvent.SPEECH_STARTED)
        self._set(user_speaking=True)
        self._publish()

    def release_talk(self) -> None:
        """Push-to-talk released: commit and ask for an answer, or drop a too-short press."""
        if not self.mic.held:
            return
        self.mic = self.mic.transition("release")
        self.audio.set_gate(False)
        self._set(user_speaking=False)
        link = self.link
        if link is None or link.conn.closed or link.conn.session is None:
            self._turn(TurnEvent.RESPONSE_FINISHED_PTT)
        elif link.conn.can_commit:
            link.conn.commit_audio()
            link.conn.create_response()
            link.flush()
            self._awaiting_response = True
            self._turn(TurnEvent.SPEECH_STOPPED)
        else:
            heard = link.conn.appended_ms_since_commit
            link.conn.clear_audio()
            link.flush()
            self.notify("That was too short to send; hold the talk button while you speak.", "warning")
            log.info("= push-to-talk press of %.0f ms dropped (< 100 ms)", heard)
            self._turn(TurnEvent.SPEECH_STOPPED)
            self._turn(TurnEvent.RESPONSE_FINISHED_PTT)
        self._publish()

    def interrupt(self) -> None:
        """The Interrupt button: stop the assistant now and cancel its answer."""
        self._barge_in(server_cancels=False)
        self._publish()

    def send_text(self, text: str) -> None:
        """A typed message instead of speech; the assistant answers as usual."""
        text = text.strip()
        link = self.link
        if not text or link is None or link.conn.closed:
            return
        self._barge_in(server_cancels=False)
        link.conn.send_text(text)
        link.flush()
        self._awaiting_response = True
        self._turn(TurnEvent.SPEECH_STARTED)
        self._turn(TurnEvent.COMMITTED)
        self._publish()

    def set_muted(self, muted: bool) -> None:
        self.mic = self.mic.transition("mute" if muted else "unmute")
        self.audio.set_muted(muted)
        # The gate follows the mode: closed while muted, open again on unmute hands-free (it stayed
        # closed, and the microphone sent nothing until a reconnect), closed until pressed in PTT.
        self.audio.set_gate(self.mic.sending)
        self._publish()

    def _barge_in(self, *, server_cancels: bool) -> None:
        """Silence playback, truncate what was heard, and cancel unless the server does it itself."""
        link = self.link
        flushed = self.audio.flush()
        if link is None or link.conn.closed:
            return
        conn = link.conn
        if conn.active_response_id is not None:
            self._silenced.add(conn.active_response_id)
        # Cancel before truncating (§3.6 F2): a server only truncates an answer it has stopped making.
        if not server_cancels and conn.response_pending:
            conn.cancel_response()
        if flushed is not None:
            item_id, played_ms = flushed
            end = conn.truncate(item_id, played_ms)
            log.info("= barge-in: %s played %d ms, truncated at %s", item_id, played_ms, end)
            for unheard in self.audio.unheard():  # queued behind it, never sounded: nothing was heard
                conn.truncate(unheard, 0)
        link.flush()
        self._set(assistant_speaking=False)

    # --- intents: live session changes --------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """``hands_free`` or ``push_to_talk``; sends the turn-detection change to the server."""
        self.mic = self.mic.transition(mode)
        self.audio.set_gate(mode == "hands_free")
        td = turn_detection_from_vad(self.view.vad) if mode == "hands_free" else None
        self._request(replace(self._config, turn_detection=td))
        self._turn(TurnEvent.READY_HANDS_FREE if mode == "hands_free" else TurnEvent.READY_PTT)
        self._publish()

    def update_vad(self, **changes) -> None:
        """Slider moves: shown at once, sent to the server once they settle (debounced)."""
        vad = replace(self.view.vad, **changes)
        self._set(vad=vad)
        if self.mic.mode is MicMode.HANDS_FREE:
            self._request(replace(self._config, turn_detection=turn_detection_from_vad(vad)))

    def set_voice(self, voice: str) -> None:
        if self.link is not None and self.link.conn.voice_locked and voice != self._config.voice:
            self.notify("The voice cannot change after the assistant has spoken; "
                        "it applies to the next conversation.", "warning")
            self._set(voice=self._config.voice)
            return
        self._set(voice=voice)
        self._request(replace(self._config, voice=voice))

    def set_instructions(self, text: str) -> None:
        self._set(instructions=text)
        self._request(replace(self._config, instructions=text))

    def _request(self, config: SessionConfig) -> None:
        try:
            config.validate()
        except LocalUsageError as exc:
            self.notify(str(exc), "warning")
            self._rollback_view()
            return
        self._config = config
        if self._update_handle is not None:
            self._update_handle.cancel()
        loop = asyncio.get_running_loop()
        self._update_handle = loop.call_later(UPDATE_DEBOUNCE_S, self._send_update)

    def _send_update(self) -> None:
        self._update_handle = None
        link = self.link
        if link is None or link.conn.closed:
            return  # applied on the next connection
        try:
            event_id = link.conn.update_session(self._config)
        except LocalUsageError as exc:
            self.notify(str(exc), "warning")
            self._config = link.conn.session or self._config
            self._rollback_view()
            return
        if event_id is not None:
            self._update_ids.add(event_id)
        link.flush()

    def _rollback_view(self) -> None:
        """Show the server's effective session again after a refused change."""
        link = self.link
        effective = link.conn.session if link is not None else None
        if effective is None:
            return
        self._config = replace(self._config, voice=effective.voice, turn_detection=effective.turn_detection,
                               instructions=effective.instructions)
        self._set(voice=effective.voice, vad=vad_view_from_config(effective, self.view.vad),
                  instructions=effective.instructions or "")

    # --- ticking: meters, speaking indicators, end of turn -------------------------------------

    def _tick(self) -> None:
        self._tick_handle = None
        if self.link is None:
            return
        playing = self.audio.is_playing
        self._set(mic_level_dbfs=self.audio.mic_level_dbfs, output_level_dbfs=self.audio.output_level_dbfs,
                  assistant_speaking=playing)
        if playing:
            self._turn(TurnEvent.AUDIO_STARTED)
        self._false_start()
        self._check_turn_finished()
        self.maybe_recycle()
        self._tick_handle = asyncio.get_running_loop().call_later(TICK_S, self._tick)

    def _check_turn_finished(self) -> None:
        link = self.link
        if link is None or self.view.turn not in (Turn.WAITING, Turn.ASSISTANT_SPEAKING, Turn.COMMITTING):
            return
        if self._awaiting_response or link.conn.response_pending or self._tool_tasks or self.audio.is_playing:
            return
        if self.view.turn is Turn.COMMITTING:
            return  # the server has not taken the turn yet
        hands_free = self.mic.mode is MicMode.HANDS_FREE
        self._turn(TurnEvent.RESPONSE_FINISHED_HF if hands_free else TurnEvent.RESPONSE_FINISHED_PTT)

    def _decode(self, b64: str) -> bytes:
        raw = base64.b64decode(b64)
        return raw if self._config.output_format.type == "audio/pcm" else self._decoder.decode(raw)

