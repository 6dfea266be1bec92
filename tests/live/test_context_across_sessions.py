"""The conversation carried into each new GPT-Live session, through the controller against the scripted Live peer
(every frame SDK-checked both ways): after a dropped connection, an ``expired`` close and a planned refresh, the
new session's ``session.start`` holds the conversation so far in ``session.input`` — the user's words, of an
interrupted answer only what was heard, never an echo — a question the dropped session never answered is asked
for, a continued saved conversation starts the same way, and a cleared one starts empty."""

from __future__ import annotations

import asyncio
from typing import Any

from desktop_app.controller.controller import Controller, Earlier
from desktop_app.controller.dialects import dialect_for
from desktop_app.controller.states import Conn
from desktop_app.controller.view_state import TranscriptEntry
from desktop_app.live.context import ANSWER_NOW
from desktop_app.realtime.commands import assistant_text_item, user_text_item
from desktop_app.realtime.session_config import SessionConfig
from tests.controller.peer import EchoAwareAudio, FakeAudio
from tests.live import frames as F
from tests.live.peer import LivePeer

CONFIG = SessionConfig(model="gpt-live-1", instructions="Be brief.")


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


async def start(peer: LivePeer, audio: FakeAudio, earlier: Earlier | None = None) -> tuple[Controller, dict]:
    async def target() -> tuple[str, dict[str, str]]:
        return peer.url, {}

    ctl = Controller(target=target, audio=audio, config=CONFIG, make_core=dialect_for(CONFIG.model), max_retries=3,
                     replay=earlier or Earlier())
    ctl.connection.backoff = lambda tries: iter([0.01] * tries)
    await ctl.connect()
    return ctl, await session_opens(peer, ctl, 1)


async def session_opens(peer: LivePeer, ctl: Controller, count: int) -> dict:
    """The ``count``-th connection's session.start, answered with session.started."""
    await peer.connected(count)
    session_start = await peer.next("session.start")
    await peer.send(F.started(client_event_id=session_start["event_id"]))
    await wait_for(lambda: ctl.view.connection is Conn.CONNECTED and peer.connections == count)
    return session_start


def seeded(session_start: dict) -> list[tuple[str, str]]:
    return [(m["role"], m["content"][0]["text"]) for m in session_start["session"].get("input", [])]


async def turn(peer: LivePeer, audio: FakeAudio, ctl: Controller, question: str, answer: str) -> None:
    """The user asks, the assistant answers in full, the answer plays out."""
    audio.speak(100)
    await peer.send(F.said(" " + question, 0, 600))
    await wait_for(lambda: any(e.role == "user" and e.text == question for e in ctl.view.transcript))
    audio.speak(800)
    await peer.send(F.audio(F.voice_b64(300)), F.says(" " + answer, 0, 300))
    await wait_for(lambda: audio.is_playing)
    await peer.send(*[F.audio(F.silence_b64(100)) for _ in range(10)])
    await wait_for(lambda: any(e.role == "assistant" and e.text == answer and e.final for e in ctl.view.transcript))
    audio.finish_playing()


async def test_after_a_dropped_connection_the_new_session_starts_with_the_conversation():
    async with LivePeer() as peer:
        audio = FakeAudio()
        ctl, first = await start(peer, audio)
        assert "input" not in first["session"]
        await turn(peer, audio, ctl, "What is the capital of France?", "Paris.")
        await peer.drop()
        second = await session_opens(peer, ctl, 2)
        assert seeded(second) == [("user", "What is the capital of France?"), ("assistant", "Paris.")]
        assert [f["content"][0]["type"] for f in second["session"]["input"]] == ["input_text", "output_text"]
        # The transcript shows each line once; nothing else was sent to rebuild the context.
        assert [(e.role, e.text) for e in ctl.view.transcript] == [("user", "What is the capital of France?"),
                                                                   ("assistant", "Paris.")]
        assert peer.sent_types() == ["session.start", "session.start"]
        await ctl.close()


