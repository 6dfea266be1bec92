"""The ``webrtc`` transport: a Realtime call over WebRTC (aiortc), the way OpenAI recommends for apps
on the user's device (realtime-protocol.md §1.6, §3.8).

* Setup: an offer with one bidirectional audio m-line (Opus) and the ``oai-events`` data channel,
  posted to ``…/realtime/calls`` (:mod:`.calls`); the answer applied; open once the data channel is.
* Events: one JSON event per data-channel message, both ways, logged and observed like WebSocket
  frames. Audio never travels as events: :meth:`RealtimeCall.send_audio` feeds the microphone track
  (:class:`~.webrtc_media.MicTrack`) and the remote track's PCM goes to the sink the controller sets.
* Health: ``getStats()`` every :data:`STATS_PERIOD_S` (round trip, jitter, loss both ways, bitrate;
  :meth:`RealtimeCall.stats`). The connection's life maps to the WebSocket's close codes, so the
  controller's reconnect rules apply unchanged: ICE/DTLS ``failed``/``closed``, the data channel
  closing, or nothing at all received for :data:`STALL_S` (the path went away without a word) end
  the call with **1006**, a retryable loss; our own :meth:`close` records its code.

Only this module and :mod:`.webrtc_media` import aiortc; without the ``webrtc`` extra they are never
imported (:mod:`.webrtc_support` says whether the choice is available, and why not).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdatachannel import RTCDataChannel

from desktop_app.errors import ConnectionLost
from desktop_app.ice import is_loopback_host, loopback_only
from desktop_app.log import get_logger, redact
from desktop_app.logtext import summarize_frame
from desktop_app.rtp_audio import use_audio_jitter_buffer
from desktop_app.tasks import spawn
from desktop_app.transport.base import AudioSink, Endpoint, FrameObserver, TransportStats
from desktop_app.transport.calls import calls_url, post_offer
from desktop_app.transport.webrtc_media import CallStats, MicTrack, pump_remote

log = get_logger("transport")

#: The connection monitor's statistics are read this often.
STATS_PERIOD_S = 2.0
#: Nothing received for this long (no RTP, RTCP or SCTP; RTP alone flows 50 times a second) = the path
#: is gone: a browser calls that "disconnected"; ICE's own consent check would take 30 s to fail.
STALL_S = 10.0
#: Setting up (offer, answer, ICE, DTLS, the data channel opening) may take this long.
OPEN_TIMEOUT_S = 15.0
#: The close code of a call lost underneath us (as a WebSocket without a close frame).
LOST = 1006


class RealtimeCall:
    """One WebRTC call to a Realtime endpoint (the ``webrtc`` :class:`~.base.Transport`).
    Build it with :meth:`open`; use it from the event loop only."""

    kind = "webrtc"

    def __init__(self, pc: RTCPeerConnection, channel: RTCDataChannel, mic: MicTrack, url: str,
                 observer: FrameObserver | None) -> None:
        self._pc = pc
        self._channel = channel
        self._mic = mic
        self.url = url
        self.call_id: str | None = None
        self._observer = observer
        self.close_code: int | None = None
        self.close_reason = ""
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._opened = asyncio.Event()
        self._sink: AudioSink | None = None
        self._sent = [0, 0]  # event messages, characters
        self._received = [0, 0]
        self._audio_bytes = [0, 0]  # microphone PCM sent, remote PCM received
        self._stats = CallStats(pc)
        self._tasks: list[asyncio.Task[None]] = []
        channel.on("open", self._opened.set)
        channel.on("message", self._message)
        channel.on("close", lambda: self._lost("the data channel closed"))
        pc.on("connectionstatechange", self._state_changed)
        pc.on("track", self._track)

    # --- opening --------------------------------------------------------------------------------
    @classmethod
    async def open(cls, endpoint: Endpoint, observer: FrameObserver | None = None, *,
                   timeout: float = OPEN_TIMEOUT_S) -> RealtimeCall:
        """Offer, post, answer, wait for the data channel. Raises AuthError, ConnectionLost, ConfigError."""
        url, model = calls_url(endpoint.url)
        session = dict(endpoint.session) if endpoint.session is not None else {"type": "realtime"}
        if model and "model" not in session:
            session["model"] = model
        loopback = is_loopback_host(urlsplit(url).hostname or "")
        pc = RTCPeerConnection()
        mic = MicTrack()
        use_audio_jitter_buffer(pc.addTransceiver(mic, direction="sendrecv").receiver)
        call = cls(pc, pc.createDataChannel("oai-events"), mic, url, observer)
        log.info("= calling %s", redact(url))
        try:
            with loopback_only(loopback):  # a peer on this computer: candidates on loopback only
                await pc.setLocalDescription(await pc.createOffer())
                answer, call.call_id = await post_offer(url, endpoint.headers, pc.localDescription.sdp, session)
                await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            await asyncio.wait_for(call._opened.wait(), timeout)
        except asyncio.TimeoutError:
            await pc.close()
            raise ConnectionLost("The call could not be set up in time (the network may block WebRTC).",
                                 detail=f"no data channel after {timeout:g} s ({pc.connectionState})") from None
        except ValueError as exc:  # aiortc refuses an answer it cannot use
            await pc.close()
            raise ConnectionLost("The server's answer to the call could not be used.", detail=repr(exc),
                                 fatal=True) from None
        except BaseException:
            await pc.close()
            raise
        call._tasks.append(spawn(call._watch(), name="webrtc.stats", on_crash=call._crashed))
        log.info("= call connected to %s", redact(url))
        return call

    # --- events ---------------------------------------------------------------------------------
    async def send(self, text: str) -> None:
        """Send one event on the data channel. Raises ConnectionLost once the call is gone."""
        if not self.send_nowait(text):
            raise ConnectionLost("The connection to the server was lost.", close_code=self.close_code,
                                 detail=f"send after close {self.close_code} {self.close_reason!r}")

    def send_nowait(self, text: str) -> bool:
        """The data channel takes a message without waiting: sent, or False once the call is gone."""
        if not self.is_open:
            return False
        if log.isEnabledFor(10):
            log.debug("> %s", summarize_frame(text))
        if self._observer is not None:
            self._observer("sent", text)
        self._sent[0] += 1
        self._sent[1] += len(text)
        self._channel.send(text)
        return True

    async def recv(self) -> str | None:
        """The next event, or None once the call has ended (``close_code`` says how)."""
        return await self._inbox.get()

    def _message(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            log.warning("! ignoring a %d-byte binary data-channel message", len(message))
            return
        if log.isEnabledFor(10):
            log.debug("< %s", summarize_frame(message))
        if self._observer is not None:
            self._observer("received", message)
        self._received[0] += 1
        self._received[1] += len(message)
        self._inbox.put_nowait(message)

    # --- audio ----------------------------------------------------------------------------------
    @property
    def carries_audio(self) -> bool:
        """True: the microphone and the assistant travel as media tracks."""
        return True

    def send_audio(self, pcm16: bytes) -> None:
        """Microphone PCM16 24 kHz mono onto the outgoing track."""
        if self.close_code is None:
            self._audio_bytes[0] += len(pcm16)
            self._mic.push(pcm16)

    def set_audio_sink(self, sink: AudioSink | None) -> None:
        """Remote PCM16 24 kHz mono goes to ``sink`` (None: dropped)."""
        self._sink = sink

    def _track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._tasks.append(spawn(pump_remote(track, self._remote_pcm), name="webrtc.remote-audio",
                                     on_crash=self._crashed))

    def _remote_pcm(self, pcm: bytes) -> None:
        self._audio_bytes[1] += len(pcm)
        if self._sink is not None:
            self._sink(pcm)

    # --- the call's life ------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.close_code is None and self._channel.readyState == "open"

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Hang up; later ``recv()`` calls return None."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            log.info("= hanging up (%d %s)", code, reason)
        await self._shutdown()

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._mic.stop()
        await self._pc.close()
        self._inbox.put_nowait(None)

    def _lost(self, why: str) -> None:
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = LOST, f"WebRTC: {why}"
        log.warning("! call lost: %s", why)
        spawn(self._shutdown(), name="webrtc.hangup")

    def _state_changed(self) -> None:
        state = self._pc.connectionState
        log.info("= WebRTC connection %s (ICE %s)", state, self._pc.iceConnectionState)
        if state in ("failed", "closed"):
            self._lost(f"ICE/DTLS {state}")

    def _crashed(self, exc: BaseException) -> None:
        self._lost(f"internal error: {type(exc).__name__}")

    async def _watch(self) -> None:
        """Statistics every few seconds; a path that went silent ends the call."""
        quiet_since: float | None = None
        last_count = -1
        loop = asyncio.get_running_loop()
        while self.close_code is None:
            await asyncio.sleep(STATS_PERIOD_S)
            figures = await self._stats.sample()
            count = figures.packets_received + figures.bytes_received
            if count != last_count:
                last_count, quiet_since = count, None
            elif quiet_since is None:
                quiet_since = loop.time() - STATS_PERIOD_S
            elif loop.time() - quiet_since >= STALL_S:
                self._lost(f"nothing received for {STALL_S:g} s")

    def stats(self) -> TransportStats:
        """Events and media counters, with the last ``getStats()`` reading."""
        f = self._stats.latest
        return TransportStats(
            kind=self.kind, frames_sent=self._sent[0], frames_received=self._received[0],
            bytes_sent=f.bytes_sent, bytes_received=f.bytes_received,
            audio_ms_sent=self._audio_bytes[0] / 48.0, audio_ms_received=self._audio_bytes[1] / 48.0,
            rtt_ms=f.rtt_ms, jitter_ms=f.jitter_ms, packets_lost=f.packets_lost,
            packets_received=f.packets_received, packets_sent=f.packets_sent, packets_lost_sent=f.packets_lost_sent,
            bitrate_in_kbps=f.bitrate_in_kbps, bitrate_out_kbps=f.bitrate_out_kbps)

    async def refresh_stats(self) -> TransportStats:
        """Read ``getStats()`` now (tests and benchmarks; the monitor uses :meth:`stats`)."""
        await self._stats.sample()
        return self.stats()


async def open_webrtc(endpoint: Endpoint, observer: FrameObserver | None = None) -> RealtimeCall:
    """The ``webrtc`` :data:`~.base.TransportFactory`."""
    return await RealtimeCall.open(endpoint, observer)

