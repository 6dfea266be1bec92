"""Connection monitor: what the link did over time, as numbers a person can read.

Fed by three hands, none of which waits on it:

* the controller: :meth:`ConnectionMonitor.state_changed` on every connection state change and
  :meth:`~ConnectionMonitor.set_session_expiry` when it judges the session's end;
* the transport, sampled by the controller's metrics tap: :meth:`~ConnectionMonitor.ping` with the
  round trip (a WebSocket ping's, or WebRTC's RTCP reading; None when no pong came in time) and
  :meth:`~ConnectionMonitor.link_stats` with the transport's whole statistics (over WebRTC, ``getStats()``:
  jitter, packet loss both ways, bitrate both ways), kept as one :class:`LinkQuality`;
* the observatory's frame observer: :meth:`~ConnectionMonitor.traffic` with each frame's size and
  the audio it carried.

Turn latencies live in :class:`~desktop_app.observe.turns.TurnTimings` (``monitor.turns``).
:meth:`~ConnectionMonitor.snapshot` gives one frozen picture for a panel to draw.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from desktop_app.observe.turns import TurnRecord, TurnTimings

if TYPE_CHECKING:  # read by field only: observe/ needs no transport at run time
    from desktop_app.transport.base import TransportStats

#: The controller's reconnecting state; entering it counts one reconnect.
RECONNECTING = "reconnecting"
CONNECTED = "connected"
#: The detail of a planned new session (the time limit, a cleared conversation): not a reconnect.
REFRESHING = "refreshing session"


@dataclass(frozen=True, slots=True)
class StateChange:
    """The connection entered ``state`` at ``at`` (unix seconds); ``detail`` says why, if known."""

    at: float
    state: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PingSample:
    """One ping: its round trip in ms, or None when no pong came back in time."""

    at: float
    rtt_ms: float | None


@dataclass(frozen=True, slots=True)
class LinkQuality:
    """The transport's last statistics (cumulative since it opened; bitrates over its last few seconds).

    ``kind`` says which figures apply: a ``"websocket"`` has a ping round trip only (the media fields
    stay None), a ``"webrtc"`` call has the RTCP round trip, jitter, packets lost each way and bitrates.
    """

    at: float
    kind: str
    rtt_ms: float | None = None
    jitter_ms: float | None = None
    packets_received: int | None = None  # the assistant's RTP packets that arrived …
    packets_lost: int | None = None  # … and those that never did
    packets_sent: int | None = None  # the microphone's RTP packets …
    packets_lost_sent: int | None = None  # … and those the peer reports lost (RTCP)
    bitrate_in_kbps: float | None = None
    bitrate_out_kbps: float | None = None

    @property
    def media(self) -> bool:
        """True when audio travels as RTP media, so jitter, loss and bitrate apply."""
        return self.kind == "webrtc"

    @property
    def loss_in_pct(self) -> float | None:
        """Share of the assistant's packets lost on the way here (None before any was expected)."""
        return _share(self.packets_lost, None if self.packets_received is None or self.packets_lost is None
                      else self.packets_received + self.packets_lost)

    @property
    def loss_out_pct(self) -> float | None:
        """Share of the microphone's packets the peer reports lost."""
        return _share(self.packets_lost_sent, self.packets_sent)


