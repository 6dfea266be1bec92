"""A scripted GA Realtime server for side-by-side client benchmarks: every client gets the same
server, whose timing is fixed and known, so what differs between the figures is the client.

* **VAD on the first loud sample.** Each ``input_audio_buffer.append`` is decoded; the first sample
  above ``threshold`` (|x| ≥ 0.01, −40 dBFS) after a quiet spell is an *onset*: it is logged with the
  time the append carrying it was received and, when turn detection is on (any type: ``server_vad``
  or ``semantic_vad`` get the same fixed VAD), ``input_audio_buffer.speech_started`` goes out at once
  (``audio_start_ms`` = onset − 300 ms padding). So "sound at the microphone → speech_started" is the
  client's capture-to-wire path plus the device, nothing of the server. ``silence_ms`` (500) of
  appended audio with no loud sample ends the turn: ``speech_stopped``, the commit's item events,
  and a response — at once, with no thinking time. With ``turn_detection: null`` (push-to-talk)
  onsets are still logged; ``input_audio_buffer.commit`` + ``response.create`` drive the turn.
* **A fixed spoken answer.** Every response is the same pcm16 24 kHz answer, sent as ``chunk_ms``
  deltas on a real-time clock (``pace`` 1.0, like the embedded server's default; > 1 runs ahead),
  each preceded by the transcript words that start inside it. Speech over the answer cancels it
  (``interrupt_response``) the way the service does: closing events, ``response.done`` cancelled.
* **Input transcription** (when the session asks for it): the n-th committed user item is
  "transcribed" as the n-th of ``questions`` — the text the bench spoke.

:class:`~.scripted_session.ScriptedSession` is sans-I/O (text in, events out, marks for the log); :func:`serve` runs it
over ``websockets`` with the pacing, writing every mark as a JSON line (``t`` = ``time.monotonic()``,
the clock PortAudio's stream times use on Linux, so marks line up with the room's probes).

Run: ``python bench/harness/scripted_server.py --answer A.wav --questions Q.json --log L.jsonl
--port-file P`` (it prints nothing; the port is written to ``--port-file`` once listening).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
import wave
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.harness.scripted_session import (
    CHUNK_MS,
    RATE,
    Answer,
    Mark,
    Response,
    ScriptedSession,
)


def read_answer(wav_path: Path, text: str) -> Answer:
    with wave.open(str(wav_path), "rb") as wav:
        if wav.getframerate() != RATE or wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise ValueError(f"{wav_path}: the answer must be mono pcm16 at {RATE} Hz")
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").copy()
    return Answer(pcm, text)


async def serve(answer: Answer, questions: list[str], log_path: Path, port_file: Path, *, pace: float = 1.0,
                chunk_ms: int = CHUNK_MS) -> None:
    """Serve until cancelled (SIGTERM): one :class:`ScriptedSession` per connection."""
    from websockets.asyncio.server import ServerConnection
    from websockets.asyncio.server import serve as ws_serve
    from websockets.exceptions import ConnectionClosed

    log = open(log_path, "a", buffering=1)  # noqa: SIM115 — opened once, one line per mark
    connections = 0

    def write(marks: list[Mark]) -> None:
        log.writelines(json.dumps(m) + "\n" for m in marks)
        marks.clear()

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        query = parse_qs(urlsplit(ws.request.path if ws.request else "").query)
        s = ScriptedSession(answer, questions, (query.get("model") or ["gpt-realtime"])[0], chunk_ms=chunk_ms,
                            conn=connections)
        pacer: asyncio.Task | None = None

        async def send(events: list[dict[str, Any]]) -> None:
            for e in events:
                await ws.send(json.dumps(e))

        async def pace_response(r: Response) -> None:
            t0 = time.monotonic()
            while not r.over:
                events = s.next_chunk()
                await send(events)
                if r.sent_chunks == 1:
                    s.mark(time.monotonic(), "first_delta", response_id=r.id)
                if r.over:
                    s.mark(time.monotonic(), "response_done", response_id=r.id, status="completed")
                write(s.marks)
                due = t0 + r.sent_chunks * r.chunk / RATE / pace if pace > 0 else 0.0
                await asyncio.sleep(max(0.0, due - time.monotonic()))

        await send(s.opened(time.monotonic()))
        try:
            async for message in ws:
                t = time.monotonic()
                if isinstance(message, bytes):
                    await send([s._error("invalid_event", "binary frames are not supported")])
                    continue
                before = s.active
                await send(s.receive(message, t))
                if s.active is not None and s.active is not before:
                    pacer = asyncio.get_running_loop().create_task(pace_response(s.active))
                write(s.marks)
        except ConnectionClosed:
            pass
        finally:
            if pacer is not None:
                pacer.cancel()
            s.mark(time.monotonic(), "close", appends=s.appends, append_ms=s.append_samples * 1000 / RATE)
            write(s.marks)

    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def stopping() -> None:
        if not stop.done():
            stop.set_result(None)

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping)
    async with ws_serve(handler, "127.0.0.1", 0, max_size=16 * 1024 * 1024) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        port_file.write_text(str(port))
        await stop
    log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answer", type=Path, required=True, help="mono pcm16 24 kHz WAV every response plays")
    parser.add_argument("--answer-text", default="", help="its transcript")
    parser.add_argument("--questions", type=Path, help="JSON list: the n-th user turn's transcript")
    parser.add_argument("--log", type=Path, required=True, help="JSON lines of timed marks")
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--pace", type=float, default=1.0, help="audio pace (1.0 real time, 0 unpaced)")
    parser.add_argument("--chunk-ms", type=int, default=CHUNK_MS)
    args = parser.parse_args()
    questions = json.loads(args.questions.read_text()) if args.questions else []
    try:
        asyncio.run(serve(read_answer(args.answer, args.answer_text), questions, args.log, args.port_file,
                          pace=args.pace, chunk_ms=args.chunk_ms))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
