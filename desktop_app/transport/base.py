"""The transport seam: what the controller needs of a connection, whatever carries it.

Two kinds exist or are planned (aioquic's habit: one declared interface, one module per
implementation, picked by name):

* ``websocket`` (:class:`~desktop_app.transport.socket.RealtimeSocket`): every event, audio included,
  is a JSON text frame.
* ``webrtc`` (:class:`~desktop_app.transport.webrtc.RealtimeCall`, the ``webrtc`` extra): events
  travel on the ``oai-events`` data channel, while the microphone and the
  assistant's voice travel as media tracks. Such a transport says so with ``carries_audio``; the
  controller then hands microphone PCM to :meth:`Transport.send_audio` instead of the protocol core,
  and the transport hands remote PCM to the sink set with :meth:`Transport.set_audio_sink`.

Opening is the factory's job (:data:`TransportFactory`): it gets the endpoint and the initial session
config (a WebRTC offer carries it) and returns an open transport or raises the typed errors of
:mod:`desktop_app.errors` (``AuthError``, ``ConnectionLost``, ``ConfigError``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

FrameObserver = Callable[[str, str], None]
"""Called with ``("sent" | "received", text)`` for every event frame (the event log, headless
``--events``)."""

AudioSink = Callable[[bytes], None]
"""Receives remote assistant audio as PCM16 24 kHz mono (media transports only)."""


@dataclass(frozen=True, slots=True)
class TransportStats:
    """Counters for the connection monitor (cumulative since the transport opened)."""

    kind: str
    bytes_sent: int = 0
    bytes_received: int = 0
    frames_sent: int = 0
    frames_received: int = 0
    audio_ms_sent: float = 0.0
    audio_ms_received: float = 0.0
    rtt_ms: float | None = None  # last ping round trip (WebSocket) or RTCP round trip (WebRTC)
    jitter_ms: float | None = None
    packets_lost: int | None = None
    # Media transports only (None on a WebSocket): RTP packets each way, the microphone's packets the
    # peer reports lost, and the bitrate on the wire over the last few seconds.
    packets_received: int | None = None
    packets_sent: int | None = None
    packets_lost_sent: int | None = None
    bitrate_in_kbps: float | None = None
    bitrate_out_kbps: float | None = None


class Transport(Protocol):
    """One open connection to a voice endpoint. Use it from the event loop only."""

    kind: str
    url: str
    close_code: int | None
    close_reason: str

    @property
    def is_open(self) -> bool: ...

    @property
    def carries_audio(self) -> bool:
        """True when audio travels as media (not as events): see :meth:`send_audio`."""

    async def send(self, text: str) -> None:
        """Send one JSON event. Raises ``ConnectionLost`` when the connection is gone."""

    def send_nowait(self, text: str) -> bool:
        """Send one JSON event at once if that needs no waiting and cannot overtake a frame
        :meth:`send` is still writing; False (nothing done) means: use :meth:`send`."""

    async def recv(self) -> str | None:
        """The next JSON event, or ``None`` once closed (``close_code``/``close_reason`` say why)."""

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close politely; later ``recv()`` calls return ``None``."""

    def send_audio(self, pcm16: bytes) -> None:
        """Microphone PCM16 24 kHz mono onto the outgoing media track (``carries_audio`` only)."""

    def set_audio_sink(self, sink: AudioSink | None) -> None:
        """Where remote assistant audio goes (``carries_audio`` only)."""

    def stats(self) -> TransportStats:
        """Counters so far, for the connection monitor."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to connect: the URL, the auth headers, and the session config to start with."""

    url: str
    headers: Mapping[str, str]
    session: Mapping[str, Any] | None = None


TransportFactory = Callable[[Endpoint, "FrameObserver | None"], Awaitable[Transport]]
"""Opens a transport to an endpoint (the frame observer sees every event frame)."""
