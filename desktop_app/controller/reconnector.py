"""The reconnector: the connection's life — connect, close, reconnect with backoff, planned refresh,
and carrying the conversation into each new session.

* ``connect()`` opens a transport and a fresh protocol core; the session starting completes it.
* A retryable loss (1006, 1011, timeouts, rate limits) reconnects with backoff (0.5 s × 2, cap 8 s,
  jitter, ``max_retries`` tries), shown as "reconnecting n/5".
* A fatal close (bad key 3000, shape 4000, quota) is reported once and never retried.
* ``session_expired`` and the 60-minute limit recycle the session: shortly before the limit, between
  turns, a new session starts at once. Either way the conversation carries over: the session config
  is re-applied and the earlier turns are replayed as text items (:meth:`Reconnector.keep`) — or, for a
  dialect that takes them only at the start (``context_seed``, GPT-Live), given to the new core before
  its session starts. The same rules either way: what the user heard of an interrupted answer, no echo.

The connection state machine (:data:`~.states.CONN_TABLE`) is stepped here and only here.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from desktop_app.controller.link import Link
from desktop_app.controller.states import CONN_TABLE, ConnEvent, step
from desktop_app.controller.view import ViewModel
from desktop_app.errors import ConnectionLost, ParleyError
from desktop_app.log import get_logger
from desktop_app.realtime.classify import Severity
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.events import ConnectionClosed, ServerEvent
from desktop_app.tasks import spawn
from desktop_app.transport import backoff
from desktop_app.transport.base import Endpoint, FrameObserver, TransportFactory

log = get_logger("controller")

#: Recycle this long before the server's session limit, at the first moment between turns.
RECYCLE_MARGIN_S = 120.0
#: The service's documented session lifetime, assumed when the server's expires_at is implausible.
SESSION_LIMIT_S = 3600.0
#: A session younger than this is never recycled (no refresh storms, whatever the clocks say).
MIN_SESSION_AGE_S = 60.0

Target = Callable[[], Awaitable[tuple[str, dict[str, str]]]]
"""Returns ``(url, headers)`` for the next connection (may mint an ephemeral key)."""


class Reconnector:
    """Owns the current :class:`Link` and every decision about opening and closing one."""

    def __init__(
        self,
        *,
        target: Target,
        open_transport: TransportFactory,
        make_core: Callable[[], Dialect],
        view: ViewModel,
        on_events: Callable[[list[ServerEvent]], None],
        on_link: Callable[[Link], None],
        on_dead: Callable[[BaseException], None],
        observer: FrameObserver | None,
        max_retries: int,
    ) -> None:
        self._target = target
        self._open_transport = open_transport
        self._make_core = make_core
        self._view = view
        self._on_events = on_events
        self._on_link = on_link
        self._on_dead = on_dead
        self._observer = observer
        self.max_retries = max_retries
        self.link: Link | None = None
        self.backoff: Callable[..., Iterator[float]] = backoff  # tests inject faster delays
        self.clock: Callable[[], float] = time.time  # wall clock, compared with the server's expires_at
        self.offer_demo = False  # set by the GUI when the endpoint is not the offline demo itself
        self.fatal_error: str | None = None
        self.fatal_code: str | None = None
        self.last_close: ConnectionClosed | None = None
        self.closed_event = asyncio.Event()
        self.connected = asyncio.Event()  # set while a session is open
        self.closing = False
        self.recycle_pending = False
        self.replayed_ids: set[str] = set()
        self._replay: list[dict[str, Any]] = []
        self._seeded: list[dict[str, Any]] = []  # what the open session was started with (context_seed)
        self._unanswered = False  # the last connection ended before the answer to the user's words
        self._task: asyncio.Task[None] | None = None
        self._session_started = 0.0

    @property
    def core(self) -> Dialect | None:
        return self.link.core if self.link is not None else None

    def state(self, event: ConnEvent, detail: str = "") -> None:
        """Step the connection machine (ignored events change nothing)."""
        before = self._view.state.connection
        new, handled = step(CONN_TABLE, before, event)
        if handled:
            log.info("= connection %s -> %s %s", before.value, new.value, detail)
            self._view.set(connection=new, connection_detail=detail)
        if event is ConnEvent.OPENED:
            self.connected.set()
        elif event in (ConnEvent.LOST, ConnEvent.FATAL, ConnEvent.CLOSE, ConnEvent.CLOSED, ConnEvent.RECYCLE):
            self.connected.clear()

    # --- opening ------------------------------------------------------------------------------
    async def connect(self) -> None:
        """Open a session. Raises the typed error when the first attempt fails fatally or retries
        are off; otherwise failures move to "reconnecting" and retry in the background."""
        self.closing = False
        self.fatal_error = None
        self.closed_event.clear()
        self.state(ConnEvent.CONNECT)
        try:
            await self._open_link()
        except ConnectionLost as exc:
            if exc.offline and self.offer_demo:
                # Starting without a network: say so, and offer what works offline.
                self.fail("You seem to be offline. Try the offline demo, or connect again when the network "
                          "is back.", "demo")
                raise
            if self.max_retries <= 0:
                self.fail(exc.user_message, "retry")
                raise
            self.state(ConnEvent.LOST, exc.user_message)
            self._start()
        except ParleyError as exc:
            if exc.fatal or self.max_retries <= 0:
                self.fail(exc.user_message, "settings" if exc.fatal else "retry")
                raise
            self.state(ConnEvent.LOST, exc.user_message)
            self._start()

    async def _open_link(self) -> None:
        url, headers = await self._target()
        transport = await self._open_transport(Endpoint(url, headers), self._observer)
        core = self._make_core()
        if core.traits.context_seed and self._replay:  # kept (and replaced) until a session starts
            kept = core.seed_context(self._replay, answer=self._unanswered)
            log.info("= %d of %d earlier messages go into the new session's start", kept, len(self._replay))
        self.link = Link(transport, core, self._on_events, self._on_dead)
        self._on_link(self.link)

    async def close(self) -> None:
        """End the session politely. The conversation stays for the next connect."""
        self.closing = True
        if self._task is not None:
            self._task.cancel()
        link = self.link
        if link is not None:
            await link.close()
        self.state(ConnEvent.CLOSE)
        self.closed_event.set()

    def abort(self) -> None:
        if self.link is not None:
            self.link.abort()

    # --- the session starts -------------------------------------------------------------------
    def session_started(self, expires_at: object) -> None:
        """``session.created``: connected; replay the earlier conversation into this session."""
        self.state(ConnEvent.OPENED)
        self._view.set(session_expires_at=self._local_deadline(expires_at), reconnect_attempt=0,
                       connection_detail="")
        self._view.resolve("connection")
        core = self.core
        if core is None or not self._replay:
            return
        if core.traits.context_replay:
            self._replay_into(core, self._replay)
            log.info("= replayed %d earlier items into the new session", len(self._replay))
        else:  # it went into the start; not among the session's items, so carried on from here
            self._seeded = self._replay
        self._replay = []
        if self._unanswered and core.traits.responses and core.traits.context_replay:
            log.info("= the question before the drop had no answer yet: asking for it")
            core.create_response()
        self._unanswered = False

    def _replay_into(self, core: Dialect, items: list[dict[str, Any]]) -> None:
        """Create ``items`` in ``core`` under fresh ids, hidden from the transcript (already shown)."""
        if not core.traits.context_replay:
            return
        for item in items:
            item_id = f"item_rp{secrets.token_hex(8)}"
            self.replayed_ids.add(item_id)
            core.create_item(dict(item, id=item_id))

    def keep(self, items: list[dict[str, Any]], *, unanswered: bool = False) -> None:
        """Items of the connection that just ended, to replay into the next session; ``unanswered``:
        it ended between the user's words and the answer, which the next session then gives."""
        self._replay = self._seeded + self._replay + items
        self._seeded = []
        self._unanswered = unanswered

    def carry(self, core: Dialect, items: list[dict[str, Any]]) -> None:
        """Items of an earlier session that belong in ``core``'s (a tool's call that outlived the
        session it was made in): created now, hidden from the transcript like a replay."""
        self._replay_into(core, items)

    def forget_conversation(self) -> None:
        """A new conversation: nothing earlier is replayed."""
        self._replay = []
        self._seeded = []
        self._unanswered = False
        self.replayed_ids = set()

    # --- closing ------------------------------------------------------------------------------
    def closed(self, event: ConnectionClosed) -> None:
        """The link ended: decide between closed, reconnect and failed."""
        self.last_close = event
        self.link = None
        verdict = event.classification
        recycle = self.recycle_pending or verdict.severity is Severity.RECYCLE
        if self.closing or (verdict.severity is Severity.NORMAL and not recycle):
            self.state(ConnEvent.CLOSED)
            self.closed_event.set()
            return
        retryable = recycle or verdict.severity is Severity.RETRYABLE
        if retryable and self.max_retries > 0 and self.fatal_error is None:
            self.recycle_pending = False
            if recycle:  # planned: a fresh session at once, no backoff
                self.state(ConnEvent.RECYCLE, "refreshing session")
                self.state(ConnEvent.LOST, "refreshing session")  # closed before session.created
            else:
                self.state(ConnEvent.LOST, verdict.user_message)
            self._start(immediate=recycle)
            return
        self.fail(self.fatal_error or verdict.user_message, "retry" if not verdict.fatal else "settings")

    def fail(self, sentence: str, action: str) -> None:
        self.fatal_error = sentence
        self.state(ConnEvent.FATAL, sentence)
        self._view.notify(sentence, "error", action, cause="connection")
        self.closed_event.set()

    def _start(self, immediate: bool = False) -> None:
        if self._task is None or self._task.done():
            self._task = spawn(self._reconnect(immediate), name="reconnect", on_crash=self._crashed)

    def _crashed(self, exc: BaseException) -> None:
        self.fail("Reconnecting failed unexpectedly; press Retry.", "retry")

    async def _reconnect(self, immediate: bool = False) -> None:
        for attempt, delay in enumerate(self.backoff(tries=self.max_retries), 1):
            detail = "refreshing session" if immediate and attempt == 1 else (
                f"reconnecting {attempt}/{self.max_retries}")
            self.state(ConnEvent.RETRY, detail)
            self._view.set(reconnect_attempt=attempt)
            await asyncio.sleep(0 if immediate and attempt == 1 else delay)
            try:
                await self._open_link()
                return
            except ConnectionLost as exc:
                log.info("= reconnect %d/%d failed: %s", attempt, self.max_retries, exc.user_message)
                if exc.fatal:
                    self.fail(exc.user_message, "settings")
                    return
            except ParleyError as exc:
                self.fail(exc.user_message, "settings")
                return
        self.fail(f"Could not reconnect after {self.max_retries} tries; check your network, then press Retry.",
                  "retry")

    # --- the session's time limit -------------------------------------------------------------
    def _local_deadline(self, expires_at: object) -> float:
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

    def maybe_recycle(self, *, between_turns: bool, now: float | None = None) -> bool:
        """Between turns and close to the session limit, start a fresh session (same conversation)."""
        expires = self._view.state.session_expires_at
        link = self.link
        if (link is None or expires is None or self.recycle_pending or self.max_retries <= 0
                or not between_turns):
            return False
        now = now or self.clock()
        if now < expires - RECYCLE_MARGIN_S or now - self._session_started < MIN_SESSION_AGE_S:
            return False
        log.info("= recycling the session before its time limit")
        self.recycle_pending = True
        spawn(link.close(1000), name="recycle")
        return True

    def recycle_now(self) -> bool:
        """A new session right away (clearing the conversation); False when none is open. True also
        when the session is already being replaced (a planned refresh, an expiry, an earlier clear):
        its close is the one the caller waits for."""
        link = self.link
        if link is None:
            return False
        if not self.recycle_pending:
            self.recycle_pending = True
            spawn(link.close(1000), name="recycle")
        return True
