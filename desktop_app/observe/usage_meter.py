"""Tokens and money: per response and per conversation, with the rate limits the server reports.

Each ``response.done`` is priced with the realtime model in use *when it arrived* (a model switch
mid-conversation prices each part at its own rate), each finished input transcription with the ASR
model's own price (:func:`~desktop_app.realtime.models.transcription_price`). A part whose price is
not known is counted in tokens and flagged, never guessed: the display says "price unknown".
Cached input tokens are a subset of the input tokens and cost the cached rate (:meth:`Usage.cost`).

GPT-Live bills seconds of session instead (live-protocol.md §0, §4): each session reports its own
cumulative ``usage.seconds`` (``session.usage.updated``, ``session.closed``), so the meter adds what a
report has beyond the session's last one — never the report itself — and prices it per second with the
Live model's rate (:func:`~desktop_app.realtime.models.live_price_per_second`); a new session starts its
count again (:meth:`UsageMeter.live_session_started`). The backend Responses model a Live session hands
tool work to is billed apart at token rates Parley does not know: its responses are counted, unpriced.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_app.realtime.models import live_price_per_second, transcription_price
from desktop_app.realtime.usage import Usage


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One ``rate_limits.updated`` entry: ``remaining`` of ``limit`` requests or tokens, refilled
    in full ``reset_seconds`` after ``observed_at`` (unix seconds)."""

    name: str
    limit: int
    remaining: int
    reset_seconds: float
    observed_at: float

    @property
    def resets_at(self) -> float:
        return self.observed_at + self.reset_seconds

    @property
    def used_fraction(self) -> float:
        return 0.0 if self.limit <= 0 else min(1.0, max(0.0, 1.0 - self.remaining / self.limit))


@dataclass(frozen=True, slots=True)
class ResponseCost:
    """One response's usage and cost (None: the model's price is not known)."""

    response_id: str
    at: float
    status: str
    model: str
    usage: Usage
    cost_usd: float | None


@dataclass(frozen=True, slots=True)
class UsageSnapshot:
    """The conversation's usage so far. ``realtime_usd``/``transcription_usd`` sum the priced parts;
    ``*_unpriced`` say some part could not be priced (show "price unknown")."""

    model: str
    transcription_model: str | None
    session: Usage
    responses: tuple[ResponseCost, ...]
    realtime_usd: float
    transcription_usd: float
    realtime_unpriced: bool
    transcription_unpriced: bool
    rate_limits: tuple[RateLimit, ...]
    per_second: bool = False  # a GPT-Live conversation: ``session.live_seconds`` are what is billed
    backend_unpriced: bool = False  # a GPT-Live backend's tokens were counted; their price is not known

    @property
    def total_usd(self) -> float:
        return self.realtime_usd + self.transcription_usd

    @property
    def price_known(self) -> bool:
        return not (self.realtime_unpriced or self.transcription_unpriced or self.backend_unpriced)


def transcription_cost(usage: Usage, model: str | None) -> float | None:
    """Dollars for the transcription part of ``usage`` billed by ``model``; None if not known."""
    tokens = usage.transcription_input_tokens + usage.transcription_output_tokens
    if not tokens and not usage.transcription_seconds:
        return 0.0
    price = transcription_price(model) if model else None
    if price is None:
        return None
    dollars = 0.0
    if tokens:
        if price.input_per_m is None or price.output_per_m is None:
            return None
        dollars += (usage.transcription_input_tokens * price.input_per_m
                    + usage.transcription_output_tokens * price.output_per_m) / 1_000_000
    if usage.transcription_seconds:
        if price.per_minute is None:
            return None
        dollars += usage.transcription_seconds / 60.0 * price.per_minute
    return dollars


