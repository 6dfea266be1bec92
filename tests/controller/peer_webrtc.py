"""The scripted peer over WebRTC: the same script, carried as the service carries it on a call.

The offer is answered by an aiortc peer (``POST /v1/realtime/calls`` on the peer's port); client
events arrive on the ``oai-events`` channel and are validated against the SDK's strict client union,
as on the WebSocket peer. What the script sends goes out on the channel — except
``response.output_audio.delta``: a WebRTC server never sends audio as events, so the delta's length
becomes a tone on the peer's audio track (the local server's :class:`VoiceTrack`, which says
``output_audio_buffer.started``/``stopped`` itself), and ``response.output_audio.done`` ends that
part of the track before it is sent.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from typing import Any

import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from websockets.asyncio.server import serve

from desktop_app.ice import loopback_only
from desktop_app.local_server.audio_out import AudioPart, AudioStream
from desktop_app.local_server.http_front import HttpRequest, HttpResponse, http_connection
from desktop_app.local_server.webrtc import _read_offer
from desktop_app.local_server.webrtc_audio import TrackAudioOut, VoiceTrack
from tests.controller.peer import ScriptedPeer
from tests.realtime.oracle import validate_client_event, validate_server_event


def tone(nbytes: int) -> bytes:
    """A 440 Hz tone of ``nbytes`` of pcm16 24 kHz (never silence: silence is not an answer)."""
    t = np.arange(nbytes // 2) / 24000.0
    return (np.sin(2 * np.pi * 440 * t) * 6000).astype("<i2").tobytes()


class ScriptedCallPeer(ScriptedPeer):
    """``async with ScriptedCallPeer() as peer`` — the :class:`ScriptedPeer` API over a WebRTC call."""

    transport = "webrtc"

    def __init__(self) -> None:
        super().__init__()
        self._pc: RTCPeerConnection | None = None
        self._channel: Any = None
        self._out: TrackAudioOut | None = None
        self._streams: dict[tuple[str, str], AudioStream] = {}
        self._writes: set[asyncio.Task[Any]] = set()
        self.audio_sent_ms = 0.0
        self.mic_frames = 0

    async def __aenter__(self) -> ScriptedCallPeer:
        routes = {"/v1/realtime/calls": self._offer}
        self.server = await serve(self._handler, "127.0.0.1", 0, create_connection=http_connection(
            routes, lambda path: HttpResponse.error(404, path)))
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime-2.1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._pc is not None:
            await self._pc.close()
        await super().__aexit__(*exc)

    async def _offer(self, request: HttpRequest) -> HttpResponse:
        offer = _read_offer(request)
        assert not isinstance(offer, HttpResponse), offer
        if self._pc is not None:  # a reconnect: the old call is over
            await self._pc.close()
        pc = self._pc = RTCPeerConnection()
        voice = VoiceTrack(self._track_event)
        self._out, self._streams = TrackAudioOut(voice), {}
        pc.on("datachannel", self._channel_opened)
        pc.on("track", lambda track: self._writes.add(asyncio.ensure_future(self._count_mic(track))))
        with loopback_only():
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer[0], type="offer"))
            pc.addTrack(voice)
            await pc.setLocalDescription(await pc.createAnswer())
        return HttpResponse(201, pc.localDescription.sdp.encode(), "application/sdp",
                            {"Location": "/v1/realtime/calls/rtc_" + secrets.token_hex(4)})

    async def _count_mic(self, track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:  # the track ended with the call
                return
            if np.abs(frame.to_ndarray()).max() > 8:
                self.mic_frames += 1

    def _channel_opened(self, channel: Any) -> None:
        self._channel = channel

        def message(text: str) -> None:
            frame = json.loads(text)
            validate_client_event(frame)
            self.all_frames.append(frame)
            self.frames.put_nowait(frame)

        channel.on("message", message)
        self.connections += 1
        self._connected.set()

    def _track_event(self, event: dict[str, Any]) -> None:
        event = {"type": event["type"], "event_id": "event_" + secrets.token_hex(8), **event}
        validate_server_event(event)
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(json.dumps(event))

    async def connected(self, count: int = 1) -> None:
        while self.connections < count or self._channel is None or self._channel.readyState != "open":
            self._connected.clear()
            await asyncio.wait_for(self._connected.wait(), 5)

    async def send(self, *events: dict[str, Any]) -> None:
        assert self._out is not None
        for event in events:
            validate_server_event(event)
            kind = event["type"]
            if kind in ("response.output_audio.delta", "response.output_audio.done"):
                where = (event["response_id"], event["item_id"])
                stream = self._streams.get(where)
                if stream is None:
                    stream = self._streams[where] = self._out.open(AudioPart(*where, 0, 0, {"type": "audio/pcm"}))
                pcm = tone(len(base64.b64decode(event["delta"]))) if kind.endswith("delta") else b""
                self.audio_sent_ms += len(pcm) / 48.0
                self._writes.add(asyncio.ensure_future(stream.write(pcm, final=kind.endswith("done"))))
                if kind.endswith("delta"):
                    continue
            self._channel.send(json.dumps(event))

    async def drop(self) -> None:
        """The call goes away underneath (DTLS closes): the client sees 1006."""
        assert self._pc is not None
        await self._pc.close()

    async def close(self, code: int, reason: str) -> None:
        await self.drop()
