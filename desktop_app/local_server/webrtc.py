"""WebRTC calls to the local server: ``POST /v1/realtime/calls`` (realtime-protocol.md §1.6).

The offer arrives on the WebSocket's own port (:mod:`.http_front`) as ``multipart/form-data`` with
the parts ``sdp`` and ``session`` (or a bare ``application/sdp`` body). Checked as the service checks
them — credentials (401, the service's JSON error), a web page's ``Origin`` (403), the session part
(400 with the same error the WebSocket's ``session.update`` would get), the model (400
``invalid_model``), too many sessions (429) — it is answered by this server's own aiortc peer:
``201``, the answer SDP, ``Location: /v1/realtime/calls/{call_id}``.

The call then runs the same :class:`~.session.Session` as a WebSocket connection:

* the ``oai-events`` data channel carries the events both ways (the session's writer sends on it;
  a close or a dropped connection hangs up);
* the caller's audio track is decoded into :meth:`Session.feed_pcm` (:mod:`.webrtc_audio`), and an
  ``input_audio_buffer.commit`` waits until the audio sent before it has come through the jitter
  buffer (a few frames), so push-to-talk keeps its last words;
* the session's ``audio_out`` is the outgoing :class:`~.webrtc_audio.VoiceTrack`: no audio deltas,
  ``output_audio_buffer.started/stopped`` from the track, truncation by the server on a barge-in.

A call ends when the caller hangs up, ICE/DTLS fails, or the session closes it.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdatachannel import RTCDataChannel

from desktop_app.ice import is_loopback_host, loopback_only
from desktop_app.local_server.audio_out import AudioOut
from desktop_app.local_server.client_events import CLIENT_EVENTS
from desktop_app.local_server.http_front import HttpRequest, HttpResponse
from desktop_app.local_server.outbox import Emit, Log, Writer
from desktop_app.local_server.session import Session
from desktop_app.local_server.tasks import start_task
from desktop_app.local_server.webrtc_audio import InputClock, TrackAudioOut, VoiceTrack, pump_input
from desktop_app.realtime.models import is_known_model
from desktop_app.rtp_audio import use_audio_jitter_buffer

#: After the data channel brings a commit, wait for this many more decoded input frames (the jitter
#: buffer releases a frame once four newer ones have arrived), at most :data:`COMMIT_WAIT_S`.
COMMIT_FRAMES = 5
COMMIT_WAIT_S = 0.3


class CallHost(Protocol):
    """What a call needs of the server that took it."""

    model: str

    def call_problem(self, request: HttpRequest) -> HttpResponse | None:
        """Credentials, origin and capacity: the refusal, or None to go on."""

    def new_session(self, *, model: str, kind: str, writer: Writer, audio_out: Callable[[Emit], AudioOut],
                    log: Log) -> Session:
        """A session counted among the server's; :meth:`session_ended` when it is over."""

    def session_ended(self, session: Session) -> None: ...

    def connection_log(self) -> Log:
        """A logger for the next connection (numbered like WebSocket connections)."""


SdpFilter = Callable[[str], Awaitable[str]]
"""Rewrites the offer before the peer sees it and the answer before it goes out (the tests' lossy
relay puts itself in the media path so)."""


class RealtimeCalls:
    """The ``/v1/realtime/calls`` route: one :class:`Call` per accepted offer."""

    def __init__(self, host: CallHost, sdp_filter: SdpFilter | None = None) -> None:
        self._host = host
        self._filter = sdp_filter
        self.calls: set[Call] = set()

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse.error(405, "Use POST to start a call.")
        refused = self._host.call_problem(request)
        if refused is not None:
            return refused
        offer = _read_offer(request)
        if isinstance(offer, HttpResponse):
            return offer
        sdp, session = offer
        kind = "transcription" if session.get("type") == "transcription" else "realtime"
        model = str(session.get("model") or self._host.model)
        if kind == "realtime" and not is_known_model(model):
            return HttpResponse.error(400, f"Model \"{model}\" is not supported in realtime mode.", "invalid_model")
        call = Call(self._host, model, kind, session, is_loopback_host(request.peer), self.calls.discard)
        if self._filter is not None:
            sdp = await self._filter(sdp)
        try:
            answer = await call.answer(sdp)
        except ValueError as exc:  # aiortc cannot use the offer
            call.log.info("! refused an offer: %s", exc)
            await call.hang_up()
            return HttpResponse.error(400, f"The SDP offer could not be used: {exc}", "invalid_offer")
        if self._filter is not None:
            answer = await self._filter(answer)
        self.calls.add(call)
        return HttpResponse(201, answer.encode("utf-8"), "application/sdp",
                            {"Location": f"/v1/realtime/calls/{call.call_id}"})

    async def close_all(self) -> None:
        for call in list(self.calls):
            await call.hang_up()


