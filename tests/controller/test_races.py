"""Races between what the user does and what the server is doing, against a scripted peer.

Each test here once failed: a local action (clearing, interrupting) crossing a server event or a
connection change left the conversation in a state the user did not ask for. The races around a
function call (a tool running while the user interrupts, clears or the connection drops) are in
``test_races_tools.py``.
"""

from __future__ import annotations

import asyncio

from desktop_app.controller.states import Conn
from tests.controller.peer import ScriptedPeer
from tests.controller.test_controller import start, wait_for
from tests.realtime import frames as F


def items_created_after(peer: ScriptedPeer, index: int) -> list[dict]:
    return [f for f in peer.all_frames[index:] if f["type"] == "conversation.item.create"]


async def said(peer: ScriptedPeer, ctl, item_id: str, text: str) -> None:
    item = F.user_text_item(item_id, text)
    await peer.send(F.item_added(item), F.item_done(item))
    await wait_for(lambda: any(e.text == text for e in ctl.view.transcript))


async def test_clearing_twice_before_the_old_session_closes_replays_nothing_old():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        await said(peer, s.ctl, "item_T1", "My password hint is banana.")
        s.ctl.clear_conversation()
        s.ctl.clear_conversation()  # a second click before the old session has closed
        await peer.connected(2)
        mark = len(peer.all_frames)
        await peer.send(F.session_created())
        await s.accept_update()
        await wait_for(lambda: s.ctl.view.connection is Conn.CONNECTED)
        await asyncio.sleep(0.3)
        assert items_created_after(peer, mark) == []  # the cleared conversation stays cleared
        assert s.ctl.view.transcript == ()
        await s.ctl.close()


async def test_clearing_while_an_expired_session_is_being_replaced_replays_nothing_old():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        await said(peer, s.ctl, "item_T1", "My password hint is banana.")
        await peer.send(F.error("session_expired", "Your session hit the maximum duration of 60 minutes."))
        await wait_for(lambda: s.ctl.connection.recycle_pending)
        s.ctl.clear_conversation()
        await peer.close(1001, "")  # the server ends the expired session
        await peer.connected(2)
        mark = len(peer.all_frames)
        await peer.send(F.session_created())
        await s.accept_update()
        await wait_for(lambda: s.ctl.view.connection is Conn.CONNECTED)
        await asyncio.sleep(0.3)
        assert items_created_after(peer, mark) == []
        assert s.ctl.view.transcript == ()
        await s.ctl.close()


async def test_unreadable_audio_from_the_server_is_skipped_and_the_conversation_goes_on():
    """A delta that is not base64 PCM16 (a third-party server's bug) is the server's fault: one
    sentence, the delta skipped, the rest of the answer played — not a dead link and a reconnect."""
    async with ScriptedPeer() as peer:
        s = await start(peer)
        bad = [dict(F.audio_delta("resp_1", "item_A1", 100), delta="this is not audio!"),
               dict(F.audio_delta("resp_1", "item_A1", 100), delta="AAAA")]  # 3 bytes: half a sample
        await peer.send(F.response_created("resp_1"), F.output_item_added("resp_1", F.assistant_item("item_A1")),
                        F.part_added("resp_1", "item_A1"), *bad, F.audio_delta("resp_1", "item_A1", 100))
        await wait_for(lambda: s.audio.enqueued.get("item_A1") == 100 * 48)
        await asyncio.sleep(0.2)
        assert s.ctl.view.connection is Conn.CONNECTED and peer.connections == 1
        assert s.ctl.view.notice is not None and "could not read" in s.ctl.view.notice.sentence
        await s.ctl.close()


async def test_muting_or_switching_mode_mid_press_leaves_no_speaking_turn_behind():
    """A held talk button ended by mute (the user, or the spending stop) or by a switch to hands-free
    is no turn: the indicator must not say "You are speaking" with the microphone off, and what
    was appended never reaches the model."""
    from desktop_app.controller.states import Turn
    from desktop_app.realtime.session_config import SessionConfig

    async with ScriptedPeer() as peer:
        s = await start(peer, SessionConfig(turn_detection=None))
        s.ctl.press_talk()
        await peer.next("input_audio_buffer.clear")
        await wait_for(lambda: s.ctl.view.turn is Turn.USER_SPEAKING)
        s.audio.speak(300)
        s.ctl.set_muted(True)
        await peer.next("input_audio_buffer.clear")  # the half-spoken turn is dropped
        assert s.ctl.view.turn is Turn.IDLE and not s.ctl.view.user_speaking
        s.ctl.set_muted(False)
        s.ctl.press_talk()
        await peer.next("input_audio_buffer.clear")
        await wait_for(lambda: s.ctl.view.turn is Turn.USER_SPEAKING)
        s.audio.speak(300)
        s.ctl.set_mode("hands_free")
        await peer.next("input_audio_buffer.clear")
        assert s.ctl.view.turn is Turn.LISTENING and not s.ctl.view.user_speaking
        await asyncio.sleep(0.1)
        assert "input_audio_buffer.commit" not in peer.sent_types()
        await s.ctl.close()


