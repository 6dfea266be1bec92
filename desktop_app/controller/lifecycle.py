"""Connection lifecycle of the controller (a mixin of :class:`Controller`).

* ``connect()`` opens a socket and a fresh protocol core; ``session.created`` completes it.
* A retryable loss (1006, 1011, timeouts, rate limits) reconnects with backoff (0.5 s × 2, cap 8 s,
  jitter, ``max_retries`` tries), visible in the view as "reconnecting n/5".
* A fatal close (bad key 3000, shape 4000, quota) is reported once and never retried.
* ``session_expired`` and the 60-minute limit recycle the session: shortly before the limit, between
  turns, a new session starts. Either way the conversation carries over: the session config is
  re-applied and the earlier turns are replayed as text items, so the model keeps its context and the
  person's transcript stays whole.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING

from desktop_app.controller.states import ConnEvent, Turn, TurnEvent
from desktop_app.errors import ConnectionLost, ParleyError
from desktop_app.log import get_logger
from desktop_app.realtime.classify import Severity
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.events import ConnectionClosed
from desktop_app.transport import RealtimeSocket, backoff

if TYPE_CHECKING:
    from desktop_app.controller.controller import Controller

log = get_logger("controller")

#: Recycle this long before the server's session limit, at the first moment between turns.
RECYCLE_MARGIN_S = 120.0
#: The service's documented session lifetime, assumed when the server's expires_at is implausible.
SESSION_LIMIT_S = 3600.0
#: A session younger than this is never recycled (no refresh storms, whatever the clocks say).
MIN_SESSION_AGE_S = 60.0


class Lifecycle:
    """Connect, close, reconnect, recycle."""

    def _init_lifecycle(self: Controller) -> None:
        self._closing = False
        self._reconnect_task: asyncio.Task | None = None
        self._update_ids: set[str] = set()
        self._echo_items: frozenset[str] = frozenset()
        self._echo_suspects: set[str] = set()  # speech_started items ignored as echo
        self._over_playback: set[str] = set()  # user items whose speech started while the assistant played
        self._answers: dict[str, str | None] = {}  # response id → the newest user item when it was created
        self._local_onset_at: float | None = None  # a local barge-in the server's VAD has not confirmed yet
        self._protocol_warned = False
        self._replay: list[dict] = []
        self._replayed_ids: set[str] = set()
        self._recycle_pending = False
        self._audio_started = False
        self.last_close: ConnectionClosed | None = None
        self.backoff = backoff  # tests inject faster delays; the policy itself stays 0.5 s × 2 … 8 s
        self.clock = time.time  # wall clock, compared with the server's expires_at
        self.offer_demo = False  # set by the GUI when the endpoint is not the offline demo itself
        self._session_started = 0.0
        self.fatal_code: str | None = None

    async def connect(self: Controller) -> None:
        """Open a session. Raises the typed error when the first attempt fails fatally or
        retries are off; otherwise failures move to "reconnecting" and retry in the background."""
        self._closing = False
        self.fatal_error = None
        self._conn_state(ConnEvent.CONNECT)
        try:
            await self._open_link()
        except ConnectionLost as exc:
            if exc.offline and self.offer_demo:
                # Starting without a network: say so, and offer what works offline.
                self._fail("You seem to be offline. Try the offline demo, or connect again when "
                           "the network is back.", "demo")
                raise
            if self.max_retries <= 0:
                self._fail(exc.user_message, "retry")
                raise
            self._conn_state(ConnEvent.LOST, exc.user_message)
            self._start_reconnect()
        except ParleyError as exc:
            if exc.fatal or self.max_retries <= 0:
                self._fail(exc.user_message, "settings" if exc.fatal else "retry")
                raise
            self._conn_state(ConnEvent.LOST, exc.user_message)
            self._start_reconnect()

    async def close(self: Controller) -> None:
        """End the session politely and stop the audio. The transcript stays in the view."""
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        if self._update_handle is not None:
            self._update_handle.cancel()
        link = self.link
        if link is not None:
            await link.close()
        if self._tick_handle is not None:
            self._tick_handle.cancel()
            self._tick_handle = None
        self.audio.stop()
        self._audio_started = False
        self._conn_state(ConnEvent.CLOSE)
        self.closed_event.set()

    async def _open_link(self: Controller) -> None:
        from desktop_app.controller.link import Link

        url, headers = await self._target()
        sock = await RealtimeSocket.open(url, headers, observer=self._observer)
        conn = RealtimeConnection()
        conn.update_session(self._config)  # held by the core until session.created
        self._update_ids.clear()
        self.link = Link(sock, conn, self._on_events)
        if not self._audio_started:
            hook = getattr(self.audio, "set_onset_callback", None)
            if hook is not None:
                hook(self._local_onset)
            self.audio.start(self.on_mic_frame)
            self.audio.set_gate(not self.config.push_to_talk)
            self._audio_started = True

    def _session_opened(self: Controller) -> None:
        """``session.created``: carry the earlier conversation into this session."""
        link = self.link
        if link is None or not self._replay:
            return
        for item in self._replay:
            item_id = f"item_rp{secrets.token_hex(8)}"
            self._replayed_ids.add(item_id)
            link.conn.create_item(dict(item, id=item_id))
        log.info("= replayed %d earlier items into the new session", len(self._replay))
        self._replay = []
        link.flush()

    def _connection_closed(self: Controller, event: ConnectionClosed) -> None:
        link = self.link
        verdict = event.classification
        self.last_close = event
        if link is not None:
            # Keep what was said: it stays on screen and is replayed into the next session.
            self._history = self.transcript()
            self._past_usage = self.usage()
            # Replayed items of this session are in its conversation already (as text), and a replay
            # that never got sent is still in _replay: together they are the whole conversation.
            # The model gets back what the user heard of an interrupted answer, and never an echo.
            heard = {e.item_id: e.heard or "" for e in self._history if e.role == "assistant" and e.truncated}
            self._replay = self._replay + link.conn.conversation.replay_items(heard, skip=self._echo_items)
            self.link = None
            # Per-connection bookkeeping: its responses and items end with it.
            self._silenced.clear()
            self._echo_suspects.clear()
            self._over_playback.clear()
            self._answers.clear()
            self._local_onset_at = None
        self._set(assistant_speaking=False, user_speaking=False)
        self._turn(TurnEvent.DISCONNECTED)
        recycle = self._recycle_pending or verdict.severity is Severity.RECYCLE
        if self._closing or (verdict.severity is Severity.NORMAL and not recycle):
            self._conn_state(ConnEvent.CLOSED)
            self.closed_event.set()
            return
        retryable = recycle or verdict.severity is Severity.RETRYABLE
        if retryable and self.max_retries > 0 and self.fatal_error is None:
            self._recycle_pending = False
            if recycle:  # planned: a fresh session at once, no backoff
                self._conn_state(ConnEvent.RECYCLE, "refreshing session")
                self._conn_state(ConnEvent.LOST, "refreshing session")  # closed before session.created
            else:
                self._conn_state(ConnEvent.LOST, verdict.user_message)
            self._start_reconnect(immediate=recycle)
            return
        self._fail(self.fatal_error or verdict.user_message, "retry" if not verdict.fatal else "settings")

    def _fail(self: Controller, sentence: str, action: str) -> None:
        self.fatal_error = sentence
        self._conn_state(ConnEvent.FATAL, sentence)
        self.notify(sentence, "error", action)
        self.closed_event.set()

    def _start_reconnect(self: Controller, immediate: bool = False) -> None:
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.ensure_future(self._reconnect(immediate))

    async def _reconnect(self: Controller, immediate: bool = False) -> None:
        delays = self.backoff(tries=self.max_retries)
        for attempt, delay in enumerate(delays, 1):
            detail = "refreshing session" if immediate and attempt == 1 else (
                f"reconnecting {attempt}/{self.max_retries}")
            self._conn_state(ConnEvent.RETRY, detail)
            self._set(reconnect_attempt=attempt)
            await asyncio.sleep(0 if immediate and attempt == 1 else delay)
            try:
                await self._open_link()
                return
            except ConnectionLost as exc:
                log.info("= reconnect %d/%d failed: %s", attempt, self.max_retries, exc.user_message)
                if exc.fatal:
                    self._fail(exc.user_message, "settings")
                    return
            except ParleyError as exc:
                self._fail(exc.user_message, "settings")
                return
        self._fail(f"Could not reconnect after {self.max_retries} tries; check your network, "
                   "then press Retry.", "retry")

    def _schedule_tick(self: Controller) -> None:
        if self._tick_handle is None:
            self._tick_handle = asyncio.get_running_loop().call_later(0.05, self._tick)

    def _local_deadline(self: Controller, expires_at: object) -> float:
        """The session's end on *this* computer's clock.

        ``expires_at`` is the server's wall clock. A value in the past or beyond two hours means the
        clocks disagree (or the value is stale), so the documented 60 minutes from now is used.
        """
        now = self.clock()
        self._session_started = now
        if isinstance(expires_at, int | float) and now < expires_at <= now + 2 * SESSION_LIMIT_S:
            return float(expires_at)
        if expires_at is not None:
            log.info("= expires_at %r is implausible against the local clock; assuming %d s",
                     expires_at, SESSION_LIMIT_S)
        return now + SESSION_LIMIT_S

    def maybe_recycle(self: Controller, now: float | None = None) -> bool:
        """Between turns and close to the session limit, start a fresh session (same conversation)."""
        expires = self.view.session_expires_at
        link = self.link
        if (link is None or expires is None or self._recycle_pending or self.max_retries <= 0
                or self.view.turn not in (Turn.LISTENING, Turn.IDLE) or self.audio.is_playing
                or link.conn.response_pending):
            return False
        now = now or self.clock()
        if now < expires - RECYCLE_MARGIN_S or now - self._session_started < MIN_SESSION_AGE_S:
            return False
        log.info("= recycling the session before its time limit")
        self._recycle_pending = True
        asyncio.ensure_future(link.close(1000))
        return True

