"""The metrics port: the moments only the controller sees, reported to whoever measures them.

The controller calls a :class:`Metrics` (the app's observatory implements it; :class:`NoMetrics`
is the default) through :class:`MetricsTap`, a part that reads those moments off what the controller
already does, so no other part changes for it:

==================================  =====================================================================
moment                              where the tap sees it
==================================  =====================================================================
end of the user's speech            the turn leaves "user speaking" for an answer (server VAD's
                                    ``speech_stopped``, the talk key let go, a typed message), reported
                                    once the turn is committed, with the time the speech ended
first audio delta                   an ``OutputAudioDelta`` of an answer that is not silenced (over a
                                    media transport: ``output_audio_buffer.started``, the answer's audio
                                    item named by its ``response.content_part.added``)
first sample played                 the port's played position of that item moves (polled every
                                    :data:`WATCH_S`: a device takes a whole block at once, so the moment
                                    seen is when the block was taken, not "now minus what played")
response done                       ``ResponseDone``
barge-in starts / silence after it  the controller interrupts while audio plays / the port stops playing
connection state, session expiry    the view's ``connection`` (+ detail) and ``session_expires_at``
link statistics, ping round trip    ``Transport.stats()`` once on connecting, then every :data:`PING_SAMPLE_S`
                                    while connected: all of it to ``link_stats`` (over WebRTC: RTCP round trip,
                                    jitter, loss both ways, bitrate), its ``rtt_ms`` also to ``ping``
==================================  =====================================================================

Times are ``time.monotonic()`` seconds (the loop's clock). The tap polls the port only while it
waits for a first sample or for silence (every :data:`WATCH_S`, at most :data:`WATCH_LIMIT_S`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from desktop_app.controller.audio_port import AudioPort
from desktop_app.controller.states import Conn, Turn
from desktop_app.controller.view import ViewModel
from desktop_app.realtime.response_events import ContentPartAdded, OutputAudioBufferStarted, OutputAudioDelta, ResponseDone
from desktop_app.transport.base import Transport, TransportStats

#: How often the transport's statistics (and ping round trip) are sampled while connected (seconds).
PING_SAMPLE_S = 5.0
#: Polling step while a first sample or the silence after a barge-in is awaited (seconds).
WATCH_S = 0.005
#: Stop waiting for either after this long (a paused or broken output never keeps a timer running).
WATCH_LIMIT_S = 5.0


class Metrics(Protocol):
    """What the controller reports. Every method must return at once and never raise."""

    def speech_stopped(self, at: float | None = None) -> None:
        """The user's speech ended and the turn was committed (``at``: when the speech ended)."""

    def first_audio_delta(self, at: float | None = None) -> None:
        """Audio of the answer arrived (called for each delta; the first of a turn counts)."""

    def first_sample_played(self, at: float | None = None) -> None:
        """The answer's first sample was handed to the speaker."""

    def response_done(self, at: float | None = None) -> None:
        """A ``response.done`` arrived."""

    def barge_in(self, at: float | None = None) -> None:
        """The user started talking over the assistant (playback is being cut)."""

    def silence(self, at: float | None = None) -> None:
        """The speaker went silent after a barge-in."""

    def connection_state(self, state: str, detail: str = "") -> None:
        """The connection entered ``state`` (a :class:`~.states.Conn` value)."""

    def session_expiry(self, expires_at: float | None) -> None:
        """When the session will end (unix seconds, as the controller judged it)."""

    def ping(self, rtt_s: float | None) -> None:
        """One sample of the transport's ping round trip (seconds)."""

    def link_stats(self, stats: TransportStats) -> None:
        """One sample of the transport's statistics (what applies to its kind; the rest None)."""


class NoMetrics:
    """Measures nothing (headless mode, tests)."""

    def speech_stopped(self, at: float | None = None) -> None:
        pass

    def first_audio_delta(self, at: float | None = None) -> None:
        pass

    def first_sample_played(self, at: float | None = None) -> None:
        pass

    def response_done(self, at: float | None = None) -> None:
        pass

    def barge_in(self, at: float | None = None) -> None:
        pass

    def silence(self, at: float | None = None) -> None:
        pass

    def connection_state(self, state: str, detail: str = "") -> None:
        pass

    def session_expiry(self, expires_at: float | None) -> None:
        pass

    def ping(self, rtt_s: float | None) -> None:
        pass

    def link_stats(self, stats: TransportStats) -> None:
        pass


