"""The local GPT-Live server's "model": what it heard, what it answers, and its voice on the track.

:class:`Assistant` keeps the conversation as the brain sees it (``(kind, text)`` history), answers one
thing at a time (a user turn, a typed message, commentary to speak, a delegated result), and speaks
through a :class:`~.track.Speaker` into the session's :class:`~.track.OutputTrack`. When the brain
wants a tool and the session delegates to ``responses``, the :class:`~.backend.Backend` asks the
client and the assistant says a short acknowledgement meanwhile. It never emits transport frames
itself except the input transcript fragments (through ``emit``); the session owns the protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from desktop_app.local_server.brain import Call, Say, think
from desktop_app.local_server.live.backend import Backend, Continued, result_history
from desktop_app.local_server.live.track import OutputTrack, Speaker
from desktop_app.local_server.outbox import Emit, Log
from desktop_app.local_server.speech import SpeechPool
from desktop_app.local_server.usage import text_tokens

ACKNOWLEDGEMENT = "One moment."


class Assistant:
    """One session's assistant: history, instructions, the reply being spoken."""

    def __init__(self, *, emit: Emit, pool: SpeechPool, track: OutputTrack, chunk_ms: int, log: Log,
                 on_speech_error: Callable[[BaseException], None]) -> None:
        self._emit = emit
        self._pool = pool
        self._track = track
        self._chunk_ms = chunk_ms
        self._log = log
        self._on_speech_error = on_speech_error
        self.history: list[tuple[str, str]] = []
        self.instructions: list[str] = []
        self.voice = "marin"
        self.backend: Backend | None = None
        self._speaker: Speaker | None = None
        self._turn = asyncio.Lock()  # one answer at a time, in the order they were asked

    @property
    def speaking(self) -> bool:
        """Speech is queued on the track or still being synthesized."""
        return self._track.sounding or (self._speaker is not None and self._speaker.running)

    @property
    def reply(self) -> int | None:
        """The reply being spoken (:attr:`~.track.Speaker.reply`), None when silent."""
        return self._speaker.reply if self._speaker is not None and self.speaking else None

    def stop(self, reply: int | None = None) -> None:
        """Fall silent now: the rest of ``reply`` is never said (talked over: a reply queued after it,
        the answer to the interruption, still is), or of everything (None: asked to stop, the session
        ends)."""
        if self._speaker is not None and reply in (None, self._speaker.reply):
            self._speaker.cancel()  # no more of it is synthesized
        self._track.stop(reply)  # and what of it is queued goes (all, for None)

    # --- what it is asked -------------------------------------------------------------------------
    async def heard(self, text_future: asyncio.Task[str], start_ms: float, end_ms: float) -> None:
        """A user turn: its words go back as timed fragments, then the answer."""
        async with self._turn:
            try:
                text = (await text_future).strip()
            except Exception as exc:  # noqa: BLE001 — recognition failed: nothing understood, nothing to answer
                self._log.warning("! recognition failed: %s", exc)
                return
            if not text:
                return
            words = text.split()
            span = max(1.0, (end_ms - start_ms) / len(words))
            for n, word in enumerate(words):
                self._emit({"type": "session.input_transcript.delta", "delta": " " + word,
                            "start_ms": int(start_ms + n * span), "end_ms": int(start_ms + (n + 1) * span)})
            self._log.info("= heard %r", text)
            self.history.append(("user", text))
            await self._reply()

    async def typed(self, text: str) -> None:
        """A message the user typed (an appended instruction that quotes it)."""
        async with self._turn:
            self.history.append(("user", text))
            await self._reply()

    async def answer(self) -> None:
        """Answer the conversation as it stands (asked to: the seeded history ends with a question)."""
        async with self._turn:
            await self._reply()

    async def comment(self, text: str) -> None:
        """Commentary the client asked to be spoken."""
        async with self._turn:
            await self._say(text)

    async def continued(self, continued: Continued) -> None:
        """The client ran the delegated calls: the backend answers, the voice says it."""
        async with self._turn:
            self.history.extend(result_history(continued))
            decision = think(self.history)
            text = decision.text if isinstance(decision, Say) else "Done."
            assert self.backend is not None
            self.backend.answer(continued.delegation_id, text, sum(text_tokens(t) for _, t in self.history))
            await self._say(text)

    # --- answering ------------------------------------------------------------------------------
    async def _reply(self) -> None:
        backend = self.backend
        decision = think(self.history, instructions=" ".join(self.instructions),
                         tools=backend.tools if backend else None,
                         tool_choice=backend.tool_choice if backend else "auto")
        if isinstance(decision, Call) and backend is not None:
            self.history.append((f"function_call:{decision.name}", decision.arguments))
            backend.call(decision.name, decision.arguments, int(self._track.position_ms),
                         sum(text_tokens(t) for _, t in self.history))
            await self._say(ACKNOWLEDGEMENT, remember=False)
        elif isinstance(decision, Say):
            await self._say(decision.text)

    async def _say(self, text: str, *, remember: bool = True) -> None:
        """Speak ``text``; return once all of it is queued on the track (or it was stopped)."""
        if self._speaker is not None and self._speaker.running:
            await self._speaker.finished()
        speaker = self._speaker = Speaker(self._track, self._pool, text, self.voice, self._chunk_ms,
                                          self._on_speech_error)
        await speaker.finished()
        if remember:  # what was really said: a reply cut short is remembered cut short
            said = " ".join(word.strip() for word in self._track.spoken) if not speaker.complete else text
            self.history.append(("assistant", said or text))

    def seed(self, items: list[dict[str, Any]]) -> None:
        """``session.start.input``: earlier messages (one text part each); a developer's steers, as
        instructions do."""
        for item in items:
            role, text = item.get("role"), item["content"][0]["text"]
            if role == "developer":
                self.instructions.append(text)
            else:
                self.history.append(("user" if role == "user" else "assistant", text))
        if items:
            self._log.info("= the session starts with %d earlier messages", len(items))
