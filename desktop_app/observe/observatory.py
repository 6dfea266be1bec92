"""Everything the app observes about a conversation, behind one frame observer.

Build one :class:`Observatory` per app session in the composition root and hand it to each
controller twice: :meth:`Observatory.frame_observer` (``Controller(frame_observer=...)``, passed to
every socket) and the observatory itself as the controller's metrics port
(``Controller(metrics=...)``, :class:`desktop_app.controller.metrics.Metrics`): the moments only the
controller sees go to :attr:`Observatory.turns` and :attr:`Observatory.monitor`.

From the frames alone it keeps: the event log; bytes and audio seconds each way; the usage and cost
of every ``response.done`` and input transcription (priced with the models ``session.created`` /
``session.updated`` report) — over GPT-Live, the billed seconds of ``session.usage.updated`` and
``session.closed`` priced per second, and the backend's responses nested in ``response.event``;
``rate_limits.updated``; the server's ``error`` events. Each priced part
goes to the spend governor, whose level changes reach ``on_spend`` through ``schedule`` (the loop's
``call_soon`` in the app), so the controller never runs inside the transport's receive path.

The observer never raises: a bug here is logged once and the frame still reaches the controller.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app import paths
from desktop_app.log import get_logger
from desktop_app.observe.diagnostics import DiagnosticParts, diagnostic_text, diagnostic_zip
from desktop_app.observe.errors import ErrorTracker
from desktop_app.observe.event_log import EventLog
from desktop_app.observe.monitor import ConnectionMonitor
from desktop_app.observe.spend import SpendGovernor, SpendLedger, SpendLimits, SpendStatus
from desktop_app.observe.turns import TurnTimings
from desktop_app.observe.usage_meter import UsageMeter
from desktop_app.observe.worker import SerialWorker
from desktop_app.settings.schema import Settings

if TYPE_CHECKING:  # the controller hands it over; observe/ needs no transport at run time
    from desktop_app.transport.base import TransportStats

log = get_logger("app")

Schedule = Callable[[Callable[[], None]], object]


def _call_now(callback: Callable[[], None]) -> None:
    callback()


def default_spill_dir() -> Path:
    """Where the event log spills a session (``event-log`` in the data directory; removed at close)."""
    return paths.data_dir() / "event-log"


def spend_limits_from(settings: Settings) -> SpendLimits:
    """The governor's limits as the user set them."""
    return SpendLimits(session_usd=settings.spend_limit_session_usd, day_usd=settings.spend_limit_day_usd)