async def test_a_continued_conversation_barged_into_then_reconnected_keeps_both_parts_once():
    """Continue a saved conversation, talk over the first answer, lose the connection: the next
    session gets the saved lines, the new question and only what was heard of the answer, and the
    window shows each line once."""
    from desktop_app.controller.controller import Controller, Earlier
    from desktop_app.controller.view_state import TranscriptEntry
    from desktop_app.realtime import commands
    from desktop_app.realtime.session_config import SessionConfig
    from tests.controller.peer import EchoAwareAudio

    earlier = Earlier(
        items=(commands.user_text_item("My cat is called Miso."), commands.assistant_text_item("Noted: Miso.")),
        entries=(TranscriptEntry("item_old_u", "user", "My cat is called Miso.", final=True),
                 TranscriptEntry("item_old_a", "assistant", "Noted: Miso.", final=True)))
    audio = EchoAwareAudio()
    async with ScriptedPeer() as peer:
        async def target():
            return peer.url, {}

        ctl = Controller(target=target, audio=audio, config=SessionConfig(), replay=earlier)
        await ctl.connect()
        await peer.connected()
        await peer.send(F.session_created())
        await peer.next("session.update")
        for _ in range(2):
            frame = await peer.next("conversation.item.create")
            await peer.send(F.item_added(frame["item"]), F.item_done(frame["item"]))
        await wait_for(lambda: ctl.view.connection is Conn.CONNECTED)
        question = F.user_text_item("item_U9", "Tell me a long story about Miso.")
        await peer.send(F.item_added(question), F.item_done(question))
        words = "Once upon a time Miso climbed the tallest tree in the garden"
        await peer.send(F.response_created("resp_1"), F.output_item_added("resp_1", F.assistant_item("item_A9")),
                        F.item_added(F.assistant_item("item_A9")), F.part_added("resp_1", "item_A9"),
                        F.transcript_delta("resp_1", "item_A9", words), F.audio_delta("resp_1", "item_A9", 4000))
        await wait_for(lambda: audio.is_playing)
        audio.played["item_A9"] = 1000
        audio.near_end = True
        audio.onset()  # the user talks over it
        await peer.next("response.cancel")  # ahead of the server's VAD: the answer is cancelled first
        truncate = await peer.next("conversation.item.truncate")
        assert truncate["item_id"] == "item_A9" and truncate["audio_end_ms"] == 1000
        await peer.send(F.ev("conversation.item.truncated", item_id="item_A9", content_index=0, audio_end_ms=1000))
        await wait_for(lambda: any(e.item_id == "item_A9" and e.heard for e in ctl.view.transcript))
        heard = next(e.heard for e in ctl.view.transcript if e.item_id == "item_A9")
        await peer.drop()
        await peer.connected(2)
        await peer.send(F.session_created())
        await peer.next("session.update")
        replayed = [await peer.next("conversation.item.create", skip=("input_audio_buffer.append",
                                                                     "response.cancel")) for _ in range(4)]
        texts = [(f["item"]["role"], f["item"]["content"][0]["text"]) for f in replayed]
        assert texts == [("user", "My cat is called Miso."), ("assistant", "Noted: Miso."),
                         ("user", "Tell me a long story about Miso."), ("assistant", heard)]
        await wait_for(lambda: ctl.view.connection is Conn.CONNECTED)
        assert [e.item_id for e in ctl.view.transcript] == ["item_old_u", "item_old_a", "item_U9", "item_A9"]
        await ctl.close()


async def test_an_answer_interrupted_before_it_started_is_cancelled_on_arrival_and_never_played():
    """Interrupt during "Thinking…", while our response.create is still on its way."""
    from desktop_app.controller.states import Turn
    from desktop_app.realtime.session_config import SessionConfig
    from tests.controller.test_controller import assistant_answer

    async with ScriptedPeer() as peer:
        s = await start(peer, SessionConfig(turn_detection=None))
        ctl, audio = s.ctl, s.audio
        ctl.send_text("Tell me a long story.")
        await peer.next("conversation.item.create")
        await peer.next("response.create")
        ctl.interrupt()  # nothing has started yet
        await peer.next("response.cancel")  # the best-effort cancel, without an id
        await assistant_answer(peer, "Once upon a time", 1500)  # the server started it anyway
        cancel = await peer.next("response.cancel")
        assert cancel.get("response_id") == "resp_001"
        await asyncio.sleep(0.2)
        assert audio.enqueued == {}  # not one sample of it was queued
        await peer.send(F.response_done("resp_001", "cancelled"))
        await wait_for(lambda: ctl.view.turn is Turn.IDLE)  # not stuck on "Thinking…"
        await ctl.close()


async def test_a_question_left_without_an_answer_by_a_drop_is_answered_in_the_next_session():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        ctl = s.ctl
        ctl.connection.backoff = lambda tries: iter([0.01] * tries)
        await said(peer, ctl, "item_U1", "What is the capital of France?")
        await peer.drop()  # before any answer
        await peer.connected(2)
        await peer.send(F.session_created())
        await s.accept_update()
        replayed = await peer.next("conversation.item.create")
        assert replayed["item"]["content"][0]["text"] == "What is the capital of France?"
        await peer.next("response.create")  # the answer the drop took is asked for
        await ctl.close()


async def test_a_push_to_talk_press_that_sent_nothing_is_not_a_finished_answer():
    from desktop_app.realtime.session_config import SessionConfig

    async with ScriptedPeer() as peer:
        s = await start(peer, SessionConfig(turn_detection=None))
        ctl, audio = s.ctl, s.audio
        ctl.press_talk()
        await wait_for(lambda: ctl.view.user_speaking)  # held past a slip
        audio.speak(40)  # less than the server's 100 ms
        ctl.release_talk()
        await wait_for(lambda: ctl.view.notice is not None)
        assert ctl.responses_finished == 0 and not ctl.idle.is_set()
        await ctl.close()


async def test_a_view_listener_that_raises_does_not_end_the_conversation():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        ctl = s.ctl
        failures = []

        def broken() -> None:
            failures.append(1)
            raise RuntimeError("a widget fell over")

        ctl.watch(broken)
        await said(peer, ctl, "item_T1", "Still there?")
        assert failures and ctl.view.connection is Conn.CONNECTED and peer.connections == 1
        await ctl.close()