async def test_an_expired_session_and_a_planned_refresh_carry_everything_said_so_far():
    async with LivePeer() as peer:
        audio = FakeAudio()
        ctl, _ = await start(peer, audio)
        await turn(peer, audio, ctl, "My favourite colour is green.", "Noted.")
        await peer.send(F.ev("session.closed", reason="expired", usage={"seconds": 60}, session=F.snapshot()))
        await peer.close()
        second = await session_opens(peer, ctl, 2)
        assert seeded(second) == [("user", "My favourite colour is green."), ("assistant", "Noted.")]
        await turn(peer, audio, ctl, "What did I say before?", "You said your favourite colour is green.")
        assert ctl.connection.recycle_now()  # the planned refresh before the time limit
        await peer.next("session.close")  # a Live session is ended politely (the peer answers session.closed)
        third = await session_opens(peer, ctl, 3)
        assert seeded(third) == [("user", "My favourite colour is green."), ("assistant", "Noted."),
                                 ("user", "What did I say before?"),
                                 ("assistant", "You said your favourite colour is green.")]
        assert ctl.usage().live_seconds >= 60  # the expired session's seconds stay counted
        await ctl.close()


async def test_of_an_interrupted_answer_only_the_heard_part_goes_in_and_an_echo_never():
    async with LivePeer() as peer:
        audio = EchoAwareAudio()
        audio.near_end = None  # the canceller cannot tell: the speech start is taken as the user's
        ctl, _ = await start(peer, audio)
        audio.speak(100)
        await peer.send(F.said(" Tell me about Paris.", 0, 600))
        audio.speak(800)
        answer = " Paris is the capital of France and it is famous for the Eiffel Tower and its museums"
        await peer.send(F.audio(F.voice_b64(400)), F.says(answer, 0, 400))
        await wait_for(lambda: audio.is_playing)
        item = audio.playing_item
        audio.played[item] = 200  # the user heard half of it
        # The microphone picks the answer up: the server's transcript repeats it while it plays (the echo).
        await peer.send(F.said(" Paris is the capital of France and", 900, 1500))
        await wait_for(lambda: not audio.is_playing)  # taken for the user: playback stopped there
        await peer.send(F.audio(F.voice_b64(400)))  # the model goes on a moment: not heard
        audio.speak(3200)  # nobody answers the "echo": its turn ends and is judged
        await wait_for(lambda: any(e.echo for e in ctl.view.transcript))
        entry = next(e for e in ctl.view.transcript if e.role == "assistant")
        assert entry.truncated and entry.heard and len(entry.heard) < len(entry.text) / 2
        await peer.drop()
        second = await session_opens(peer, ctl, 2)
        assert seeded(second) == [("user", "Tell me about Paris."), ("assistant", entry.heard)]
        assert entry.heard.startswith("Paris is the capital")
        await ctl.close()


async def test_a_question_the_dropped_session_never_answered_is_asked_for():
    async with LivePeer() as peer:
        audio = FakeAudio()
        ctl, _ = await start(peer, audio)
        audio.speak(100)
        await peer.send(F.said(" What time is it?", 0, 600))
        await wait_for(lambda: any(e.role == "user" for e in ctl.view.transcript))
        await peer.drop()
        second = await session_opens(peer, ctl, 2)
        assert seeded(second) == [("user", "What time is it?")]
        append = await peer.next("session.instructions.append")
        assert append["content"] == ANSWER_NOW and append["delegation_id"] is None
        await ctl.close()


async def test_a_continued_saved_conversation_starts_with_it_and_shows_its_lines():
    saved = (user_text_item("My favourite colour is green."), assistant_text_item("Noted."))
    entries = (TranscriptEntry("old_1", "user", "My favourite colour is green.", True),
               TranscriptEntry("old_2", "assistant", "Noted.", True))
    async with LivePeer() as peer:
        ctl, first = await start(peer, FakeAudio(), Earlier(items=saved, entries=entries))
        assert seeded(first) == [("user", "My favourite colour is green."), ("assistant", "Noted.")]
        assert ctl.view.transcript == entries
        await ctl.close()


async def test_a_cleared_conversation_starts_the_next_session_empty():
    async with LivePeer() as peer:
        audio = FakeAudio()
        ctl, _ = await start(peer, audio)
        await turn(peer, audio, ctl, "Remember the number seven.", "Seven, noted.")
        ctl.clear_conversation()
        await peer.next("session.close")
        second = await session_opens(peer, ctl, 2)
        assert "input" not in second["session"]
        assert ctl.view.transcript == ()
        await ctl.close()
