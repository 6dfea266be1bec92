"""The media side of a WebRTC call: the microphone track out, the assistant's track in, and the
statistics the connection monitor shows.

* :class:`MicTrack` carries the microphone (PCM16 24 kHz mono, already echo-cancelled by the audio
  engine) to aiortc's Opus encoder. A queued frame leaves at once; when the microphone sends
  nothing (push-to-talk released, muted, suspended) the track sends silence on the 20 ms clock, as a
  browser's track would, so the peer's jitter buffer never holds the last words back.
* :func:`pump_remote` turns the decoded remote frames (Opus → 48 kHz stereo) into PCM16 24 kHz mono,
  lost packets concealed (:class:`~desktop_app.rtp_audio.TrackPcm`).
* :class:`CallStats` reads aiortc's ``getStats()`` (inbound/remote-inbound RTP, the transport) into
  round-trip time, jitter, packet loss both ways and bitrate both ways.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError
from av.frame import Frame

from desktop_app.rtp_audio import pcm16_frame, pump_track

RATE = 24_000
FRAME_SAMPLES = 480  # 20 ms at 24 kHz
FRAME_BYTES = FRAME_SAMPLES * 2
#: A frame late by more than this after its slot is replaced by silence (the microphone stopped).
GRACE_S = 0.04
#: At most this much microphone audio waits for the encoder; older frames are dropped (a stall).
MAX_QUEUED_FRAMES = 50


class MicTrack(MediaStreamTrack):
    """The outgoing audio track: microphone frames as they come, silence in between."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: collections.deque[bytes] = collections.deque()
        self._partial = b""
        self._arrived = asyncio.Event()
        self._start: float | None = None
        self._pts = 0
        self.frames_sent = 0
        self.silent_frames = 0
        self.dropped_frames = 0

    def push(self, pcm16: bytes) -> None:
        """Queue microphone PCM16 24 kHz mono (any length; cut into 20 ms frames)."""
        data = self._partial + pcm16
        whole = len(data) - len(data) % FRAME_BYTES
        for start in range(0, whole, FRAME_BYTES):
            self._queue.append(data[start:start + FRAME_BYTES])
        self._partial = data[whole:]
        while len(self._queue) > MAX_QUEUED_FRAMES:
            self._queue.popleft()
            self.dropped_frames += 1
        self._arrived.set()

    def queued_ms(self) -> float:
        return len(self._queue) * 20.0

    async def recv(self) -> Frame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        due = self._start + self._pts / RATE
        if not self._queue:
            self._arrived.clear()
            wait = due + GRACE_S - loop.time()
            if wait > 0:
                try:
                    await asyncio.wait_for(self._arrived.wait(), wait)
                except asyncio.TimeoutError:
                    pass
        if self._queue:
            pcm = self._queue.popleft()
        else:
            pcm = bytes(FRAME_BYTES)
            self.silent_frames += 1
        now = loop.time()
        if now - due > 0.25:  # the loop stalled: re-anchor the clock, keep the timestamps continuous
            self._start = now - self._pts / RATE
        frame = pcm16_frame(pcm, self._pts)
        self._pts += FRAME_SAMPLES
        self.frames_sent += 1
        return frame


async def pump_remote(track: MediaStreamTrack, deliver: Callable[[bytes], None]) -> None:
    """Read the remote track until it ends, handing each decoded frame's PCM to ``deliver``."""
    await pump_track(track, deliver)


@dataclass(frozen=True, slots=True)
class CallFigures:
    """One reading of the call's statistics (cumulative counters, rates over the last period)."""

    rtt_ms: float | None = None
    jitter_ms: float | None = None
    packets_received: int = 0
    packets_lost: int = 0  # of the assistant's stream, as we saw it
    packets_sent: int = 0
    packets_lost_sent: int = 0  # of the microphone's stream, as the peer reports it (RTCP)
    bytes_sent: int = 0  # on the wire: every SRTP/SCTP/STUN datagram
    bytes_received: int = 0
    bitrate_in_kbps: float | None = None
    bitrate_out_kbps: float | None = None


class CallStats:
    """Reads ``getStats()`` into :class:`CallFigures`; call :meth:`sample` every few seconds."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        self._pc = pc
        self.latest = CallFigures()
        self._at: float | None = None

    async def sample(self) -> CallFigures:
        report = await self._pc.getStats()
        values: dict[str, float] = collections.defaultdict(float)
        rtt = jitter = None
        for stats in report.values():
            kind = stats.type
            if kind == "inbound-rtp":
                values["received"] += stats.packetsReceived
                values["lost"] += max(0, stats.packetsLost or 0)
                if stats.jitter is not None:
                    jitter = stats.jitter / 48.0  # RTP units of the 48 kHz Opus clock → ms
            elif kind == "remote-inbound-rtp":
                values["lost_sent"] += max(0, stats.packetsLost or 0)
                if stats.roundTripTime is not None:  # None until the first RTCP report came back
                    rtt = stats.roundTripTime * 1000.0
            elif kind == "outbound-rtp":
                values["sent"] += stats.packetsSent
            elif kind == "transport":
                values["bytes_sent"] += stats.bytesSent
                values["bytes_received"] += stats.bytesReceived
        now = time.monotonic()
        previous, at = self.latest, self._at
        rate_in = rate_out = None
        if at is not None and now > at:
            rate_in = (values["bytes_received"] - previous.bytes_received) * 8 / (now - at) / 1000.0
            rate_out = (values["bytes_sent"] - previous.bytes_sent) * 8 / (now - at) / 1000.0
        self._at = now
        self.latest = CallFigures(
            rtt_ms=rtt, jitter_ms=jitter, packets_received=int(values["received"]), packets_lost=int(values["lost"]),
            packets_sent=int(values["sent"]), packets_lost_sent=int(values["lost_sent"]),
            bytes_sent=int(values["bytes_sent"]), bytes_received=int(values["bytes_received"]),
            bitrate_in_kbps=rate_in, bitrate_out_kbps=rate_out)
        return self.latest