class MetricsTap:
    """Reads the moments off the controller's events, view and audio port, and reports them."""

    def __init__(self, metrics: Metrics, *, audio: AudioPort, view: ViewModel,
                 silenced: Callable[[str | None], bool], transport: Callable[[], Transport | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics = metrics
        self._audio = audio
        self._view = view
        self._silenced = silenced
        self._transport = transport
        self._clock = clock
        state = view.state
        self._turn = state.turn
        self._conn = (state.connection, state.connection_detail)
        self._expires = state.session_expires_at
        self._speech_end: float | None = None
        self._play_item: str | None = None  # the answer whose first sample is awaited
        self._audio_items: dict[str, str] = {}  # response id -> its audio item (media transports)
        self._played_seen = False  # this turn's first sample was reported
        self._barge_at: float | None = None
        self._watch_since = 0.0
        self._watch: asyncio.TimerHandle | None = None
        self._pinger: asyncio.Handle | None = None
        view.watch(self._view_changed)

    # --- what the controller hands over --------------------------------------------------------
    def events(self, events: list[Any]) -> None:
        """A batch of server events, before the router acts on them."""
        for event in events:
            kind = type(event)
            if kind is OutputAudioDelta and not self._silenced(event.response_id):
                self._audio_arrived(event.item_id)
            elif kind is ContentPartAdded and event.part.get("type") == "audio":
                self._audio_items[event.response_id] = event.item_id
            elif kind is OutputAudioBufferStarted and not self._silenced(event.response_id):
                self._audio_arrived(self._audio_items.pop(event.response_id, None))
            elif kind is ResponseDone:
                self.metrics.response_done()

    def _audio_arrived(self, item_id: str | None) -> None:
        self.metrics.first_audio_delta()
        if self._play_item is None and not self._played_seen and item_id is not None:
            self._play_item = item_id
            self._start_watch()

    def interrupting(self) -> None:
        """The controller is about to cut playback: a barge-in if anything is playing."""
        if self._audio.is_playing and self._barge_at is None:
            self._barge_at = self._clock()
            self.metrics.barge_in(self._barge_at)
            self._start_watch()

    def stop(self) -> None:
        """The controller closes: no timers left behind."""
        for handle in (self._watch, self._pinger):
            if handle is not None:
                handle.cancel()
        self._watch = self._pinger = None

    # --- the view ------------------------------------------------------------------------------
    def _view_changed(self) -> None:
        state = self._view.state
        if state.turn is not self._turn:
            self._turn_changed(self._turn, state.turn)
            self._turn = state.turn
        conn = (state.connection, state.connection_detail)
        if conn != self._conn:
            self._conn = conn
            self.metrics.connection_state(state.connection.value, state.connection_detail)
            self._ping_sampling(state.connection is Conn.CONNECTED)
        if state.session_expires_at != self._expires:
            self._expires = state.session_expires_at
            self.metrics.session_expiry(self._expires)

    def _turn_changed(self, before: Turn, after: Turn) -> None:
        if before is Turn.USER_SPEAKING and after is Turn.COMMITTING:
            self._speech_end = self._clock()  # reported once the server takes the turn
        elif after is Turn.WAITING and before in (Turn.USER_SPEAKING, Turn.COMMITTING):
            at = self._speech_end if before is Turn.COMMITTING and self._speech_end is not None else self._clock()
            self._speech_end = None
            self._play_item, self._played_seen, self._barge_at = None, False, None
            self.metrics.speech_stopped(at)
        elif after is not Turn.COMMITTING:
            self._speech_end = None  # a press too short to send, a commit refused: no turn

    # --- polling the port while a moment is awaited --------------------------------------------
    def _start_watch(self) -> None:
        self._watch_since = self._clock()
        if self._watch is None:
            self._watch = asyncio.get_running_loop().call_later(WATCH_S, self._check)

    def _check(self) -> None:
        self._watch = None
        now = self._clock()
        if self._play_item is not None and self._audio.played_ms(self._play_item) > 0:
            self.metrics.first_sample_played(now)
            self._play_item, self._played_seen = None, True
        if self._barge_at is not None and not self._audio.is_playing:
            self.metrics.silence(now)
            self._barge_at = None
        if now - self._watch_since > WATCH_LIMIT_S:
            self._play_item = self._barge_at = None
        if self._play_item is not None or self._barge_at is not None:
            self._watch = asyncio.get_running_loop().call_later(WATCH_S, self._check)

    # --- pings ---------------------------------------------------------------------------------
    def _ping_sampling(self, on: bool) -> None:
        if on and self._pinger is None:  # a first sample at once: the monitor learns the transport's kind
            self._pinger = asyncio.get_running_loop().call_soon(self._sample_ping)
        elif not on and self._pinger is not None:
            self._pinger.cancel()
            self._pinger = None

    def _sample_ping(self) -> None:
        transport = self._transport()
        if transport is not None and transport.is_open:
            stats = transport.stats()
            self.metrics.link_stats(stats)
            if stats.rtt_ms is not None:
                self.metrics.ping(stats.rtt_ms / 1000.0)
        self._pinger = asyncio.get_running_loop().call_later(PING_SAMPLE_S, self._sample_ping)