def _read_offer(request: HttpRequest) -> tuple[str, dict[str, Any]] | HttpResponse:
    """``(sdp, session part)`` from a multipart or bare-SDP body, or the 400 that refuses it."""
    ctype = request.headers.get("Content-Type", "")
    session: Any = {}
    if ctype.startswith("application/sdp"):
        sdp = request.body.decode("utf-8", "replace")
    elif ctype.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + request.body)
        parts: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                parts[name] = payload
        if "sdp" not in parts:
            return HttpResponse.error(400, "Missing required parameter: 'sdp'.", "missing_required_parameter")
        sdp = parts["sdp"].decode("utf-8", "replace")
        if "session" in parts:
            try:
                session = json.loads(parts["session"])
            except ValueError:
                return HttpResponse.error(400, "The 'session' part is not valid JSON.", "invalid_json")
    else:
        return HttpResponse.error(400, "Send the offer as multipart/form-data (parts 'sdp' and 'session') or "
                                  "as application/sdp.", "invalid_request")
    if not sdp.startswith("v=0"):
        return HttpResponse.error(400, "The 'sdp' part is not an SDP offer.", "invalid_offer")
    if not isinstance(session, dict):
        return HttpResponse.error(400, "The 'session' part must be a JSON object.", "invalid_type")
    session = {"type": "realtime", **session}
    problem = CLIENT_EVENTS["session.update"].check({"type": "session.update", "session": session}, "")
    if problem is not None:
        return HttpResponse.error(400, problem.message, problem.code)
    return sdp, session


class Call:
    """One accepted offer: the peer connection, its channel and tracks, and the session they carry."""

    def __init__(self, host: CallHost, model: str, kind: str, session_part: dict[str, Any], loopback: bool,
                 ended: Callable[[Call], None]) -> None:
        self.call_id = "rtc_" + secrets.token_hex(8)
        self.log = host.connection_log()
        self._host = host
        self._model, self._kind, self._part = model, kind, session_part
        self._loopback = loopback
        self._ended = ended
        self.pc = RTCPeerConnection()
        self.voice = VoiceTrack(self._emit)
        self.session: Session | None = None
        self._channel: RTCDataChannel | None = None
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._input = InputClock()
        self._tasks: list[asyncio.Task[None]] = []
        self._over = False
        self.pc.on("datachannel", self._channel_opened)
        self.pc.on("track", self._track)
        self.pc.on("connectionstatechange", self._state)

    async def answer(self, offer: str) -> str:
        """Apply the offer and return the answer SDP (ICE gathering complete)."""
        with loopback_only(self._loopback):
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            for transceiver in self.pc.getTransceivers():
                if transceiver.kind == "audio":
                    use_audio_jitter_buffer(transceiver.receiver)
            self.pc.addTrack(self.voice)  # takes the offer's audio transceiver: sendrecv
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        self.log.info("= call %s answered (%s, %s)", self.call_id, self._kind, self._model)
        return str(self.pc.localDescription.sdp)

    def _emit(self, event: dict[str, Any]) -> None:
        if self.session is not None:
            self.session.emit(event)

    # --- the data channel: the session's events ---------------------------------------------------
    def _channel_opened(self, channel: RTCDataChannel) -> None:
        if channel.label != "oai-events" or self._channel is not None:
            self.log.info("! ignoring data channel %r", channel.label)
            return
        self._channel = channel
        channel.on("message", self._message)
        channel.on("close", lambda: self._end("the data channel closed"))
        session = self._host.new_session(model=self._model, kind=self._kind, writer=self._write,
                                         audio_out=lambda emit: TrackAudioOut(self.voice), log=self.log)
        self.session = session
        problem = session.start(self._part)
        if problem is not None:  # checked when the offer came: only a bug lands here
            self.log.warning("! the offer's session part no longer applies: %s", problem.message)
        self._tasks.append(start_task(self._read(), name="call.reader"))

    def _message(self, message: str | bytes) -> None:
        self._inbox.put_nowait(message.decode("utf-8", "replace") if isinstance(message, bytes) else message)

    async def _read(self) -> None:
        """Events to the session in order; a commit first lets the audio sent before it arrive."""
        while True:
            text = await self._inbox.get()
            if text is None or self.session is None:
                return
            if '"input_audio_buffer.commit"' in text:
                await self._input.frames_after(COMMIT_FRAMES, COMMIT_WAIT_S)
            self.session.receive(text)

    def _write(self, action: tuple[Any, ...]) -> None:
        channel = self._channel
        if action[0] == "text" and channel is not None and channel.readyState == "open":
            channel.send(action[1])
        elif action[0] == "drop":
            self.log.info("! fault: dropping the call")
            self._end("dropped (fault)")
        elif action[0] == "close":
            self.log.info("= hanging up (%s %s)", action[1], action[2])
            self._end(f"closed {action[1]}")

    # --- media -------------------------------------------------------------------------------------
    def _track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._tasks.append(start_task(pump_input(track, self._feed, self._input), name="call.input"))

    def _feed(self, pcm: bytes) -> None:
        if self.session is not None and pcm:
            self.session.feed_pcm(pcm)

    # --- the end -----------------------------------------------------------------------------------
    def _state(self) -> None:
        state = self.pc.connectionState
        self.log.info("= call %s: %s", self.call_id, state)
        if state in ("failed", "closed"):
            self._end(f"ICE/DTLS {state}")

    def _end(self, why: str) -> None:
        if not self._over:
            self._tasks.append(start_task(self.hang_up(why), name="call.hangup"))

    async def hang_up(self, why: str = "server stopping") -> None:
        """End the call: the session closes, the tracks stop, the peer connection closes."""
        if self._over:
            return
        self._over = True
        self.log.info("= call %s over: %s", self.call_id, why)
        if self.session is not None:
            self.session.close()
            self._host.session_ended(self.session)
        self._inbox.put_nowait(None)
        self.voice.stop()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        await self.pc.close()
        self._ended(self)
