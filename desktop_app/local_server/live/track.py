"""GPT-Live's one continuous output track, paced by the input: silence, or the speech queued on it.

The session's clock is the input the client sends (live-protocol.md §6 item 5): for every piece of
input the track yields the same length of output (:meth:`OutputTrack.pull`) — zeros between replies,
speech while the assistant talks — with the output transcript fragments whose words start inside it,
timed on the session timeline. A :class:`Speaker` task synthesizes a reply into the track
(:func:`~desktop_app.local_server.speaking.spoken_chunks`, speech kept ahead of the clock);
:meth:`OutputTrack.stop` drops what has not been played (the model stopped, talked over) — all of it,
or one reply's: a model slow to stop after being talked over may already have the answer to the
interruption queued behind the rest of the story, and that answer must still be said.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass

from desktop_app.local_server.speaking import spoken_chunks
from desktop_app.local_server.speech import SpeechPool
from desktop_app.local_server.tasks import start_task

PCM_BYTES_PER_MS = 48  # pcm16 24 kHz mono


@dataclass(frozen=True, slots=True)
class Word:
    """A word of the output transcript at its place on the session timeline."""

    text: str
    start_ms: int
    end_ms: int
    reply: int = 0  # the reply it belongs to (:attr:`Speaker.reply`)


class OutputTrack:
    """Speech queued for the track, and the words due with it."""

    def __init__(self) -> None:
        self._pcm = bytearray()
        self._words: deque[Word] = deque()
        self._replies: deque[list[int]] = deque()  # [reply, bytes still queued], in the queue's order
        self.position_ms = 0.0  # how much of the track has been pulled (= the session clock)
        self.spoken: list[str] = []  # the words of the current reply that were played
        self.current = 0  # that reply (:attr:`Speaker.reply`)

    @property
    def queued_until_ms(self) -> float:
        """Where the queued speech ends on the timeline."""
        return self.position_ms + len(self._pcm) / PCM_BYTES_PER_MS

    @property
    def sounding(self) -> bool:
        """Speech is queued (the assistant is audible)."""
        return bool(self._pcm)

    def add(self, pcm: bytes, words: list[tuple[str, float, float]], chunk_offset_ms: float, reply: int = 0) -> None:
        """Queue ``pcm`` of ``reply`` at the end of what is queued; ``words`` are (text, start, end) on the
        reply's own timeline, whose ``chunk_offset_ms`` is where this chunk starts in it."""
        at = self.queued_until_ms
        for text, start, end in words:
            self._words.append(Word(text, int(at + start - chunk_offset_ms), int(at + end - chunk_offset_ms), reply))
        self._pcm.extend(pcm)
        if self._replies and self._replies[-1][0] == reply:
            self._replies[-1][1] += len(pcm)
        else:
            self._replies.append([reply, len(pcm)])

    def pull(self, ms: float) -> tuple[bytes, list[Word]]:
        """The next ``ms`` of the track (pcm16 24 kHz) and the words that start in it."""
        size = int(round(ms * PCM_BYTES_PER_MS)) & ~1
        out = bytes(self._pcm[:size])
        del self._pcm[:size]
        taken = len(out)
        while taken and self._replies:
            part = min(taken, self._replies[0][1])
            self._replies[0][1] -= part
            taken -= part
            if self._replies[0][1] == 0:
                self._replies.popleft()
        out += b"\x00" * (size - len(out))
        self.position_ms += ms
        due = []
        while self._words and self._words[0].start_ms < self.position_ms:
            word = self._words.popleft()
            due.append(word)
            if word.reply == self.current:
                self.spoken.append(word.text)
        return out, due

    def stop(self, reply: int | None = None) -> None:
        """Drop the speech not yet played (and its words): all of it, or ``reply``'s — what is queued
        after it moves up, its words with it."""
        if reply is None:
            self._pcm.clear()
            self._words.clear()
            self._replies.clear()
            return
        at = 0  # bytes queued before the reply's
        for i, (which, size) in enumerate(self._replies):
            if which == reply:
                del self._pcm[at : at + size]
                del self._replies[i]
                after = self.position_ms + at / PCM_BYTES_PER_MS
                cut = size / PCM_BYTES_PER_MS
                self._words = deque(w if w.start_ms < after else Word(w.text, int(w.start_ms - cut), int(w.end_ms - cut),
                                                                      w.reply)
                                    for w in self._words if w.reply != reply)
                return
            at += size


class Speaker:
    """Synthesizes one reply into the track; ``done`` resolves when all of it was queued (or it stopped)."""

    _replies = 0

    def __init__(self, track: OutputTrack, pool: SpeechPool, text: str, voice: str, chunk_ms: int,
                 on_error: Callable[[BaseException], None]) -> None:
        Speaker._replies += 1
        self.reply = Speaker._replies  # tags its speech on the track
        self._track = track
        track.spoken, track.current = [], self.reply
        self._task: asyncio.Task[None] = start_task(self._speak(pool, text, voice, chunk_ms, on_error),
                                                    name="live speaker")

    async def finished(self) -> None:
        """Wait until the reply is all queued, or was stopped (never raises for a stopped reply)."""
        await asyncio.wait({self._task})

    @property
    def running(self) -> bool:
        return not self._task.done()

    @property
    def complete(self) -> bool:
        """All of the reply was queued (it was not stopped)."""
        return self._task.done() and not self._task.cancelled()

    def cancel(self) -> None:
        """Stop synthesizing (what is queued of it stays: :meth:`OutputTrack.stop` drops it)."""
        self._task.cancel()

    async def _speak(self, pool: SpeechPool, text: str, voice: str, chunk_ms: int,
                     on_error: Callable[[BaseException], None]) -> None:
        offset = 0.0
        try:
            async with aclosing(spoken_chunks(pool, text, voice, 1.0, chunk_ms * PCM_BYTES_PER_MS)) as chunks:
                async for chunk in chunks:
                    words = [(" " + w.word, w.start_ms, w.end_ms) for w in chunk.words]
                    self._track.add(chunk.pcm, words, offset, self.reply)
                    offset += len(chunk.pcm) / PCM_BYTES_PER_MS
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 — a synthesis failure cuts the reply short; the session goes on
            on_error(exc)
