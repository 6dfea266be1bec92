"""The microphone's send path, change by change (#23): the loop's CPU per 20 ms frame from the core's
``append_audio`` to the socket, under qasync as the window runs it.

A client in this process — ``RealtimeConnection`` + ``Link`` + ``RealtimeSocket`` on a qasync loop,
with the app's logging set up (the rotating DEBUG file in a temp folder) — sends ``--frames``
appends of 20 ms (960 bytes of PCM16 speech-like noise, base64) at 50 a second to a websockets
server in another process that only reads (permessage-deflate offered, as the service does). The
client's CPU time (this process: the loop thread; the server is elsewhere) per frame is printed for:

* **before #23**: every frame through the writer task (an ``asyncio.Queue`` hop: a task switch, a
  Qt timer event under qasync), deflated, and a DEBUG record per frame (the transport's and
  websockets' own);
* each change alone on top of that (no record per frame; no deflate on what we send; straight to
  the socket without the queue hop);
* **after #23**: all three.

Run: ``.venv/bin/python bench/send_path.py [--frames 1500]`` (about 30 s per variant, offscreen).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SERVER = textwrap.dedent("""
    import asyncio, sys
    from websockets.asyncio.server import serve
    async def handler(ws):
        async for _ in ws:
            pass
    async def main():
        async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
            print(server.sockets[0].getsockname()[1], flush=True)
            await asyncio.Future()
    asyncio.run(main())
""")

VARIANTS = (
    ("before #23: queue hop, deflate, a DEBUG record per frame", dict(hop=True, deflate=True, records=True)),
    ("  … without the record per frame", dict(hop=True, deflate=True, records=False)),
    ("  … without deflating what is sent", dict(hop=True, deflate=False, records=True)),
    ("  … straight to the socket (no queue hop)", dict(hop=False, deflate=True, records=True)),
    ("after #23: all three", dict(hop=False, deflate=False, records=False)),
)


async def run(url: str, frames: int, *, hop: bool, deflate: bool, records: bool) -> float:
    """CPU seconds of this process per frame sent."""
    import numpy as np
    from websockets.extensions.permessage_deflate import PerMessageDeflate

    from desktop_app.controller.link import Link
    from desktop_app.log import log_frames
    from desktop_app.realtime.connection import RealtimeConnection
    from desktop_app.transport import socket as socket_module
    from desktop_app.transport.socket import RealtimeSocket

    log_frames(records)
    # deflate=True puts back what the client did before: compress every frame it sends
    socket_module._InflateOnly.encode = PerMessageDeflate.encode if deflate else (lambda self, frame: frame)  # type: ignore[method-assign]
    sock = await RealtimeSocket.open(url)
    if hop:
        sock.send_nowait = lambda text: False  # type: ignore[method-assign]  # every frame through the writer
    core = RealtimeConnection()
    core.receive_message('{"type":"session.created","event_id":"e1","session":{"type":"realtime","model":"gpt-realtime"}}')
    core.frames_to_send()
    core.events_received()
    link = Link(sock, core, lambda events: None, lambda exc: None)
    rng = np.random.default_rng(1)
    pcm = [(rng.standard_normal(480) * 3000).astype("<i2").tobytes() for _ in range(50)]
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    sent = 0
    t0 = loop.time()
    cpu0 = time.process_time()

    def frame() -> None:  # as the capture drain does: append, flush, on the loop, 50 a second
        nonlocal sent
        core.append_audio(pcm[sent % len(pcm)])
        link.flush()
        sent += 1
        if sent < frames:
            loop.call_at(t0 + sent * 0.02, frame)
        elif not done.done():
            done.set_result(None)

    loop.call_soon(frame)
    await done
    await link.drain()
    cpu = time.process_time() - cpu0
    await link.close()
    return cpu / frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1500)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    from desktop_app.log import setup_logging

    home = Path(tempfile.mkdtemp(prefix="parley-bench-send-"))
    setup_logging("CRITICAL", log_file=home / "parley.log")  # the app's handlers: console quiet, DEBUG file
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        url = f"ws://127.0.0.1:{port}/v1/realtime"
        app = QApplication.instance() or QApplication([])
        results = []
        for label, variant in VARIANTS:
            per_frame = qasync.run(run(url, args.frames, **variant))
            results.append((label, per_frame))
            print(f"{label}: {per_frame * 1e6:.0f} µs per frame", flush=True)
        del app
    finally:
        server.terminate()
        server.wait(10)
        logging.shutdown()
    print(f"\nThe loop's CPU per 20 ms microphone frame, append → socket ({args.frames} frames at 50 a second, "
          f"qasync; load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}):\n")
    print("| variant | µs per frame | % of one core at 50 frames/s |\n|---|---|---|")
    for label, per_frame in results:
        print(f"| {label.strip()} | {per_frame * 1e6:.0f} | {per_frame * 50 * 100:.2f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
