"""WebSocket against WebRTC on the same scripted conversation, with the local server in its own process.

The conversation: a spoken question ("What is two plus three?"), its spoken answer, a second question
("What time is it?") once the first answer has played, and its answer — the app's own controller
with a file as the microphone and a clocked sink as the speaker (what ``parley --headless`` runs),
once per transport, ``--runs`` times alternating.

Figures (client side only; the server is another process):

* **uplink added latency**: from a microphone frame reaching the controller to the moment it leaves
  the client — WebSocket: the ``input_audio_buffer.append`` carrying it handed to the socket;
  WebRTC: the frame taken by the Opus encoder plus the encode time.
* **downlink added latency**: from the assistant's audio reaching the client to its PCM in the
  playback queue — WebSocket: the delta frame out of the socket to the decoded PCM enqueued;
  WebRTC: the RTP packet into the receiver to the decoded, resampled PCM enqueued (the jitter buffer
  included: aiortc releases a frame once four newer ones have arrived).
* **CPU**: the client process's CPU time per second of conversation (server excluded).
* **bytes on the wire** per second of conversation each way, and per second of assistant audio
  received (payload bytes: WebSocket text frames, WebRTC DTLS/SRTP/SCTP datagrams; IP/TCP/UDP headers
  not counted).

Run: ``.venv/bin/python bench/transport.py [--runs 2]`` (about 30 s per run and transport).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.controller.controller import Controller  # noqa: E402
from desktop_app.controller.ports import FilePort  # noqa: E402
from desktop_app.realtime.session_config import ServerVad, SessionConfig, Transcription  # noqa: E402
from desktop_app.rtp_audio import TrackPcm  # noqa: E402
from desktop_app.transport.webrtc_support import transport_factory  # noqa: E402
from tests.helpers.speech import read_wav, speech_wav  # noqa: E402


class Probe:
    """Timestamps at the client's edges, for one run."""

    def __init__(self) -> None:
        self.mic: deque[float] = deque()  # microphone frames handed over, not yet sent
        self.taken: deque[float] = deque()  # WebRTC: frames taken by the sender, not yet encoded
        self.up: list[float] = []
        self.down: list[float] = []
        self.rtp_arrival: dict[int, float] = {}  # WebRTC: RTP timestamp (from the first) → arrival
        self.rtp_first: int | None = None
        self.delta_arrival: deque[float] = deque()  # WebSocket: audio deltas out of the socket


PROBE = Probe()


def instrument_webrtc() -> None:
    """Wrap aiortc's and Parley's media edges (in this benchmark only) to stamp frames."""
    from aiortc import rtcrtpreceiver
    from aiortc.codecs import opus

    from desktop_app.transport import webrtc as webrtc_module
    from desktop_app.transport import webrtc_media

    handle = rtcrtpreceiver.RTCRtpReceiver._handle_rtp_packet

    async def handle_rtp(self: Any, packet: Any, arrival_time_ms: int) -> None:
        # aiortc hands decoded frames a pts counted from the stream's first RTP timestamp
        if PROBE.rtp_first is None:
            PROBE.rtp_first = packet.timestamp
        PROBE.rtp_arrival[(packet.timestamp - PROBE.rtp_first) % 2**32] = time.perf_counter()
        await handle(self, packet, arrival_time_ms)

    encode = opus.OpusEncoder.encode

    def timed_encode(self: Any, frame: Any, force_keyframe: bool = False) -> Any:
        out = encode(self, frame, force_keyframe)
        if frame.sample_rate == 24000 and PROBE.taken:  # the microphone's encoder (the server's is another process)
            PROBE.up.append(time.perf_counter() - PROBE.taken.popleft())
        return out

    push, recv = webrtc_media.MicTrack.push, webrtc_media.MicTrack.recv

    def timed_push(self: Any, pcm16: bytes) -> None:
        PROBE.mic.append(time.perf_counter())
        push(self, pcm16)

    async def timed_recv(self: Any) -> Any:
        frame = await recv(self)
        if len(PROBE.mic) > len(self._queue):  # this frame came from the microphone, not a silent gap
            PROBE.taken.append(PROBE.mic.popleft())
        return frame

    async def timed_pump(track: Any, deliver: Any) -> None:
        pcm = TrackPcm()
        while True:
            try:
                frame = await track.recv()
            except webrtc_media.MediaStreamError:
                return
            arrived = PROBE.rtp_arrival.pop(frame.pts, None)
            data = pcm.convert(frame)
            if not data:
                continue
            queued = PORT.enqueued if PORT is not None else 0
            deliver(data)
            if arrived is not None and PORT is not None and PORT.enqueued > queued:
                PROBE.down.append(time.perf_counter() - arrived)  # it went into the playback queue

    rtcrtpreceiver.RTCRtpReceiver._handle_rtp_packet = handle_rtp  # type: ignore[method-assign]
    opus.OpusEncoder.encode = timed_encode  # type: ignore[method-assign]
    webrtc_media.MicTrack.push = timed_push  # type: ignore[method-assign]
    webrtc_media.MicTrack.recv = timed_recv  # type: ignore[method-assign]
    webrtc_module.pump_remote = timed_pump  # type: ignore[assignment]


