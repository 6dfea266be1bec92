"""The controller's echo policy end to end against a scripted peer: which user transcripts are judged
as echo, which answer is cancelled for it, push-to-talk and false starts, and what a reconnect
replays after an interruption."""

from __future__ import annotations

import asyncio

import pytest

from desktop_app.controller import echo_judge
from desktop_app.controller.states import Conn, Turn
from desktop_app.realtime.session_config import SessionConfig
from tests.controller.peer import EchoAwareAudio, ScriptedPeer
from tests.controller.test_controller import A1, R1, answer_playing, assistant_answer, start, wait_for
from tests.realtime import frames as F

STORY = "Once upon a time in a small town by the sea there lived a keeper"


def deleted(peer: ScriptedPeer) -> list[str]:
    return [t for t in peer.sent_types() if t == "conversation.item.delete"]


async def test_words_of_the_assistant_spoken_after_it_finished_are_the_user_s():
    """Not during playback: never judged, however much it repeats (the user reading a line back)."""
    async with ScriptedPeer() as peer:
        s = await start(peer, audio=EchoAwareAudio())
        done = F.assistant_item(A1, "completed", transcript=STORY)
        await peer.send(F.item_added(done), F.item_done(done))
        await peer.send(F.speech_started("item_U2"), F.committed("item_U2", A1),
                        F.item_added(F.user_audio_item("item_U2"), A1),
                        F.transcription_completed("item_U2", "in a small town by the sea"))
        await wait_for(lambda: [e.text for e in s.ctl.view.transcript][-1:] == ["in a small town by the sea"])
        await asyncio.sleep(0.1)
        assert deleted(peer) == [] and not any(e.echo for e in s.ctl.view.transcript)
        await s.ctl.close()


async def test_a_question_over_the_assistant_is_not_compared_with_its_own_answer():
    async with ScriptedPeer() as peer:
        ctl, audio = await answer_playing(peer, STORY, 3000)
        audio.near_end = True
        await peer.send(F.speech_started("item_U2"))  # a real interruption
        await wait_for(lambda: audio.flushes == 1)
        await peer.send(F.response_done(R1, "cancelled", reason="turn_detected"),
                        F.committed("item_U2", A1), F.item_added(F.user_audio_item("item_U2"), A1))
        answer = "The capital of France is Paris and it is a beautiful city"
        await assistant_answer(peer, answer, 2000, rid="resp_002", item="item_A2")
        await peer.send(F.transcription_completed("item_U2", "the capital of France is Paris right"))
        await wait_for(lambda: any(e.text == "the capital of France is Paris right" for e in ctl.view.transcript))
        await asyncio.sleep(0.1)
        assert deleted(peer) == [] and peer.sent_types().count("response.cancel") == 0
        await ctl.close()


async def test_an_answer_to_the_echo_is_cancelled_but_a_resumed_answer_is_not():
    """Echo → the server cuts the answer (turn_detected) → the client resumes it; the server's VAD
    then commits the echo, its own answer to it is refused (one is active: no notice for that), and
    the echo transcript removes the item without touching the resumed answer, which plays out."""
    async with ScriptedPeer() as peer:
        ctl, audio = await answer_playing(peer, STORY, 3000)
        await peer.send(F.speech_started("item_E1"))  # the guard says: only echo
        await peer.send(F.response_done(R1, "cancelled", reason="turn_detected"))
        await peer.next("response.create")
        await assistant_answer(peer, "there lived a keeper named Ada", 1500, rid="resp_002", item="item_A2")
        await peer.send(F.speech_stopped("item_E1"), F.committed("item_E1", "item_A2"),
                        F.item_added(F.user_audio_item("item_E1"), "item_A2"),
                        F.error("conversation_already_has_active_response",
                                "Conversation already has an active response in progress: resp_002."))
        await peer.send(F.transcription_completed("item_E1", "in a small town by the sea there lived"))
        assert (await peer.next("conversation.item.delete"))["item_id"] == "item_E1"
        await asyncio.sleep(0.1)
        assert "response.cancel" not in peer.sent_types() and audio.flushes == 0
        assert ctl.view.notice is None  # the refused auto-answer is not the user's problem
        await peer.send(F.response_done("resp_002"))
        audio.finish_playing()
        await wait_for(lambda: ctl.view.turn is Turn.LISTENING)  # nothing left waiting
        await ctl.close()


async def test_the_model_answering_its_own_echo_is_cancelled_and_silenced():
    async with ScriptedPeer() as peer:
        ctl, audio = await answer_playing(peer, STORY, 3000)
        await peer.send(F.speech_started("item_E1"))
        await peer.send(F.response_done(R1), F.committed("item_E1", A1),
                        F.item_added(F.user_audio_item("item_E1"), A1))
        await peer.send(F.response_created("resp_003"))  # the server answers the echo
        await peer.send(F.output_item_added("resp_003", F.assistant_item("item_A3")),
                        F.item_added(F.assistant_item("item_A3"), "item_E1"),
                        F.audio_delta("resp_003", "item_A3", 300))  # already queued behind the story
        await wait_for(lambda: "item_A3" in audio.enqueued)
        await peer.send(F.transcription_completed("item_E1", "in a small town by the sea"))
        assert (await peer.next("conversation.item.delete"))["item_id"] == "item_E1"
        await peer.next("response.cancel")
        # its queued audio is dropped, and it leaves the model's context
        assert (await peer.next("conversation.item.delete"))["item_id"] == "item_A3"
        assert audio.dropped == ["item_A3"] and audio.playing_item == A1  # the story plays on
        await peer.send(F.audio_delta("resp_003", "item_A3", 500))
        await asyncio.sleep(0.1)
        assert audio.enqueued["item_A3"] == 300 * 48  # later deltas are not even queued
        await ctl.close()