class Observatory:
    """The event log, monitor, turn timings, usage meter, spend governor and error table together."""

    def __init__(
        self,
        *,
        model: str,
        transcription_model: str | None = None,
        limits: SpendLimits | None = None,
        spill_dir: Path | None = None,
        ledger: SpendLedger | None = None,
        day_spent: float = 0.0,
        schedule: Schedule = _call_now,
        on_spend: Callable[[SpendStatus], None] | None = None,
        worker: SerialWorker | None = None,
        event_capacity: int = 5000,
    ) -> None:
        self._schedule = schedule
        self.on_spend = on_spend
        self.events = EventLog(spill_dir, capacity=event_capacity, worker=worker)
        self.turns = TurnTimings()
        self.monitor = ConnectionMonitor(turns=self.turns)
        self.usage = UsageMeter(model, transcription_model)
        self.errors = ErrorTracker()
        self.spend = SpendGovernor(limits or SpendLimits(), ledger=ledger, day_spent=day_spent,
                                   on_change=self._spend_changed)
        self._observer_failed = False
        self.billed = True  # False: costs are shown but not counted against the limits (the offline demo)

    # --- the transport's frame observer --------------------------------------------------------

    def frame_observer(self, direction: str, text: str) -> None:
        """Called by the transport with ``("sent" | "received", text)`` for every frame."""
        try:
            record, event = self.events.append(direction, text)
            self.monitor.traffic(direction, len(text), record.audio_ms)
            if direction == "received" and event is not None and record.type in _RECEIVED:
                _RECEIVED[record.type](self, event)
        except Exception:
            if not self._observer_failed:
                self._observer_failed = True
                log.error("! the event observer failed; the conversation goes on", exc_info=True)

    def _on_session(self, event: dict[str, Any]) -> None:
        session = event.get("session")
        if not isinstance(session, dict):
            return
        model = session.get("model")
        audio_in = (session.get("audio") or {}).get("input") if isinstance(session.get("audio"), dict) else None
        transcription: Any = audio_in.get("transcription", ...) if isinstance(audio_in, dict) else ...
        asr = transcription.get("model") if isinstance(transcription, dict) else None
        self.usage.set_models(model if isinstance(model, str) else None, asr if isinstance(asr, str) else None,
                              transcription_off=transcription is None)

    def _on_response_done(self, event: dict[str, Any]) -> None:
        cost = self.usage.add_response(event.get("response")).cost_usd
        if cost and self.billed:
            self.spend.add(cost)

    def _on_transcription(self, event: dict[str, Any]) -> None:
        cost = self.usage.add_transcription(event.get("usage"))
        if cost and self.billed:
            self.spend.add(cost)

    def _on_live_session(self, event: dict[str, Any]) -> None:
        """``session.started``: a GPT-Live session (its model; transcription is part of the session's price)."""
        session = event.get("session")
        model = session.get("model") if isinstance(session, dict) else None
        self.usage.set_models(model if isinstance(model, str) else None, transcription_off=True)
        self.usage.live_session_started()

    def _on_live_usage(self, event: dict[str, Any]) -> None:
        """``session.usage.updated`` / ``session.closed``: the session's cumulative seconds."""
        usage = event.get("usage")
        cost = self.usage.add_live_seconds(usage.get("seconds") if isinstance(usage, dict) else None)
        if cost and self.billed:
            self.spend.add(cost)

    def _on_backend_event(self, event: dict[str, Any]) -> None:
        """``response.event``: a GPT-Live backend response that ended is counted (once)."""
        nested = event.get("event")
        if isinstance(nested, dict) and nested.get("type") in _BACKEND_ENDINGS:
            self.usage.add_backend_response(nested.get("response"))

    def _on_rate_limits(self, event: dict[str, Any]) -> None:
        self.usage.update_rate_limits(event.get("rate_limits"))

    def _on_error(self, event: dict[str, Any]) -> None:
        self.errors.record_event(event)

    def _spend_changed(self, status: SpendStatus) -> None:
        callback = self.on_spend
        if callback is not None:
            self._schedule(lambda: callback(status))

    # --- the controller's metrics port (desktop_app.controller.metrics.Metrics) ----------------

    def speech_stopped(self, at: float | None = None) -> None:
        self.turns.speech_stopped(at)

    def first_audio_delta(self, at: float | None = None) -> None:
        self.turns.first_audio_delta(at)

    def first_sample_played(self, at: float | None = None) -> None:
        self.turns.first_sample_played(at)

    def response_done(self, at: float | None = None) -> None:
        self.turns.response_done(at)

    def barge_in(self, at: float | None = None) -> None:
        self.turns.barge_in(at)

    def silence(self, at: float | None = None) -> None:
        self.turns.silence(at)

    def connection_state(self, state: str, detail: str = "") -> None:
        self.monitor.state_changed(state, detail)

    def session_expiry(self, expires_at: float | None) -> None:
        self.monitor.set_session_expiry(expires_at)

    def ping(self, rtt_s: float | None) -> None:
        self.monitor.ping(rtt_s)

    def link_stats(self, stats: TransportStats) -> None:
        self.monitor.link_stats(stats)

    # --- the controller's side -----------------------------------------------------------------

    def new_conversation(self) -> None:
        """A new conversation begins (not a reconnect): per-conversation figures start at zero."""
        self.turns.finish()
        self.monitor.new_conversation()
        self.usage.reset()
        self.spend.new_conversation()

    def diagnostics(self, settings: Settings | None = None, *, last_events: int = 200,
                    notes: tuple[str, ...] = ()) -> DiagnosticParts:
        """The parts of a bug report, now."""
        return DiagnosticParts(settings=settings, events=self.events.last(last_events),
                               errors=self.errors.groups(), monitor=self.monitor.snapshot(),
                               usage=self.usage.snapshot(), notes=notes)

    def diagnostic_text(self, settings: Settings | None = None, *, last_events: int = 200) -> str:
        """The redacted bundle as one text, for "copy to clipboard"."""
        return diagnostic_text(self.diagnostics(settings, last_events=last_events))

    def diagnostic_zip(self, settings: Settings | None = None, *, last_events: int = 1000) -> bytes:
        """The redacted bundle as zip bytes, for "save diagnostics…"."""
        return diagnostic_zip(self.diagnostics(settings, last_events=last_events))

    def close(self) -> None:
        """Stop spilling and remove the spill file (blocks briefly: call at shutdown)."""
        self.events.close()


_RECEIVED: dict[str, Callable[[Observatory, dict[str, Any]], None]] = {
    "session.created": Observatory._on_session,
    "session.updated": Observatory._on_session,
    "response.done": Observatory._on_response_done,
    "conversation.item.input_audio_transcription.completed": Observatory._on_transcription,
    "rate_limits.updated": Observatory._on_rate_limits,
    "error": Observatory._on_error,
    "session.started": Observatory._on_live_session,
    "session.usage.updated": Observatory._on_live_usage,
    "session.closed": Observatory._on_live_usage,
    "response.event": Observatory._on_backend_event,
}
_BACKEND_ENDINGS = frozenset({"response.completed", "response.failed", "response.incomplete", "response.cancelled"})