class TimedPort(FilePort):
    """The file port, stamping microphone frames and counting what is enqueued."""

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.enqueued = 0
        self.live: Any = lambda: False  # the controller sends frames (a session is open)

    def start(self, on_mic_frame: Any) -> list[str]:
        def stamped(pcm: bytes) -> None:
            if self.kind == "websocket" and self.live():
                PROBE.mic.append(time.perf_counter())
            on_mic_frame(pcm)
        return super().start(stamped)

    def enqueue(self, item_id: str, pcm16: bytes) -> None:
        super().enqueue(item_id, pcm16)
        self.enqueued += 1
        if self.kind == "websocket" and PROBE.delta_arrival:
            PROBE.down.append(time.perf_counter() - PROBE.delta_arrival.popleft())


PORT: TimedPort | None = None


def websocket_factory() -> Any:
    from desktop_app.transport.socket import open_websocket

    async def open_(endpoint: Any, observer: Any = None) -> Any:
        sock = await open_websocket(endpoint, observer)
        send, recv = sock.send, sock.recv

        async def timed_send(text: str) -> None:
            await send(text)
            if '"input_audio_buffer.append"' in text and PROBE.mic:
                PROBE.up.append(time.perf_counter() - PROBE.mic.popleft())

        async def timed_recv() -> str | None:
            text = await recv()
            if text is not None and '"response.output_audio.delta"' in text:
                PROBE.delta_arrival.append(time.perf_counter())
            return text

        sock.send, sock.recv = timed_send, timed_recv  # type: ignore[method-assign]
        return sock
    return open_


async def one_run(url: str, kind: str) -> dict[str, float]:
    global PROBE
    PROBE = Probe()
    first, rate = read_wav(speech_wav("What is two plus three?"))
    second, _ = read_wav(speech_wav("What time is it?"))
    global PORT
    port = PORT = TimedPort((first, rate), kind=kind)
    factory = websocket_factory() if kind == "websocket" else transport_factory("webrtc")

    async def target() -> tuple[str, dict[str, str]]:
        return url, {}

    ctl = Controller(target=target, audio=port, max_retries=0, open_transport=factory,
                     config=SessionConfig(turn_detection=ServerVad(silence_duration_ms=500),
                                          transcription=Transcription()))
    port.live = lambda: ctl.connection.core is not None and ctl.connection.core.session is not None
    cpu0, t0 = time.process_time(), time.perf_counter()
    await ctl.connect()
    await ctl.wait_for(lambda: ctl.responses_finished >= 1 and not port.is_playing, 60)
    port.say(second.tobytes())
    await ctl.wait_for(lambda: ctl.responses_finished >= 2 and not port.is_playing, 60)
    link = ctl.connection.link
    assert link is not None
    stats = link.transport.stats()
    if kind == "webrtc":
        stats = await link.transport.refresh_stats()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    answers = [e.text for e in ctl.transcript() if e.role == "assistant"]
    await ctl.close()
    assistant_s = sum(port.queue.report(e.item_id).received_ms for e in ctl.transcript() if e.role == "assistant") / 1000
    return {
        "wall_s": wall, "cpu_pct": 100 * cpu / wall, "answers": len(answers),
        "up_ms": 1000 * statistics.median(PROBE.up) if PROBE.up else float("nan"),
        "up_p95_ms": 1000 * _p95(PROBE.up), "down_ms": 1000 * statistics.median(PROBE.down) if PROBE.down else float("nan"),
        "down_p95_ms": 1000 * _p95(PROBE.down),
        "up_Bps": stats.bytes_sent / wall, "down_Bps": stats.bytes_received / wall,
        "down_B_per_audio_s": stats.bytes_received / max(assistant_s, 1e-3), "assistant_audio_s": assistant_s,
    }


def _p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "desktop_app", "serve", "--port", "0", "--log-level", "WARNING"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent)))
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"(ws://\S+)", line)
        if match:
            return proc, match.group(1)
    raise RuntimeError("the local server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    instrument_webrtc()
    proc, url = start_server()
    rows: dict[str, list[dict[str, float]]] = {"websocket": [], "webrtc": []}
    try:
        for _ in range(args.runs):
            for kind in rows:
                rows[kind].append(asyncio.run(one_run(url, kind)))
                print(kind, json.dumps({k: round(v, 1) for k, v in rows[kind][-1].items()}), flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"\nload: {os.getloadavg()[0]:.2f} (1 min), {args.runs} run(s) each, medians over runs\n")
    names = [("up_ms", "uplink added, median ms"), ("up_p95_ms", "uplink added, p95 ms"),
             ("down_ms", "downlink added, median ms"), ("down_p95_ms", "downlink added, p95 ms"),
             ("cpu_pct", "client CPU, % of one core"), ("up_Bps", "uplink bytes/s of conversation"),
             ("down_Bps", "downlink bytes/s of conversation"), ("down_B_per_audio_s", "downlink bytes per assistant audio s")]
    print("| figure | WebSocket | WebRTC | WebRTC / WebSocket |\n|---|---|---|---|")
    for key, label in names:
        ws = statistics.median(r[key] for r in rows["websocket"])
        rtc = statistics.median(r[key] for r in rows["webrtc"])
        print(f"| {label} | {ws:.1f} | {rtc:.1f} | {rtc / ws:.2f} |")


if __name__ == "__main__":
    main()
