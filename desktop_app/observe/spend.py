"""The spend governor: dollar limits per conversation and per day, so spending is never unbounded.

Every priced response and transcription is added with :meth:`SpendGovernor.add`. Against each limit:

* below 80 % (``warn_at``) — :attr:`Level.OK`;
* from 80 % — :attr:`Level.WARNING` (the usage display turns amber, one notice);
* at 100 % — :attr:`Level.STOP`: the controller mutes the microphone and asks the user. Their OK
  (:meth:`SpendGovernor.acknowledge`) allows another ``grant`` share of the limit that stopped (25 %
  by default), after which it stops again — a hands-free session left running never spends without
  bound. Raising the limit in the settings (:meth:`SpendGovernor.set_limits`) also lifts a stop.

The day's total is kept across conversations and app restarts: the caller passes what was already
spent today (from the history database) and a :class:`SpendLedger` that records every addition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class Level(str, Enum):
    """How close spending is to a limit."""

    OK = "ok"
    WARNING = "warning"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class SpendLimits:
    """Dollar limits (None: no limit). ``warn_at`` and ``grant`` are shares of a limit."""

    session_usd: float | None = 5.0
    day_usd: float | None = 20.0
    warn_at: float = 0.8
    grant: float = 0.25


@dataclass(frozen=True, slots=True)
class SpendStatus:
    """Where spending stands. ``*_stop_at`` is the limit plus any extensions the user granted;
    ``reason`` names the limit that decides the level (``"session"``, ``"day"`` or ``""``)."""

    level: Level
    reason: str
    session_usd: float
    day_usd: float
    session_stop_at: float | None
    day_stop_at: float | None
    limits: SpendLimits

    @property
    def sentence(self) -> str:
        """One sentence for the banner or the dialog."""
        if self.level is Level.OK:
            return ""
        spent, stop_at = ((self.session_usd, self.session_stop_at) if self.reason == "session"
                          else (self.day_usd, self.day_stop_at))
        which = "this conversation's" if self.reason == "session" else "today's"
        if self.level is Level.WARNING:
            return f"${spent:.2f} spent: {which} limit of ${stop_at or 0:.2f} is close."
        return (f"${spent:.2f} spent: {which} limit of ${stop_at or 0:.2f} is reached. "
                "The microphone is off until you continue.")

    @property
    def grant_usd(self) -> float:
        """What one more OK allows before the next stop."""
        limit = self.limits.session_usd if self.reason == "session" else self.limits.day_usd
        return (limit or 0.0) * self.limits.grant


class SpendLedger(Protocol):
    """Where the day's spending is kept (the history database). Must not block: it queues."""

    def add_spend(self, day: str, usd: float) -> None: ...


def local_day() -> str:
    """Today in the user's time zone, as ``YYYY-MM-DD`` (the day limit resets at local midnight)."""
    return dt.date.today().isoformat()


class SpendGovernor:
    """Judges spending against :class:`SpendLimits`; ``on_change`` hears every change of level."""

    def __init__(self, limits: SpendLimits, *, ledger: SpendLedger | None = None, day_spent: float = 0.0,
                 today: Callable[[], str] = local_day,
                 on_change: Callable[[SpendStatus], None] | None = None) -> None:
        self._limits = limits
        self._ledger = ledger
        self._today = today
        self._day = today()
        self._day_usd = day_spent
        self._session_usd = 0.0
        self._session_extra = 0.0
        self._day_extra = 0.0
        self.on_change = on_change
        self._status = self._judge()

    @property
    def status(self) -> SpendStatus:
        return self._status

    @property
    def stopped(self) -> bool:
        return self._status.level is Level.STOP

    def add(self, usd: float) -> SpendStatus:
        """Count ``usd`` more spent (on this conversation and today)."""
        self._roll_day()
        if usd > 0:
            self._session_usd += usd
            self._day_usd += usd
            if self._ledger is not None:
                self._ledger.add_spend(self._day, usd)
        return self._update()

    def restore_day(self, day: str, usd: float) -> SpendStatus:
        """Add what the ledger holds for ``day`` from earlier runs (read once the history is open,
        before anything is spent in this run); ignored when ``day`` is no longer today."""
        self._roll_day()
        if day == self._day and usd > 0:
            self._day_usd += usd
        return self._update()

    def acknowledge(self) -> SpendStatus:
        """The user's OK after a stop: allow another ``grant`` of each limit that is reached."""
        status = self._status
        if status.level is not Level.STOP:
            return status
        s_limit, d_limit = self._limits.session_usd, self._limits.day_usd
        if status.session_stop_at is not None and s_limit and self._session_usd >= status.session_stop_at:
            self._session_extra = self._session_usd - s_limit + s_limit * self._limits.grant
        if status.day_stop_at is not None and d_limit and self._day_usd >= status.day_stop_at:
            self._day_extra = self._day_usd - d_limit + d_limit * self._limits.grant
        return self._update()

    def set_limits(self, limits: SpendLimits) -> SpendStatus:
        """New limits from the settings; extensions granted under the old ones are dropped."""
        self._limits = limits
        self._session_extra = self._day_extra = 0.0
        return self._update()

    def new_conversation(self) -> SpendStatus:
        """A new conversation: its spending starts at zero (the day's carries on)."""
        self._session_usd = 0.0
        self._session_extra = 0.0
        return self._update()

    def _roll_day(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self._day_usd, self._day_extra = today, 0.0, 0.0

    def _update(self) -> SpendStatus:
        before = self._status
        self._status = self._judge()
        if self._status.level is not before.level and self.on_change is not None:
            self.on_change(self._status)
        return self._status

    def _judge(self) -> SpendStatus:
        lim = self._limits
        s_stop = None if lim.session_usd is None else lim.session_usd + self._session_extra
        d_stop = None if lim.day_usd is None else lim.day_usd + self._day_extra
        level, reason, worst = Level.OK, "", -1.0
        for name, spent, stop_at in (("session", self._session_usd, s_stop), ("day", self._day_usd, d_stop)):
            if stop_at is None:
                continue
            share = spent / stop_at if stop_at > 0 else 1.0
            here = Level.STOP if share >= 1.0 else Level.WARNING if share >= lim.warn_at else Level.OK
            if _rank(here) > _rank(level) or (here is level and here is not Level.OK and share > worst):
                level, reason, worst = here, name, share
        return SpendStatus(level, reason, self._session_usd, self._day_usd, s_stop, d_stop, lim)


def _rank(level: Level) -> int:
    return (Level.OK, Level.WARNING, Level.STOP).index(level)
