"""GPT-Live barge-in on the local server: how long the assistant goes on once the user talks over it.

The session clock is the input the client sends (live-protocol.md §6), so the figure is session time,
not wall time: the user's interrupting speech starts at a known point of the input; the last voiced
20 ms block of the output track after it marks where the assistant fell silent. Target: "within a few
hundred ms" (``Options.live_barge_ms`` = 250 plus the VAD's onset, three voiced 30 ms frames).

Run: ``.venv/bin/python bench/live_barge_in.py [--trials 5]`` (about 10 s a trial; eSpeak voice, no ASR).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_app.local_server import LocalServer  # noqa: E402
from desktop_app.local_server.speech.tts import synthesize  # noqa: E402
from tests.local_server.live_client import LiveClient, voiced_ms  # noqa: E402


async def trial(url: str) -> float:
    client = await LiveClient.open(url)
    await client.start()
    hello, _ = synthesize("Hello there.", "alloy", "espeak")
    stop, _ = synthesize("Stop, please wait.", "alloy", "espeak")
    await client.stream(hello, real_time=4)
    await client.await_while_talking("session.output_transcript.delta")
    await client.silence(1500, real_time=4)
    onset = client.sent_ms
    await client.stream(stop, real_time=4)
    await client.silence(1000, real_time=4)
    await client.caught_up()
    voiced = [t for t in voiced_ms(bytes(client.output)) if t >= onset]
    await client.close()
    last = onset - 20.0
    for t in voiced:  # the run of voice that was under way; the answer to the interruption comes after a gap
        if t - last > 200:
            break
        last = t
    return last + 20 - onset


async def main(trials: int) -> None:
    async with LocalServer(port=0, tts="espeak", asr="none", live_barge_ms=250) as srv:
        figures = [await trial(srv.live_url) for _ in range(trials)]
    print(f"GPT-Live barge-in, session ms from the user's speech to the assistant's silence, {trials} trials: "
          f"median {statistics.median(figures):.0f}, max {max(figures):.0f} (target ≤ 600; the model's own "
          f"delay is 250, the rest the VAD's onset)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    asyncio.run(main(parser.parse_args().trials))
