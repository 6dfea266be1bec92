"""RealtimeSocket against a small in-test websockets server: auth headers, typed failures, close codes."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket

import pytest
from websockets.asyncio.server import serve
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.http11 import Response
from websockets.datastructures import Headers

from desktop_app.errors import AuthError, ConfigError, ConnectionLost
from desktop_app.log import FRAME_LOGGERS, log_frames
from desktop_app.transport import RealtimeSocket, backoff, summarize_frame

KEY = "sk-test-abcdefghijklmnopqrstuvwxyz0123"


class Peer:
    """A scripted server: records request headers and runs ``script(ws)`` per connection."""

    def __init__(self, script, status: int | None = None):
        self.script = script
        self.status = status
        self.headers: Headers | None = None

    def process_request(self, connection, request):
        self.headers = request.headers
        if self.status is not None:
            return Response(self.status, "Unauthorized", Headers(), b"no")
        return None

    async def handler(self, ws):
        await self.script(ws)

    async def __aenter__(self):
        self.server = await serve(self.handler, "127.0.0.1", 0, process_request=self.process_request)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/v1/realtime?model=m"
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()


async def test_sends_auth_header_and_exchanges_text_frames():
    async def script(ws):
        await ws.send(json.dumps({"type": "session.created"}))
        msg = await ws.recv()
        await ws.send(msg)  # echo

    seen = []
    async with Peer(script) as peer:
        sock = await RealtimeSocket.open(
            peer.url, {"Authorization": f"Bearer {KEY}"}, observer=lambda d, t: seen.append((d, t))
        )
        first = await sock.recv()
        await sock.send('{"type":"response.create"}')
        echoed = await sock.recv()
        await sock.close()
    assert peer.headers["Authorization"] == f"Bearer {KEY}"
    assert json.loads(first)["type"] == "session.created"
    assert echoed == '{"type":"response.create"}'
    assert [d for d, _ in seen] == ["received", "sent", "received"]
    assert sock.close_code == 1000


async def test_http_401_at_upgrade_is_a_fatal_auth_error_without_the_key(caplog):
    async with Peer(lambda ws: asyncio.sleep(0), status=401) as peer:
        with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as info:
            await RealtimeSocket.open(peer.url, {"Authorization": f"Bearer {KEY}"})
    assert info.value.fatal is True
    assert "API key" in info.value.user_message
    assert KEY not in str(info.value)
    parley_lines = [r.getMessage() for r in caplog.records if r.name.startswith("parley")]
    assert any("Authorization: Bearer [REDACTED]" in line for line in parley_lines)
    assert not any(KEY in line for line in parley_lines)


async def test_refused_port_is_a_retryable_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(ConnectionLost) as info:
            await RealtimeSocket.open(f"ws://127.0.0.1:{port}/v1/realtime", open_timeout=5)
    assert info.value.fatal is False
    assert "refused" in info.value.user_message


async def test_bad_scheme_is_a_config_error():
    with pytest.raises(ConfigError):
        await RealtimeSocket.open("https://api.openai.com/v1/realtime")


async def test_server_close_code_and_reason_are_reported_not_raised():
    async def script(ws):
        await ws.send('{"type":"error","error":{"code":"invalid_api_key"}}')
        await ws.close(3000, "invalid_request_error.invalid_api_key")

    async with Peer(script) as peer:
        sock = await RealtimeSocket.open(peer.url)
        assert json.loads(await sock.recv())["type"] == "error"
        assert await sock.recv() is None
    assert sock.close_code == 3000
    assert sock.close_reason == "invalid_request_error.invalid_api_key"
    assert not sock.is_open


async def test_abrupt_drop_is_reported_as_1006():
    async def script(ws):
        await ws.send('{"type":"session.created"}')
        ws.transport.abort()  # no close frame

    async with Peer(script) as peer:
        sock = await RealtimeSocket.open(peer.url)
        await sock.recv()
        assert await sock.recv() is None
    assert sock.close_code == 1006


def test_summarize_frame_elides_audio_and_redacts_keys():
    audio = "A" * 4000
    text = json.dumps({"type": "input_audio_buffer.append", "audio": audio, "note": KEY})
    short = summarize_frame(text)
    assert audio not in short and "<4000 b64 chars>" in short
    assert KEY not in short


def test_backoff_doubles_from_half_a_second_caps_at_eight_and_stops_after_five():
    delays = list(backoff(rng=lambda: 0.5))  # 0.5 → no jitter
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert list(backoff(tries=7, rng=lambda: 0.5))[-2:] == [8.0, 8.0]
    jittered = list(backoff(rng=lambda: 1.0))
    assert jittered[0] == pytest.approx(0.6) and max(jittered) <= 8.0


# --- the microphone's frames without a task switch each (issue #23) ---------------------------------


async def test_send_nowait_delivers_in_order_and_declines_while_the_write_buffer_holds_data():
    """``send_nowait`` writes only when nothing waits in the write buffer; once the peer stops reading
    and the buffer fills it declines (sending nothing), so ``send`` keeps the order and the flow control."""
    reading = asyncio.Event()
    got: list[str] = []

    async def script(ws):
        await reading.wait()  # the client fills the socket meanwhile
        async for message in ws:
            got.append(message)

    async with Peer(script) as peer:
        sock = await RealtimeSocket.open(peer.url)
        sent, declined = 0, None
        noise = base64.b64encode(os.urandom(49152)).decode()  # 64 KB that deflate cannot shrink
        while declined is None and sent < 4000:  # the kernel's buffers fill within a few MB
            frame = json.dumps({"type": "input_audio_buffer.append", "n": sent, "audio": noise})
            if sock.send_nowait(frame):
                sent += 1
            else:
                declined = frame
        assert declined is not None, "the write buffer never filled"
        reading.set()
        await sock.send(declined)  # waits for the peer to read, then goes out after the others
        await sock.send('{"type":"response.create"}')
        await sock.close()
        await asyncio.wait_for(_until(lambda: len(got) == sent + 2), 10)
    assert [json.loads(m).get("n") for m in got] == [*range(sent + 1), None]
    assert sock.stats().frames_sent == sent + 2
    assert not sock.send_nowait('{"type":"response.create"}')  # closed: nothing sent, nothing raised


async def test_audio_frames_are_logged_apart_and_counted_at_the_close(caplog):
    async def script(ws):
        await ws.send(json.dumps({"type": "response.output_audio.delta", "delta": "AAAA" * 100}))
        await ws.send(json.dumps({"type": "response.done"}))
        await ws.recv()
        await ws.recv()

    log_frames(False)  # as the app's setup_logging does unless PARLEY_LOG_FRAMES=1
    try:
        with caplog.at_level(logging.DEBUG, logger="parley.transport"):
            async with Peer(script) as peer:
                sock = await RealtimeSocket.open(peer.url)
                await sock.recv()
                await sock.recv()
                assert sock.send_nowait(json.dumps({"type": "input_audio_buffer.append", "audio": "AAAA"}))
                await sock.send('{"type":"response.create"}')
                assert await sock.recv() is None
    finally:
        for name in FRAME_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("< ") and "response.done" in line for line in lines)
    assert any(line.startswith("> ") and "response.create" in line for line in lines)
    assert not any("input_audio_buffer.append" in line or "output_audio.delta" in line for line in lines)
    assert any(line.startswith("= closed") and "frames sent 2" in line and "received 2" in line for line in lines)


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


class _RecordingDeflate(PerMessageDeflate):
    """The server's permessage-deflate, noting whether each incoming frame came compressed (RSV1)."""

    compressed: list[bool] = []

    def decode(self, frame, *, max_size=None):
        _RecordingDeflate.compressed.append(frame.rsv1)
        return super().decode(frame, max_size=max_size)