async def test_a_barge_in_truncates_answers_queued_behind_the_interrupted_one_at_zero():
    async with ScriptedPeer() as peer:
        s = await start(peer, audio=EchoAwareAudio())
        ctl, audio = s.ctl, s.audio
        await assistant_answer(peer, STORY, 3000)
        await peer.send(F.output_item_added(R1, F.assistant_item("item_A1b"), 1),
                        F.item_added(F.assistant_item("item_A1b"), A1), F.part_added(R1, "item_A1b"),
                        F.audio_delta(R1, "item_A1b", 1000))
        await wait_for(lambda: "item_A1b" in audio.enqueued)
        audio.played[A1] = 700
        audio.near_end = True
        await peer.send(F.speech_started("item_U2"))
        first = await peer.next("conversation.item.truncate")
        second = await peer.next("conversation.item.truncate")
        assert (first["item_id"], first["audio_end_ms"]) == (A1, 700)
        assert (second["item_id"], second["audio_end_ms"]) == ("item_A1b", 0)
        await ctl.close()


async def test_push_to_talk_ignores_a_local_onset():
    """With the button up the user is not taking a turn: the assistant goes on."""
    async with ScriptedPeer() as peer:
        ctl, audio = await answer_playing(peer, STORY, 3000, SessionConfig(turn_detection=None))
        audio.near_end = True
        audio.onset()
        await asyncio.sleep(0.1)
        assert audio.flushes == 0 and "response.cancel" not in peer.sent_types()
        assert not ctl.view.user_speaking
        await ctl.close()


@pytest.mark.parametrize("confirmed", [False, True])
async def test_a_local_onset_the_server_never_confirms_is_a_false_start(monkeypatch, confirmed):
    """A cough stops the assistant (as it must, at once); if the server's VAD never hears speech,
    the indicators go back to listening instead of showing the user speaking for ever. Speech the
    server confirms stays the user's turn."""
    monkeypatch.setattr(echo_judge, "FALSE_START_S", 0.3)
    async with ScriptedPeer() as peer:
        ctl, audio = await answer_playing(peer, STORY, 3000)
        audio.near_end = True
        audio.onset()
        await peer.next("response.cancel")
        assert ctl.view.turn is Turn.USER_SPEAKING and ctl.view.user_speaking
        if confirmed:
            await peer.send(F.speech_started("item_U2"))
            await asyncio.sleep(0.6)
            assert ctl.view.turn is Turn.USER_SPEAKING and ctl.view.user_speaking
        else:
            await peer.send(F.response_done(R1, "cancelled", reason="client_cancelled"))
            await wait_for(lambda: ctl.view.turn is Turn.LISTENING, 3)
            assert not ctl.view.user_speaking
        await ctl.close()


async def test_a_reconnect_replays_only_what_was_heard_of_an_interrupted_answer():
    async with ScriptedPeer() as peer:
        ctl, audio = await answer_playing(peer, "One two three four five six seven eight", 4000)
        audio.played[A1] = 1000  # a quarter heard
        audio.near_end = True
        await peer.send(F.speech_started("item_U2"))
        truncate = await peer.next("conversation.item.truncate")
        await peer.send(F.ev("conversation.item.truncated", item_id=A1, content_index=0,
                             audio_end_ms=truncate["audio_end_ms"]))
        await wait_for(lambda: any(e.item_id == A1 and e.heard for e in ctl.view.transcript))
        heard = next(e.heard for e in ctl.view.transcript if e.item_id == A1)
        assert heard and len(heard.split()) < 8
        await peer.drop()
        await wait_for(lambda: ctl.view.connection is Conn.RECONNECTING)
        await peer.connected(2)
        await peer.send(F.session_created())
        await peer.next("session.update")
        replay = await peer.next("conversation.item.create")
        assert replay["item"]["role"] == "assistant" and replay["item"]["content"][0]["text"] == heard
        await ctl.close()


async def test_talking_over_the_rest_of_an_answer_while_reconnecting_stops_it():
    async with ScriptedPeer() as peer:
        ctl, audio = await answer_playing(peer, STORY, 3000)
        await peer.drop()
        await wait_for(lambda: ctl.view.connection is Conn.RECONNECTING)
        assert audio.is_playing  # what arrived before the drop goes on playing
        audio.near_end = True
        audio.onset()
        assert audio.flushes == 1 and not audio.is_playing
        await ctl.close()
