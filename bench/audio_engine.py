"""Audio engine benchmark on real devices (a private PipeWire null-sink session, as in the tests).

Prints, against the budgets of architecture §4:

* mic callback → encoded frame latency p50/p95 (budget ≤ 30 ms): for every 960-byte frame, the time
  from the PortAudio callback that delivered the frame's last input sample to the frame being
  encoded and base64'd for ``input_audio_buffer.append``. Resampler look-ahead and FIFO waits count.
* decoded delta → output callback latency p50/p95 (budget ≤ 60 ms): from a delta's arrival (before
  base64/decoding) to the output callback that hands its first sample to the device, for the first
  delta of each response (prebuffer included), and the client-added part for every delta (time
  beyond when the audio queued ahead of it finished).
* CPU % of one core for 60 s of full-duplex streaming (budget ≤ 1.5 %): process CPU time, which
  includes the PortAudio and PipeWire-client threads in this process but not the PipeWire daemons.
* underruns while the event loop is loaded (budget 0): the loop is blocked 40 ms of every 100 ms by
  Python work holding the GIL, while responses play.

A "server" plays along on the loop: every 3 s it sends a 1.5 s response as 50 ms base64 deltas at
twice real time, and the microphone is streamed and encoded continuously (hands-free).

Run: ``.venv/bin/python bench/audio_engine.py [--seconds 60]`` (about 80 s in all).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.audio.codecs import Decoder, Encoder, float_to_pcm16  # noqa: E402
from desktop_app.audio.engine import AudioEngine  # noqa: E402
from tests.plugins.pipewire import PipeWireSession  # noqa: E402

DELTA_MS = 50
RESPONSE_MS = 1500
RESPONSE_EVERY_S = 3.0


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


class Bench:
    """One engine, a simulated server, and the measurements."""

    def __init__(self) -> None:
        self.engine = AudioEngine(on_mic_frame=self.on_mic_frame, output_hook=self.on_output_block)
        self.encoder = Encoder("audio/pcm")
        self.decoder = Decoder("audio/pcm")
        self.mic_latency: list[float] = []
        self.sent = 0
        self.handed: list[tuple[float, str, int]] = []  # (callback time, item, played samples)
        self.deltas: list[tuple[str, int, float, bool]] = []  # (item, first sample, received, first?)
        self.recording = False
        tone = 0.3 * np.sin(2 * np.pi * 330 * np.arange(24 * RESPONSE_MS) / 24000)
        chunks = np.array_split(float_to_pcm16(tone.astype(np.float32)), RESPONSE_MS // DELTA_MS)
        self.response_b64 = [base64.b64encode(chunk.tobytes()).decode() for chunk in chunks]

    def on_mic_frame(self, frame: bytes) -> None:
        capture = self.engine.capture
        assert capture is not None and capture.chain is not None
        payload = base64.b64encode(self.encoder.encode(frame)).decode()  # what goes on the wire
        done = time.monotonic()
        self.sent += len(payload)
        position = math.ceil(capture.chain.last_frame_end * capture.samplerate / 24000)
        t_callback = capture.input_time(position)
        if self.recording and t_callback is not None:
            self.mic_latency.append(1000 * (done - t_callback))

    def on_output_block(self, block: np.ndarray, dac_time: float) -> None:
        # audio thread: only a cheap append (bench instrumentation)
        item = self.current_item
        if item is not None:
            self.handed.append((time.monotonic(), item, self.engine.queue.report(item).played_samples))

    current_item: str | None = None

    async def serve(self, stop_at: float, label: str) -> None:
        """Send a response every RESPONSE_EVERY_S until ``stop_at`` (loop time)."""
        loop = asyncio.get_running_loop()
        n = 0
        while loop.time() + RESPONSE_EVERY_S < stop_at:
            start = loop.time()
            item = f"{label}-{n}"
            n += 1
            self.current_item = item
            offset = 0
            for k, b64 in enumerate(self.response_b64):
                await asyncio.sleep(max(0.0, start + k * DELTA_MS / 2000 - loop.time()))
                received = time.monotonic()
                pcm = self.decoder.decode(base64.b64decode(b64))
                self.engine.queue.enqueue(item, pcm)
                self.deltas.append((item, offset, received, k == 0))
                offset += len(pcm) // 2
            self.engine.queue.finish(item)
            await asyncio.sleep(max(0.0, start + RESPONSE_EVERY_S - loop.time()))

    def delta_latencies(self) -> tuple[list[float], list[float]]:
        """(response-start latencies, client-added latencies of every delta), in ms."""
        by_item: dict[str, list[tuple[float, int]]] = {}
        for t, item, played in self.handed:
            by_item.setdefault(item, []).append((t, played))
        starts, added = [], []
        for item, first_sample, received, first in self.deltas:
            handed = by_item.get(item, [])
            t_first = next((t for t, played in handed if played > first_sample), None)
            if t_first is None:
                continue
            t_ready = received
            if first_sample > 0:  # audio ahead of it was still playing: it could not start earlier
                t_prev = next((t for t, played in handed if played >= first_sample), None)
                if t_prev is not None:
                    t_ready = max(received, t_prev)
            added.append(1000 * max(0.0, t_first - t_ready))
            if first:
                starts.append(1000 * (t_first - received))
        return starts, added


def bare_streams_cpu(in_dev: int, in_rate: int, out_dev: int, out_rate: int, seconds: float) -> float:
    """CPU of two PortAudio streams like the engine's (same devices, rates, 20 ms blocks, 'low'
    latency) whose callbacks do nothing: the PortAudio + PipeWire-client floor under the engine."""
    import sounddevice as sd

    def silent(outdata, frames, time_info, status) -> None:
        outdata.fill(0)

    streams = [
        sd.InputStream(device=in_dev, samplerate=in_rate, blocksize=in_rate // 50, channels=1, dtype="float32",
                       latency="low", callback=lambda indata, frames, time_info, status: None),
        sd.OutputStream(device=out_dev, samplerate=out_rate, blocksize=out_rate // 50, channels=1, dtype="float32",
                        latency="low", callback=silent),
    ]
    for stream in streams:
        stream.start()
    time.sleep(1.0)
    cpu0, t0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    cpu = 100 * (time.process_time() - cpu0) / (time.monotonic() - t0)
    for stream in streams:
        stream.close()
    return cpu


def busy(ms: float) -> None:
    end = time.perf_counter() + ms / 1000
    x = 0
    while time.perf_counter() < end:  # pure Python: holds the GIL like heavy UI work would
        x += 1


async def run(seconds: float) -> None:
    bench = Bench()
    engine = bench.engine
    loop = asyncio.get_running_loop()
    engine.start()
    capture, playback = engine.capture, engine.playback
    assert capture is not None and playback is not None
    print(f"devices: in {capture.device.name} @ {capture.samplerate} Hz ({capture.block_ms:.0f} ms blocks), "
          f"out {playback.device.name} @ {playback.samplerate} Hz ({playback.block_ms:.0f} ms blocks)")
    await asyncio.sleep(1.0)  # let the streams settle before measuring

    # idle: muted, nothing playing (the microphone pauses at once, the speaker after 2 s)
    engine.mute(True)
    await asyncio.sleep(2.5)
    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.sleep(5.0)
    idle_cpu = 100 * (time.process_time() - cpu0) / (time.monotonic() - t0)
    engine.mute(False)

    # full duplex
    bench.recording = True
    under0, dev0 = engine.queue.underruns, playback.device_underflows
    cpu0, t0 = time.process_time(), time.monotonic()
    await bench.serve(loop.time() + seconds, "duplex")
    wall = time.monotonic() - t0
    duplex_cpu = 100 * (time.process_time() - cpu0) / wall
    duplex_underruns = engine.queue.underruns - under0
    duplex_dev = playback.device_underflows - dev0
    bench.recording = False

    # loaded loop
    under0, dev0, over0 = engine.queue.underruns, playback.device_underflows, capture.overflows
    stop_at = loop.time() + 12.0
    served = asyncio.ensure_future(bench.serve(stop_at, "loaded"))
    while loop.time() < stop_at:
        busy(40)
        await asyncio.sleep(0.06)
    await served
    loaded_underruns = engine.queue.underruns - under0
    loaded_dev = playback.device_underflows - dev0
    loaded_over = capture.overflows - over0
    in_dev, in_rate, out_dev, out_rate = capture.device.index, capture.samplerate, playback.device.index, playback.samplerate
    engine.stop()
    floor_cpu = bare_streams_cpu(in_dev, in_rate, out_dev, out_rate, 10.0)

    starts, added = bench.delta_latencies()
    print(f"mic callback -> encoded frame: p50 {pct(bench.mic_latency, 50):.1f} ms, "
          f"p95 {pct(bench.mic_latency, 95):.1f} ms over {len(bench.mic_latency)} frames (budget <= 30 ms)")
    print(f"delta received -> output callback, response start: p50 {pct(starts, 50):.1f} ms, "
          f"p95 {pct(starts, 95):.1f} ms over {len(starts)} responses (budget <= 60 ms)")
    print(f"delta received -> output callback, client-added per delta: p50 {pct(added, 50):.1f} ms, "
          f"p95 {pct(added, 95):.1f} ms over {len(added)} deltas")
    print(f"CPU, full duplex {wall:.0f} s: {duplex_cpu:.2f} % of one core in all; the same two streams with "
          f"empty callbacks: {floor_cpu:.2f} %; so the engine alone: {duplex_cpu - floor_cpu:.2f} % (budget <= 1.5 %)")
    print(f"CPU idle (muted, nothing playing): {idle_cpu:.2f} % (budget <= 0.5 %)")
    print(f"underruns, full duplex: queue {duplex_underruns}, device {duplex_dev}")
    print(f"underruns, loop blocked 40 ms of every 100 ms: queue {loaded_underruns}, device {loaded_dev}, "
          f"mic overflows {loaded_over} (budget 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="full-duplex measurement length")
    args = parser.parse_args()
    session = PipeWireSession()
    session.start()
    try:
        asyncio.run(run(args.seconds))
    finally:
        session.stop()
    sys.stdout.flush()
    os._exit(0)  # PortAudio's atexit terminate would talk to the session just stopped


if __name__ == "__main__":
    main()