class _RecordingFactory(ServerPerMessageDeflateFactory):
    def process_request_params(self, params, accepted_extensions):
        response, ext = super().process_request_params(params, accepted_extensions)
        return response, _RecordingDeflate(ext.remote_no_context_takeover, ext.local_no_context_takeover,
                                           ext.remote_max_window_bits, ext.local_max_window_bits, ext.compress_settings)


async def test_deflate_is_negotiated_for_what_arrives_but_nothing_sent_is_compressed():
    """The service offers permessage-deflate: its frames may come compressed and are read; Parley's
    own frames (the microphone's appends) go out uncompressed, which saves deflating each one."""
    _RecordingDeflate.compressed = []
    answer = json.dumps({"type": "response.output_audio.delta", "delta": "QUFB" * 5000})
    received: list[str] = []

    async def handler(ws):
        await ws.send(answer)
        received.append(await ws.recv())
        received.append(await ws.recv())

    server = await serve(handler, "127.0.0.1", 0, compression=None, extensions=[_RecordingFactory()])
    try:
        port = server.sockets[0].getsockname()[1]
        sock = await RealtimeSocket.open(f"ws://127.0.0.1:{port}/v1/realtime")
        assert await sock.recv() == answer  # came compressed (the server deflates), read as it was sent
        append = json.dumps({"type": "input_audio_buffer.append", "audio": "QUFB" * 5000})
        assert sock.send_nowait(append)
        await sock.send('{"type":"response.create"}')
        await sock.close()
    finally:
        server.close()
        await server.wait_closed()
    assert received == [append, '{"type":"response.create"}']
    # negotiated (the server's extension saw every frame: both messages and the close), none compressed
    assert len(_RecordingDeflate.compressed) >= 2 and not any(_RecordingDeflate.compressed)