def _share(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return 100.0 * min(part, whole) / whole


@dataclass(frozen=True, slots=True)
class Direction:
    """Traffic one way: frames, bytes on the wire (frame text), and audio seconds carried."""

    frames: int = 0
    bytes: int = 0
    audio_s: float = 0.0


@dataclass(frozen=True, slots=True)
class TurnStats:
    """Medians (and the newest value) of each per-turn figure, over the turns that have it."""

    count: int = 0
    speech_to_first_byte_ms: float | None = None
    first_byte_to_playback_ms: float | None = None
    total_ms: float | None = None
    barge_in_to_silence_ms: float | None = None


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    """The monitor at one moment (``now``, unix seconds)."""

    now: float
    state: str
    state_since: float | None
    history: tuple[StateChange, ...]
    reconnects: int
    connected_s: float  # time connected since the conversation began
    time_left_s: float | None
    ping_last_ms: float | None
    ping_median_ms: float | None
    pings_lost: int
    pings: tuple[PingSample, ...]
    sent: Direction
    received: Direction
    turns: tuple[TurnRecord, ...]
    turn_stats: TurnStats = field(default_factory=TurnStats)
    quality: LinkQuality | None = None  # the current (or last) transport's statistics


class ConnectionMonitor:
    """State history, pings, traffic and turns of the current conversation."""

    def __init__(self, *, clock: Callable[[], float] = time.time, history: int = 500, pings: int = 240,
                 turns: TurnTimings | None = None) -> None:
        self._clock = clock
        self._history: deque[StateChange] = deque(maxlen=history)
        self._pings: deque[PingSample] = deque(maxlen=pings)
        self._pings_lost = 0
        self._reconnects = 0
        self._expires_at: float | None = None
        self._link: LinkQuality | None = None
        self._connected_total = 0.0
        self._connected_since: float | None = None
        self._sent: list[float] = [0, 0, 0.0]  # frames, bytes, audio seconds
        self._received: list[float] = [0, 0, 0.0]
        # Over a media transport the audio is not in the frames: the transport's own counters
        # (cumulative per transport) — bytes sent, audio s sent, bytes received, audio s received —
        # of the open one, and of those before it in this conversation (less what an earlier
        # conversation had counted of the open one).
        self._media_now: list[float] = [0, 0.0, 0, 0.0]
        self._media_done: list[float] = [0, 0.0, 0, 0.0]
        self.turns = turns if turns is not None else TurnTimings()

    # --- feeding -------------------------------------------------------------------------------

    def state_changed(self, state: str, detail: str = "", at: float | None = None) -> None:
        """The connection state changed (the controller's ``Conn`` value, e.g. ``"connected"``)."""
        now = self._clock() if at is None else at
        previous = self._history[-1].state if self._history else None
        if state == previous and not detail:
            return
        if state == RECONNECTING and previous != RECONNECTING and detail != REFRESHING:
            self._reconnects += 1
        if self._connected_since is not None and state != CONNECTED:
            self._connected_total += now - self._connected_since
            self._connected_since = None
        if previous == CONNECTED and state != CONNECTED:  # that transport's counters are final
            self._media_done = [d + n for d, n in zip(self._media_done, self._media_now, strict=True)]
            self._media_now = [0, 0.0, 0, 0.0]
        if state == CONNECTED and self._connected_since is None:
            self._connected_since = now
        self._history.append(StateChange(now, state, detail))

    def ping(self, rtt_s: float | None, at: float | None = None) -> None:
        """One ping's round trip in seconds (websockets' latency), or None if the pong never came."""
        if rtt_s is None:
            self._pings_lost += 1
        self._pings.append(PingSample(self._clock() if at is None else at,
                                      None if rtt_s is None else rtt_s * 1000.0))

    def link_stats(self, stats: TransportStats, at: float | None = None) -> None:
        """The transport's statistics now (:class:`~desktop_app.transport.base.TransportStats`)."""
        self._link = LinkQuality(
            at=self._clock() if at is None else at, kind=stats.kind, rtt_ms=stats.rtt_ms, jitter_ms=stats.jitter_ms,
            packets_received=stats.packets_received, packets_lost=stats.packets_lost,
            packets_sent=stats.packets_sent, packets_lost_sent=stats.packets_lost_sent,
            bitrate_in_kbps=stats.bitrate_in_kbps, bitrate_out_kbps=stats.bitrate_out_kbps)
        if self._link.media:  # every datagram on the wire, and the audio the media track carried
            self._media_now = [stats.bytes_sent, stats.audio_ms_sent / 1000.0,
                               stats.bytes_received, stats.audio_ms_received / 1000.0]

    def traffic(self, direction: str, wire_bytes: int, audio_ms: float = 0.0) -> None:
        """One frame passed: ``direction`` "sent" or "received", its size and the audio it carried.
        Over a media transport the frames' bytes are already in its wire count (the data channel)."""
        counters = self._sent if direction == "sent" else self._received
        counters[0] += 1
        if self._link is None or not self._link.media:
            counters[1] += wire_bytes
        counters[2] += audio_ms / 1000.0

    def set_session_expiry(self, expires_at: float | None) -> None:
        """When the server will end the session (unix seconds, as the controller judged it)."""
        self._expires_at = expires_at

    def new_conversation(self) -> None:
        """Start the per-conversation figures afresh (the state history and pings carry on)."""
        self._sent, self._received = [0, 0, 0.0], [0, 0, 0.0]
        self._media_done = [-n for n in self._media_now]
        self._reconnects = 0
        self._connected_total = 0.0
        if self._connected_since is not None:
            self._connected_since = self._clock()
        self.turns.reset()

    # --- reading -------------------------------------------------------------------------------

    def snapshot(self, now: float | None = None) -> MonitorSnapshot:
        """Everything a panel shows, at ``now``."""
        now = self._clock() if now is None else now
        last = self._history[-1] if self._history else None
        answered = [p.rtt_ms for p in self._pings if p.rtt_ms is not None]
        connected = self._connected_total + (now - self._connected_since if self._connected_since else 0.0)
        left = None
        if self._expires_at is not None and last is not None and last.state == CONNECTED:
            left = max(0.0, self._expires_at - now)
        turns = self.turns.turns
        return MonitorSnapshot(
            now=now,
            state=last.state if last else "disconnected",
            state_since=last.at if last else None,
            history=tuple(self._history),
            reconnects=self._reconnects,
            connected_s=connected,
            time_left_s=left,
            ping_last_ms=self._pings[-1].rtt_ms if self._pings else None,
            ping_median_ms=statistics.median(answered) if answered else None,
            pings_lost=self._pings_lost,
            pings=tuple(self._pings),
            sent=self._direction(self._sent, 0),
            received=self._direction(self._received, 2),
            turns=turns,
            turn_stats=turn_stats(turns),
            quality=self._link,
        )

    def _direction(self, frames: list[float], media: int) -> Direction:
        """Frames (events) one way, plus what media transports carried that way."""
        wire = self._media_done[media] + self._media_now[media]
        audio = self._media_done[media + 1] + self._media_now[media + 1]
        return Direction(int(frames[0]), int(frames[1] + wire), frames[2] + audio)


def turn_stats(turns: Sequence[TurnRecord]) -> TurnStats:
    """Median of each figure over the turns that have it."""

    def median(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return statistics.median(present) if present else None

    return TurnStats(
        count=len(turns),
        speech_to_first_byte_ms=median([t.speech_to_first_byte_ms for t in turns]),
        first_byte_to_playback_ms=median([t.first_byte_to_playback_ms for t in turns]),
        total_ms=median([t.total_ms for t in turns]),
        barge_in_to_silence_ms=median([t.barge_in_to_silence_ms for t in turns]),
    )
