"""Text to speech as a stream of fixed-size chunks with the words each one starts, for any session class.

:func:`spoken_chunks` synthesizes every sentence in the speech pool back to back (the next one while
this one plays, so speech is ready ahead of the pacing clock), and yields ``chunk_bytes`` of pcm16
24 kHz at a time — chunks run across sentence boundaries — each with the words (on the utterance's
timeline) whose start falls inside it, to be sent before it. A Realtime response turns them into
transcript deltas and audio deltas; a GPT-Live session would write the same chunks to its continuous
output track with timed transcript deltas. A synthesis failure is raised to the consumer.

Use it closed on exit (``async with contextlib.aclosing(spoken_chunks(...))``), so the synthesis
that is still running stops when the consumer stops early.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import numpy as np

from desktop_app.local_server.speech import SpeechPool
from desktop_app.local_server.speech.tts import WordTiming, sentences
from desktop_app.local_server.tasks import start_task

_Piece = tuple[np.ndarray, list[WordTiming]] | BaseException | None


@dataclass(frozen=True, slots=True)
class SpokenChunk:
    """``pcm`` (empty only for words left after the last audio) and the words to send before it."""

    pcm: bytes
    words: tuple[WordTiming, ...]
    final: bool  # nothing follows


async def spoken_chunks(speech: SpeechPool, text: str, voice: str, speed: float,
                        chunk_bytes: int) -> AsyncGenerator[SpokenChunk, None]:
    """``text`` spoken by ``voice`` at ``speed``, ``chunk_bytes`` at a time (see the module docstring)."""
    ready: asyncio.Queue[_Piece] = asyncio.Queue()
    producer = start_task(_synthesize_all(speech, sentences(text) or [text], voice, speed, ready))
    stream = bytearray()  # synthesized, not yet yielded
    words: list[WordTiming] = []  # not yet yielded, on the utterance's timeline
    queued_ms = 0.0
    generated_ms = 0.0
    last = False
    try:
        while not last:
            piece = await ready.get()
            if isinstance(piece, BaseException):
                raise piece
            if piece is None:
                last = True
            else:
                pcm, timings = piece
                words += [WordTiming(w.word, w.start_ms + queued_ms, w.end_ms + queued_ms) for w in timings]
                stream.extend(pcm.tobytes())
                queued_ms += len(pcm) / 24.0
            while len(stream) >= chunk_bytes or (last and stream):
                chunk = bytes(stream[:chunk_bytes])
                del stream[:chunk_bytes]
                generated_ms += len(chunk) / 48.0
                due: list[WordTiming] = []
                while words and (words[0].start_ms < generated_ms or not stream and last):
                    due.append(words.pop(0))
                yield SpokenChunk(chunk, tuple(due), final=last and not stream)
        if words:  # trailing words with no audio left after them
            yield SpokenChunk(b"", tuple(words), final=True)
    finally:
        producer.cancel()


async def _synthesize_all(speech: SpeechPool, pieces: list[str], voice: str, speed: float,
                          ready: asyncio.Queue[_Piece]) -> None:
    try:
        for piece in pieces:
            ready.put_nowait(await speech.synthesize(piece, voice, speed))
        ready.put_nowait(None)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 — raised by the consumer's iteration, which fails the response
        ready.put_nowait(exc)
