"""The conversation controller: wiring only. It owns the parts and routes between them.

Intents (the UI's and headless mode's calls) become commands on the protocol core and the audio
port; server events go through the :class:`~.routing.EventRouter` to the parts that own each
decision (docs/architecture.md §3); every change ends in one immutable :class:`ViewState`. The
seams: a :class:`~desktop_app.transport.base.Transport` opened by a factory, a
:class:`~desktop_app.realtime.dialect.Dialect` core (its declared traits say what differs), and a
:class:`~.metrics.Metrics` that hears the moments of each turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop_app.audio.codecs import Decoder, Encoder
from desktop_app.controller.audio_port import AudioPort
from desktop_app.controller.barge_in import BargeIn
from desktop_app.controller.config import vad_view_from_config
from desktop_app.controller.composer import Composer
from desktop_app.controller.echo_judge import EchoJudge
from desktop_app.controller.link import Link
from desktop_app.controller.media_voice import MediaVoice
from desktop_app.controller.metrics_guard import GuardedMetrics
from desktop_app.controller.metrics import Metrics, MetricsTap, NoMetrics
from desktop_app.controller.microphone import Microphone
from desktop_app.controller.reconnector import Reconnector, Target
from desktop_app.controller.record import NOTHING_EARLIER, ConversationRecord, Earlier
from desktop_app.controller.routing import EventRouter, Parts, Wiring
from desktop_app.controller.session_editor import SessionEditor
from desktop_app.controller.spend_hold import SpendHold
from desktop_app.controller.states import MicMachine, MicMode, Turn
from desktop_app.controller.ticker import Ticker
from desktop_app.controller.tool_slot import ToolSlot
from desktop_app.controller.turns import TurnKeeper
from desktop_app.controller.view import ViewModel
from desktop_app.controller.view_state import TranscriptEntry, VadView, ViewState
from desktop_app.log import get_logger
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.dialect import Dialect, DialectFactory
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.realtime.usage import Usage
from desktop_app.tasks import INTERNAL_ERROR
from desktop_app.tools import ToolBox
from desktop_app.transport.base import FrameObserver, Transport, TransportFactory
from desktop_app.transport.socket import open_websocket

log = get_logger("controller")

__all__ = ["Controller", "Earlier", "Target"]


class Controller:
    """One conversation, across reconnects. Use it from the event loop only."""

    def __init__(self, *, target: Target, audio: AudioPort, config: SessionConfig, vad: VadView | None = None,
                 on_view: Callable[[ViewState], None] = lambda view: None, frame_observer: FrameObserver | None = None,
                 tools: ToolBox | None = None, max_retries: int = 5, endpoint_label: str = "",
                 open_transport: TransportFactory = open_websocket,
                 make_core: DialectFactory = RealtimeConnection, metrics: Metrics | None = None,
                 replay: Earlier = NOTHING_EARLIER) -> None:
        self.audio = audio
        mode = MicMode.PUSH_TO_TALK if config.push_to_talk else MicMode.HANDS_FREE
        self._view = ViewModel(ViewState(
            mic=MicMachine(mode=mode).state, model=config.model, voice=config.voice, instructions=config.instructions or "",
            vad=vad or vad_view_from_config(config, VadView()), endpoint_label=endpoint_label,
            reconnect_limit=max_retries, traits=make_core.traits), on_view)
        self.wait_for = self._view.wait_for  # until a predicate on the view holds (no polling)
        self.watch = self._view.watch  # a callback after every view change
        self._turns = TurnKeeper(self._view)
        self._echo = EchoJudge()
        self._media = MediaVoice(audio, lambda: self.connection.core, lambda rid: self._barge.is_silenced(rid))
        self._barge = BargeIn(audio, self._media)
        self.connection = Reconnector(
            target=target, open_transport=open_transport, make_core=make_core, view=self._view,
            on_events=self._route, on_link=self._link_opened, on_dead=self._link_died,
            observer=frame_observer, max_retries=max_retries)

        def core() -> Dialect | None:
            return self.connection.core

        def transport() -> Transport | None:
            return self.connection.link.transport if self.connection.link is not None else None

        self.ticker = Ticker(lambda: None if (open_core := core()) is None else self._router.tick(open_core))
        self._editor = SessionEditor(config, self._view, core, self._flush, answering=lambda: not self.settled)
        self._mic = Microphone(
            audio=audio, view=self._view, turns=self._turns, mode=mode, core=core, transport=transport,
            flush=self._flush, interrupt=self._interrupt,
            encoder=None if config.input_format.type == "audio/pcm" else Encoder(config.input_format.type))
        self._tools = self.tools = ToolSlot(tools, core, self._flush, self._view,
                                            lambda exc: self._router.tools_crashed(exc), self._publish,
                                            session_open=self.connection.connected, carry=self.connection.carry)
        self._record = ConversationRecord(replay.entries, self._barge.heard_ms)  # a continued one shows its saved lines
        self._composer = Composer(core=core, view=self._view, turns=self._turns, interrupt=self._interrupt,
                                  flush=self._flush)
        self._router: EventRouter = EventRouter(
            Parts(audio, self._view, self._turns, self._echo, self._barge, self._editor, self.connection,
                  self._tools, self._record, self._media),
            Wiring(hands_free=lambda: self._mic.mode is MicMode.HANDS_FREE, interrupt=self._interrupt, flush=self._flush,
                   start_ticking=self.ticker.start, publish=self._publish, keep_clock=self._mic.keep_clock),
            None if config.output_format.type == "audio/pcm" else Decoder(config.output_format.type))
        self._metrics = MetricsTap(GuardedMetrics(metrics or NoMetrics()), audio=audio, view=self._view,
                                   silenced=self._barge.is_silenced, transport=transport)
        self.spending = self._spend = SpendHold(self._mic, self._view, core, self._flush, self._barge.silence,
                                                self.connection)
        self._audio_started = False
        self.connection.keep(list(replay.items))  # replayed into the first session, as after a reconnect
        self._publish()

    # --- what the UI and headless mode read ---------------------------------------------------
    @property
    def view(self) -> ViewState:
        return self._view.state

    @property
    def mode(self) -> MicMode:
        return self._mic.mode

    @property
    def config(self) -> SessionConfig:
        """The session asked for (the server's own is :attr:`effective_session`)."""
        return self._editor.config

    @property
    def effective_session(self) -> SessionConfig | None:
        return self.connection.core.session if self.connection.core is not None else None

    @property
    def voice_locked(self) -> bool:
        core = self.connection.core
        return core.voice_locked if core is not None else self.view.voice_locked

    @property
    def settled(self) -> bool:
        """Connected, between turns: no answer asked for, in progress, or still playing."""
        core = self.connection.core
        return (self.view.turn in (Turn.LISTENING, Turn.IDLE) and core is not None and not core.response_pending
                and not self._turns.awaiting_response and not self._tools.busy and not self.audio.is_playing)

    def transcript(self) -> tuple[TranscriptEntry, ...]:
        """Every entry of this conversation, earlier connections included."""
        return self._tools.annotate(self._record.transcript(self.connection.core, self.connection.replayed_ids,
                                                            self._echo.echo_items))

    def usage(self) -> Usage:
        """Tokens of the whole conversation, earlier connections included."""
        return self._record.usage(self.connection.core)

    # Read-through state (headless exit codes, tests); the connection's life is ``self.connection``.
    idle = property(lambda self: self._turns.idle)
    responses_finished = property(lambda self: self._turns.responses_finished)
    closed_event = property(lambda self: self.connection.closed_event)
    fatal_error = property(lambda self: self.connection.fatal_error)

    # --- connecting ---------------------------------------------------------------------------
    async def connect(self) -> None:
        """Open a session (see :meth:`Reconnector.connect` for what raises)."""
        await self.connection.connect()

    async def close(self) -> None:
        """End the session politely and stop the audio. The transcript stays in the view."""
        self._editor.cancel()
        self._tools.stop()
        await self.connection.close()
        self.ticker.stop()
        self._metrics.stop()
        self.audio.stop()
        self._audio_started = False

    def abort(self) -> None:
        """Stop the connection's tasks at once (the loop is going away)."""
        self.connection.abort()

    def _link_opened(self, link: Link) -> None:
        self._editor.opened(link.core)
        self._media.attach(link.transport)
        if not self._audio_started:
            self.audio.set_onset_callback(self._router.local_onset)
            self.audio.start(self._mic.frame)
            self.audio.set_gate(not self.config.push_to_talk)
            self._audio_started = True

    def _link_died(self, exc: BaseException) -> None:
        """A reader or writer task crashed: tell the user, and treat it as a dropped connection."""
        self._view.notify(f"{INTERNAL_ERROR} Reconnecting…", "warning", cause="internal")
        if (core := self.connection.core) is not None:
            self._route(core.events_received())  # the 1011 close the link gave the core

    def _route(self, events: list[Any]) -> None:
        self._metrics.events(events)
        self._spend.events(events)  # an answer started while spending is stopped is cancelled first
        self._router.route(events)

    def _flush(self) -> None:
        if self.connection.link is not None:
            self.connection.link.flush()

    # --- intents: talking ---------------------------------------------------------------------
    def press_talk(self) -> None:
        """Push-to-talk pressed: the assistant falls silent; held long enough, it is the user's turn."""
        self._mic.press()
        self._publish()

    def release_talk(self) -> None:
        """Push-to-talk released: commit and ask for an answer, or drop a too-short press."""
        self._mic.release()
        self._publish()

    def interrupt(self) -> None:
        """The Interrupt button: stop the assistant now and cancel its answer (GPT-Live: ask it to stop)."""
        self._interrupt(False, stop=True)
        self._publish()

    def send_text(self, text: str) -> None:
        """A typed message instead of speech; the assistant answers as usual."""
        if text.strip() and not self._spend.refuses():
            self._composer.send_text(text)
        self._publish()

    def send_image(self, data: bytes, mime: str, text: str = "") -> str | None:
        """An image into the conversation (answered now when ``text`` says something about it)."""
        item_id = None if self._spend.refuses() else self._composer.send_image(data, mime, text)
        self._publish()
        return item_id

    def set_muted(self, muted: bool) -> None:
        if muted or not self._spend.refuses():  # the spending limit keeps it off until the user agrees
            self._mic.set_muted(muted)
        self._publish()

    def suspend(self, reason: str, on: bool = True) -> None:
        """Nothing is sent to the assistant and its audio waits while ``reason`` (the microphone
        test, the room calibration) lasts; ``suspend(reason, False)`` resumes exactly as before."""
        self._mic.suspend(reason, on)

    def _interrupt(self, server_cancels: bool, stop: bool = False) -> None:
        """Barge in: silence, truncate what was heard, cancel (unless the server does), stop tools."""
        self._metrics.interrupting()
        self._tools.barge_in()
        self._barge.interrupt(self.connection.core, server_cancels=server_cancels, stop=stop)
        self._flush()
        self._view.set(assistant_speaking=False)

    # --- intents: live session changes --------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """``hands_free`` or ``push_to_talk``; sends the turn-detection change to the server."""
        self._mic.set_mode(mode)
        self._editor.set_turn_detection(mode == "hands_free")
        self._turns.ready(mode == "hands_free")
        self._publish()

    def update_vad(self, **changes: Any) -> None:
        """Slider moves: shown at once, sent to the server once they settle (debounced)."""
        self._editor.update_vad(send=self._mic.mode is MicMode.HANDS_FREE, **changes)

    def set_voice(self, voice: str) -> None:
        self._editor.set_voice(voice, locked=self.voice_locked)

    def set_instructions(self, text: str) -> None:
        self._editor.set_instructions(text)

    def set_session_options(self, **changes: Any) -> None:
        """``reasoning_effort``, ``noise_reduction``, ``speed`` (the speed waits for the answer to end)."""
        self._editor.set_options(**changes)

    def set_tools(self, config: SessionConfig) -> None:
        """``config``'s tools, tool choice and parallel calls (the Tools tab changed), sent live."""
        self._editor.set_tools(config)

    def clear_conversation(self) -> None:
        """Start a new conversation: the transcript empties and nothing said so far reaches the
        model again (a connected session is replaced by a fresh, empty one)."""
        self._interrupt(False)
        self._record.clear(self.connection.core)
        self.connection.forget_conversation()
        self._record.clearing = self.connection.recycle_now()
        self._publish()

    # --- the banner ---------------------------------------------------------------------------
    def notify(self, sentence: str, level: str = "error", action: str | None = None,
               cause: str | None = None) -> None:
        """Show one sentence in the banner (the log has the detail)."""
        self._view.notify(sentence, level, action, cause)

    def resolve_notice(self, *causes: str) -> None:
        """What a notice reported is over: clear it."""
        self._view.resolve(*causes)

    def dismiss_notice(self) -> None:
        self._view.dismiss()

    def _publish(self, text_changed: bool = True) -> None:
        """Publish the derived parts of the view; ``text_changed=False`` skips rebuilding the
        transcript (audio-only event batches, ~20 a second, change no text)."""
        self.ticker.wake()
        usage = self.usage()
        self._view.set(transcript=self.transcript() if text_changed else self.view.transcript,
                       mic=self._mic.machine.state, total_tokens=usage.total_tokens, usage_seconds=usage.live_seconds,
                       cost_usd=usage.cost(self.config.model), voice_locked=self.voice_locked)