class UsageMeter:
    """Adds up a conversation's responses and transcriptions; keeps the newest ``keep`` responses."""

    def __init__(self, model: str, transcription_model: str | None = None, *,
                 clock: Callable[[], float] = time.time, keep: int = 500) -> None:
        self.model = model
        self.transcription_model = transcription_model
        self._clock = clock
        self._responses: deque[ResponseCost] = deque(maxlen=keep)
        self._limits: dict[str, RateLimit] = {}
        self.reset()

    def reset(self) -> None:
        """A new conversation: totals start from zero (rate limits are the account's: kept)."""
        self._session = Usage()
        self._responses.clear()
        self._realtime_usd = 0.0
        self._transcription_usd = 0.0
        self._realtime_unpriced = False
        self._transcription_unpriced = False
        self._per_second = False
        self._backend_unpriced = False
        self._live_reported = 0.0  # the open Live session's cumulative seconds as last reported
        self._backend_seen: set[str] = set()

    def set_models(self, model: str | None = None, transcription_model: str | None = None, *,
                   transcription_off: bool = False) -> None:
        """The session's models as the server reported them (``session.created``/``updated``)."""
        if model:
            self.model = model
        if transcription_model:
            self.transcription_model = transcription_model
        elif transcription_off:
            self.transcription_model = None

    def add_response(self, response: Any) -> ResponseCost:
        """Count ``response.done``'s ``response`` object; returns what it cost."""
        body = response if isinstance(response, dict) else {}
        usage = Usage.from_response(body.get("usage"))
        cost = usage.cost(self.model)
        if cost is None:
            self._realtime_unpriced = self._realtime_unpriced or usage.total_tokens > 0
        else:
            self._realtime_usd += cost
        self._session = self._session + usage
        rid = body.get("id")
        status = body.get("status")
        record = ResponseCost(rid if isinstance(rid, str) else "", self._clock(),
                              status if isinstance(status, str) else "", self.model, usage, cost)
        self._responses.append(record)
        return record

    def add_transcription(self, usage: Any) -> float | None:
        """Count an input transcription's ``usage``; returns its cost (None: price unknown)."""
        part = Usage.from_transcription(usage)
        cost = transcription_cost(part, self.transcription_model)
        if cost is None:
            self._transcription_unpriced = True
        else:
            self._transcription_usd += cost
        self._session = self._session + part
        return cost

    def live_session_started(self) -> None:
        """A GPT-Live session started: the conversation is billed by the second, and this session's
        cumulative count starts from zero."""
        self._per_second = True
        self._live_reported = 0.0

    def add_live_seconds(self, seconds: Any) -> float | None:
        """A Live session's cumulative ``usage.seconds``: the seconds beyond its last report are counted and
        priced; returns their cost (0.0 when nothing is new, None when the model's price is not known)."""
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= self._live_reported:
            return 0.0
        more, self._live_reported = seconds - self._live_reported, float(seconds)
        self._session = self._session + Usage(live_seconds=more)
        rate = live_price_per_second(self.model)
        if rate is None:
            self._realtime_unpriced = True
            return None
        self._realtime_usd += more * rate
        return more * rate

    def add_backend_response(self, response: Any) -> ResponseCost | None:
        """A GPT-Live backend response that ended (nested in ``response.event``): its tokens, counted once
        per response id, unpriced (the backend's model and rates are not Parley's to know)."""
        body = response if isinstance(response, dict) else {}
        rid = str(body.get("id") or "")
        if rid in self._backend_seen:
            return None
        self._backend_seen.add(rid)
        usage = Usage.from_responses(body.get("usage"))
        self._backend_unpriced = self._backend_unpriced or usage.total_tokens > 0
        self._session = self._session + usage
        model, status = body.get("model"), body.get("status")
        record = ResponseCost(rid, self._clock(), status if isinstance(status, str) else "",
                              model if isinstance(model, str) else "backend", usage, None if usage.total_tokens else 0.0)
        self._responses.append(record)
        return record

    def update_rate_limits(self, limits: Any) -> tuple[RateLimit, ...]:
        """Take ``rate_limits.updated``'s list (entries with bad values are skipped)."""
        now = self._clock()
        for entry in limits if isinstance(limits, list) else ():
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            try:
                self._limits[entry["name"]] = RateLimit(
                    entry["name"], int(entry.get("limit", 0)), int(entry.get("remaining", 0)),
                    float(entry.get("reset_seconds", 0.0)), now)
            except (TypeError, ValueError):
                continue
        return tuple(self._limits.values())

    def snapshot(self) -> UsageSnapshot:
        return UsageSnapshot(
            model=self.model,
            transcription_model=self.transcription_model,
            session=self._session,
            responses=tuple(self._responses),
            realtime_usd=self._realtime_usd,
            transcription_usd=self._transcription_usd,
            realtime_unpriced=self._realtime_unpriced,
            transcription_unpriced=self._transcription_unpriced,
            rate_limits=tuple(self._limits.values()),
            per_second=self._per_second,
            backend_unpriced=self._backend_unpriced,
        )
