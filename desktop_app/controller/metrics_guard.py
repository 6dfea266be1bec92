"""A :class:`~.metrics.Metrics` that can never take the conversation down.

The metrics port is fed from inside event handling (the link's reader). An exception there would end
the link and reconnect — for a bug in a *measurement*. :class:`GuardedMetrics` forwards every call
and drops one that raises: the first failure of each kind is logged with its traceback, the
conversation goes on, and the monitor just misses that sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop_app.controller.metrics import Metrics
from desktop_app.log import get_logger
from desktop_app.transport.base import TransportStats

log = get_logger("controller")


class GuardedMetrics:
    """Forwards each :class:`Metrics` call to ``inner``; a call that raises is logged and dropped."""

    def __init__(self, inner: Metrics) -> None:
        self.inner = inner
        self._failed: set[str] = set()

    def _call(self, name: str, call: Callable[..., None], *args: Any) -> None:
        try:
            call(*args)
        except Exception:  # a measurement must never end the conversation
            if name not in self._failed:
                self._failed.add(name)
                log.exception("! metrics %s failed; the conversation goes on without that sample", name)

    def speech_stopped(self, at: float | None = None) -> None:
        self._call("speech_stopped", self.inner.speech_stopped, at)

    def first_audio_delta(self, at: float | None = None) -> None:
        self._call("first_audio_delta", self.inner.first_audio_delta, at)

    def first_sample_played(self, at: float | None = None) -> None:
        self._call("first_sample_played", self.inner.first_sample_played, at)

    def response_done(self, at: float | None = None) -> None:
        self._call("response_done", self.inner.response_done, at)

    def barge_in(self, at: float | None = None) -> None:
        self._call("barge_in", self.inner.barge_in, at)

    def silence(self, at: float | None = None) -> None:
        self._call("silence", self.inner.silence, at)

    def connection_state(self, state: str, detail: str = "") -> None:
        self._call("connection_state", self.inner.connection_state, state, detail)

    def session_expiry(self, expires_at: float | None) -> None:
        self._call("session_expiry", self.inner.session_expiry, expires_at)

    def ping(self, rtt_s: float | None) -> None:
        self._call("ping", self.inner.ping, rtt_s)

    def link_stats(self, stats: TransportStats) -> None:
        self._call("link_stats", self.inner.link_stats, stats)
