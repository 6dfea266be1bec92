"""Load benchmark of the embedded local Realtime server: N concurrent hands-free sessions.

Each session streams real-time microphone audio (20 ms ``input_audio_buffer.append`` chunks, on a
clock) made of a spoken question ("What is two plus three?", synthesized offline) followed by
silence, over and over. The server's VAD ends each turn, its recognizer transcribes it in the
speech worker pool, the brain answers, the answer is synthesized and streamed back in real time.

The server runs in its own process (``python -m desktop_app.local_server``) so its CPU can be read
from /proc without the clients' share. Printed:

* event delay p50/p95/max: for every ``response.output_audio.delta``, how late it arrived against a
  real-time schedule anchored at its response's first delta (the pacing the server promises), and
  for every ``speech_stopped``, the time from sending the audio at ``audio_end_ms`` to receiving it;
* server CPU: % of one core, in all and per session (process CPU time over the measured window),
  for the protocol process and, separately, its speech worker processes;
* the server's own view (``--report-timing``): how late its paced audio chunks and its 10 ms loop
  wake-ups were, which the clients' numbers include plus their own scheduling;
* turns: answers that started, and the turn latency (speech_stopped → first audio delta) p50/p95,
  which grows with the recognition queue when many sessions talk at once.

Run: ``.venv/bin/python bench/local_server_load.py [--sessions 50] [--seconds 30] [--asr whisper]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_app.local_server.speech.tts import synthesize  # noqa: E402

CHUNK_MS = 20
TICK = os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # it has ended
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def child_pids(pid: int) -> list[int]:
    """The processes a process started (the server's speech workers), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


class Stats:
    def __init__(self) -> None:
        self.delta_late: list[float] = []
        self.vad_delay: list[float] = []
        self.turn_latency: list[float] = []
        self.answers = 0
        self.completed = 0
        self.errors: list[str] = []
        self.measuring = False


def append_frames(audio: np.ndarray) -> list[str]:
    """The whole looped input as ready-made ``input_audio_buffer.append`` frames of CHUNK_MS each
    (built once, so the clients spend their CPU on sending and receiving, not on encoding)."""
    step = 24 * CHUNK_MS
    audio = np.concatenate([audio, np.zeros(-len(audio) % step, np.int16)])
    return [json.dumps({"type": "input_audio_buffer.append",
                        "audio": base64.b64encode(audio[at : at + step].tobytes()).decode()})
            for at in range(0, len(audio), step)]


_DELTA_PREFIX = '{"type": "response.output_audio.delta"'


async def run_session(url: str, frames: list[str], stats: Stats, stop: asyncio.Event, offset: int) -> None:
    loop = asyncio.get_running_loop()
    async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        # Like the app: a silence window that does not split a question at its commas.
        await ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
            "turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}}}}))
        sent: list[tuple[float, float]] = []  # (timeline ms at the end of a chunk, send time)

        async def reader() -> None:
            anchor = None
            audio_ms = 0.0
            stopped_at = None
            async for frame in ws:
                now = loop.time()
                if frame.startswith(_DELTA_PREFIX):  # the bulk of the traffic: no JSON parse
                    if anchor is None:
                        anchor, audio_ms = now, 0.0
                        if stopped_at is not None and stats.measuring:
                            stats.turn_latency.append(now - stopped_at)
                            stats.answers += 1
                        stopped_at = None
                    elif stats.measuring:
                        stats.delta_late.append(max(0.0, now - (anchor + audio_ms / 1000.0)))
                    at = frame.rfind('"delta": "') + 10
                    b64 = frame[at : frame.index('"', at)]
                    audio_ms += (len(b64) * 3 // 4 - b64.count("=")) / 48.0
                    continue
                event = json.loads(frame)
                kind = event["type"]
                if kind == "response.done":
                    anchor = None
                    if stats.measuring and event["response"]["status"] == "completed":
                        stats.completed += 1
                elif kind == "input_audio_buffer.speech_stopped":
                    stopped_at = now
                    end = event["audio_end_ms"]
                    at = next((t for pos, t in sent if pos >= end), None)
                    if at is not None and stats.measuring:
                        stats.vad_delay.append(max(0.0, now - at))
                elif kind == "error":
                    stats.errors.append(event["error"].get("code") or event["error"]["message"])

        read_task = loop.create_task(reader())
        start = loop.time()
        i = 0
        try:
            while not stop.is_set():
                await ws.send(frames[(offset + i) % len(frames)])
                i += 1
                sent.append((i * CHUNK_MS, loop.time()))
                if len(sent) > 2000:
                    del sent[:1000]
                await asyncio.sleep(max(0.0, start + i * CHUNK_MS / 1000.0 - loop.time()))
        finally:
            read_task.cancel()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--asr", default="whisper", choices=["whisper", "sphinx", "none"])
    parser.add_argument("--tts", default="piper", choices=["piper", "espeak", "tone"])
    parser.add_argument("--workers", type=int, default=2, help="server speech worker threads")
    parser.add_argument("--gap-ms", type=int, default=6000, help="silence after each question")
    args = parser.parse_args()

    pcm, _ = synthesize("What is two plus three?", "alloy", args.tts if args.tts != "tone" else "espeak")
    audio = np.concatenate([np.zeros(24 * 300, np.int16), pcm, np.zeros(24 * args.gap_ms, np.int16)])
    frames = append_frames(audio)

    server = subprocess.Popen(
        [sys.executable, "-m", "desktop_app.local_server", "--port", "0", "--asr", args.asr, "--tts", args.tts,
         "--workers", str(args.workers), "--max-sessions", str(args.sessions + 10), "--log-level", "WARNING",
         "--report-timing"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split(": ", 1)[1].strip()
        # Warm up: one spoken turn loads the recognizer and the synthesizer.
        warm = Stats()
        warm_stop = asyncio.Event()
        warm.measuring = True
        task = asyncio.ensure_future(run_session(url, frames, warm, warm_stop, 0))
        deadline = time.monotonic() + 120
        while warm.completed == 0 and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.2)
        warm_stop.set()
        await task

        stats = Stats()
        stop = asyncio.Event()
        # Sessions start at different points of the loop, so their questions are spread in time.
        tasks = [asyncio.ensure_future(run_session(url, frames, stats, stop, k * len(frames) // args.sessions))
                 for k in range(args.sessions)]
        await asyncio.sleep(3.0)  # every session connected and streaming
        stats.measuring = True
        workers = child_pids(server.pid)
        cpu0, client0, t0 = cpu_seconds(server.pid), time.process_time(), time.monotonic()
        workers0 = sum(cpu_seconds(w) for w in workers)
        await asyncio.sleep(args.seconds)
        cpu1, client1, t1 = cpu_seconds(server.pid), time.process_time(), time.monotonic()
        workers1 = sum(cpu_seconds(w) for w in workers)
        load_average = os.getloadavg()[0]
        stats.measuring = False
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        server.send_signal(signal.SIGINT)
        tail, _ = server.communicate(timeout=60)

    wall = t1 - t0
    server_cpu = (cpu1 - cpu0) / wall * 100.0
    speech_cpu = (workers1 - workers0) / wall * 100.0
    late_ms = [x * 1000 for x in stats.delta_late]
    vad_ms = [x * 1000 for x in stats.vad_delay]
    print(f"local server load: {args.sessions} sessions, {wall:.0f} s measured, asr={args.asr}, tts={args.tts}, "
          f"{args.workers} speech workers, {os.cpu_count()} cores")
    print(f"  audio delta delay   p50 {pct(late_ms, 50):6.1f} ms   p95 {pct(late_ms, 95):6.1f} ms   "
          f"max {max(late_ms, default=float('nan')):6.1f} ms   ({len(late_ms)} deltas)")
    print(f"  speech_stopped delay p50 {pct(vad_ms, 50):6.1f} ms   p95 {pct(vad_ms, 95):6.1f} ms   ({len(vad_ms)} turns)")
    all_ms = late_ms + vad_ms
    print(f"  event delay (both)  p95 {pct(all_ms, 95):6.1f} ms   target < 20 ms: "
          f"{'MET' if pct(all_ms, 95) < 20 else 'NOT MET'}")
    print(f"  server CPU          {server_cpu:6.1f} % of one core, {server_cpu / args.sessions:5.2f} % per session "
          f"(the protocol process; client process {(client1 - client0) / wall * 100:.0f} %)")
    total = server_cpu + speech_cpu
    print(f"  + speech workers    {speech_cpu:6.1f} % ({len(workers)} processes, nice +5/+12): "
          f"{total:.1f} % in all, {total / args.sessions:5.2f} % per session")
    lat = [x * 1000 for x in stats.turn_latency]
    print(f"  turns answered      {stats.answers} started, {stats.completed} completed; turn latency "
          f"p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms (recognition queue)")
    for line in tail.splitlines():
        if line.startswith("timing:"):
            print(f"  server-side {line[8:]}  (whole run)")
    print(f"  load average while measuring: {load_average:.2f} (other processes share these {os.cpu_count()} cores)")
    if stats.errors:
        codes = sorted(set(stats.errors))
        print(f"  errors              {len(stats.errors)}: {', '.join(codes)}")


if __name__ == "__main__":
    asyncio.run(main())
