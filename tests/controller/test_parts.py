"""The controller's parts on their own, as tables: turn keeper, echo judge, barge-in without truncation,
session editor's differences, view model notices, microphone suspension (the reconnector, the session
editor's updates and the tool slot: ``test_parts_reconnector.py``, ``test_parts_reconnector_sessions.py``,
``test_parts_editor_tools.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from desktop_app.controller.echo_judge import FALSE_START_S, EchoJudge
from desktop_app.controller.microphone import Microphone
from desktop_app.controller.session_editor import _differences
from desktop_app.controller.states import MicMode, Turn
from desktop_app.controller.turns import TurnKeeper
from desktop_app.controller.view import ViewModel
from desktop_app.controller.view_state import ViewState
from desktop_app.realtime.conversation import Item
from desktop_app.realtime.dialect import REALTIME_TRAITS
from desktop_app.realtime.session_config import SemanticVad, ServerVad, SessionConfig
from tests.controller.peer import FakeAudio


def view_model(**state) -> tuple[ViewModel, list[ViewState]]:
    published: list[ViewState] = []
    return ViewModel(ViewState(**state), published.append), published


# --- turn keeper -------------------------------------------------------------------------------

FINISH = [
    # turn, awaiting, busy, hands_free → turn after check_finished
    (Turn.ASSISTANT_SPEAKING, False, False, True, Turn.LISTENING),
    (Turn.ASSISTANT_SPEAKING, False, False, False, Turn.IDLE),
    (Turn.WAITING, False, False, True, Turn.LISTENING),
    (Turn.WAITING, True, False, True, Turn.WAITING),  # an answer was asked for and has not started
    (Turn.ASSISTANT_SPEAKING, False, True, True, Turn.ASSISTANT_SPEAKING),  # still playing / in progress
    (Turn.COMMITTING, False, False, True, Turn.COMMITTING),  # the server has not taken the turn yet
    (Turn.RUNNING_TOOL, False, False, True, Turn.RUNNING_TOOL),  # a tool ends with TOOL_DONE first
    (Turn.USER_SPEAKING, False, False, True, Turn.USER_SPEAKING),
]


@pytest.mark.parametrize("turn,awaiting,busy,hands_free,after", FINISH)
def test_a_turn_finishes_only_when_nothing_is_left(turn, awaiting, busy, hands_free, after):
    view, _ = view_model(turn=turn)
    turns = TurnKeeper(view)
    turns.awaiting_response = awaiting
    turns.check_finished(busy=busy, hands_free=hands_free)
    assert turns.turn is after
    assert turns.idle.is_set() == (after is not turn)
    assert turns.responses_finished == (1 if after is not turn else 0)


# --- echo judge --------------------------------------------------------------------------------

@pytest.mark.parametrize("playing,only_echo,ignored", [
    (False, False, False), (False, True, False),  # nothing playing: never echo
    (True, False, False),  # the canceller heard the user: a real barge-in
    (True, True, True),  # only echo in the microphone: keep talking
])
def test_speech_started_is_ignored_only_over_playback_with_only_echo(playing, only_echo, ignored):
    judge = EchoJudge()
    assert judge.speech_started("item_U1", playing=playing, mic_only_echo=only_echo) is ignored


def _items(*pairs: tuple[str, str, str, str | None]) -> list[Item]:
    return [Item(id=i, type="message", role=role, text=text, response_id=rid, done=True)
            for i, role, text, rid in pairs]


STORY = "Once upon a time there was a little fox who lived by the river"


def test_a_transcript_repeating_the_assistant_before_it_is_echo_and_its_answer_is_cancelled():
    judge = EchoJudge()
    judge.speech_started("U2", playing=True, mic_only_echo=False)
    judge.response_created("resp_2", "U2")
    items = _items(("A1", "assistant", STORY, "resp_1"), ("U2", "user", "", None), ("A2", "assistant", "", "resp_2"))
    verdict = judge.judge("U2", "there was a little fox who lived by", items, "resp_2")
    assert verdict is not None and verdict.item_id == "U2"
    assert verdict.cancel_response == "resp_2" and verdict.answer_items == ("A2",)
    assert "U2" in judge.echo_items


def test_echo_answered_by_an_earlier_response_cancels_nothing():
    judge = EchoJudge()
    judge.speech_started("U2", playing=True, mic_only_echo=False)
    judge.response_created("resp_1", "U1")  # the answer going on was created before the echo
    items = _items(("U1", "user", "Tell me a story", None), ("A1", "assistant", STORY, "resp_1"),
                   ("U2", "user", "", None))
    verdict = judge.judge("U2", "there was a little fox who lived by", items, "resp_1")
    assert verdict is not None and verdict.cancel_response is None and verdict.answer_items == ()


@pytest.mark.parametrize("transcript,over_playback", [
    ("there was a little fox who lived by", False),  # did not start during playback: never judged
    ("what is the capital of France please", True),  # not the assistant's words
    ("a little fox", True),  # under four words: an answer, never judged
])
def test_not_echo(transcript, over_playback):
    judge = EchoJudge()
    if over_playback:
        judge.speech_started("U2", playing=True, mic_only_echo=False)
    items = _items(("A1", "assistant", STORY, "resp_1"), ("U2", "user", "", None))
    assert judge.judge("U2", transcript, items, None) is None


@pytest.mark.parametrize("on_turn,by_us,suspects,resume", [
    (True, False, True, True),  # the server cut its answer on echo we judged harmless
    (True, True, True, False),  # we interrupted it ourselves
    (True, False, False, False),  # a real user turn
    (False, False, True, False),  # completed normally
])
def test_resume_after_an_answer_cut_on_echo(on_turn, by_us, suspects, resume):
    judge = EchoJudge()
    if suspects:
        judge.speech_started("U2", playing=True, mic_only_echo=True)
    assert judge.resume_after("resp_1", cancelled_on_turn=on_turn, by_us=by_us) is resume


def test_a_local_onset_the_server_never_confirms_is_a_false_start_once():
    judge = EchoJudge()
    judge.local_onset(100.0)
    assert judge.false_start(100.0 + FALSE_START_S / 2) is None
    assert judge.false_start(100.0 + FALSE_START_S) == pytest.approx(FALSE_START_S)
    assert judge.false_start(100.0 + 2 * FALSE_START_S) is None  # forgotten
    judge.local_onset(200.0)
    judge.speech_started("U3", playing=False, mic_only_echo=False)  # the server heard it: confirmed
    assert judge.false_start(200.0 + 2 * FALSE_START_S) is None


# --- barge-in on a dialect without truncation (GPT-Live) ---------------------------------------

@pytest.mark.parametrize("sounding,played", [(True, 300), (False, 300), (False, 0)])
def test_a_live_reply_talked_over_keeps_what_had_played_as_heard_even_in_a_pause(sounding, played):
    """The reply is silenced either way; with nothing sounding at that instant (a pause inside it, or its
    audio not here yet) what was heard is still what had played, so the transcript cuts it there."""
    from desktop_app.controller.barge_in import BargeIn
    from tests.live import frames as LF
    from tests.live.test_connection import started

    core = started()
    LF.feed(core, LF.audio(LF.voice_b64(300)), LF.says(" Once upon", 0, 300))
    [item] = [i for i in core.conversation.items if i.role == "assistant"]
    audio = FakeAudio()
    audio.played[item.id] = played
    audio.playing_item = item.id if sounding else None
    barge = BargeIn(audio)
    barge.interrupt(core, server_cancels=True)
    assert barge.heard_ms == {item.id: played} and barge.is_silenced(core.active_response_id)
    assert core.frames_to_send() == []  # Live: nothing to cancel or truncate


# --- session editor: telling the user what the server changed ---------------------------------

@pytest.mark.parametrize("asked,effective,words", [
    (ServerVad(silence_duration_ms=500), ServerVad(silence_duration_ms=500), []),
    (ServerVad(silence_duration_ms=500), ServerVad(silence_duration_ms=200), ["silence is 200 ms, not 500 ms"]),
    (ServerVad(threshold=0.7, idle_timeout_ms=6000), ServerVad(threshold=0.5, idle_timeout_ms=None),
     ["threshold is 0.5, not 0.7", "idle timeout is off, not 6000 ms"]),
    (SemanticVad(eagerness="high"), ServerVad(), ["turn detection is server_vad, not semantic_vad"]),
    (None, ServerVad(), ["turn detection is server_vad, not off"]),
])
def test_differences_name_each_value_the_server_changed(asked, effective, words):
    assert _differences(SessionConfig(turn_detection=asked), SessionConfig(turn_detection=effective)) == words


def test_a_different_voice_is_named():
    assert _differences(SessionConfig(voice="cedar"), SessionConfig(voice="marin")) == ["the voice is marin, not cedar"]


# --- view model --------------------------------------------------------------------------------

def test_a_notice_is_cleared_only_when_its_own_cause_is_gone():
    view, published = view_model()
    view.notify("That was too short to send.", "warning", cause="push_to_talk")
    view.resolve("connection")
    assert view.state.notice is not None and view.state.notice.cause == "push_to_talk"
    view.resolve("push_to_talk")
    assert view.state.notice is None
    assert len(published) == 2


async def test_wait_for_wakes_on_a_change_and_times_out_without_one():
    view, _ = view_model()
    waiter = asyncio.ensure_future(view.wait_for(lambda: view.state.turn is Turn.LISTENING, 5))
    await asyncio.sleep(0)
    view.set(turn=Turn.LISTENING)
    assert await waiter is True
    assert await view.wait_for(lambda: view.state.turn is Turn.IDLE, 0.05) is False


# --- microphone: suspension --------------------------------------------------------------------

@dataclass
class FakeCore:
    """Just enough of a Dialect for the microphone part."""

    traits = REALTIME_TRAITS
    session: SessionConfig | None = field(default_factory=SessionConfig)
    closed: bool = False
    appended: list[bytes] = field(default_factory=list)
    cleared: int = 0

    def append_audio(self, audio: bytes) -> str:
        self.appended.append(audio)
        return "evt"

    def clear_audio(self) -> str:
        self.cleared += 1
        return "evt"


def microphone(core: FakeCore, audio: FakeAudio) -> Microphone:
    view, _ = view_model()
    return Microphone(audio=audio, view=view, turns=TurnKeeper(view), mode=MicMode.HANDS_FREE,
                      core=lambda: core, transport=lambda: None, flush=lambda: None,
                      interrupt=lambda server_cancels: None, encoder=None)


def test_a_suspended_conversation_sends_nothing_and_holds_the_assistant_until_resumed():
    core, audio = FakeCore(), FakeAudio()
    mic = microphone(core, audio)
    mic.frame(b"\x01\x00" * 480)
    assert len(core.appended) == 1
    mic.suspend("microphone test", True)
    mic.suspend("room calibration", True)
    mic.frame(b"\x01\x00" * 480)
    assert len(core.appended) == 1 and audio.paused and core.cleared == 2  # a half turn is dropped
    mic.suspend("microphone test", False)
    mic.frame(b"\x01\x00" * 480)
    assert len(core.appended) == 1 and audio.paused  # the calibration still runs
    mic.suspend("room calibration", False)
    mic.frame(b"\x01\x00" * 480)
    assert len(core.appended) == 2 and not audio.paused and audio.pauses == [True, False]


def test_unmuting_hands_free_reopens_the_microphone_gate():
    """Issue #16 item 3: mute, then unmute, must leave the microphone sending again."""
    core, audio = FakeCore(), FakeAudio()
    mic = microphone(core, audio)
    audio.set_gate(True)
    mic.set_muted(True)
    assert audio.muted and not audio.gate
    mic.frame(b"\x01\x00" * 480)
    assert core.appended == []
    mic.set_muted(False)
    assert not audio.muted and audio.gate
    mic.frame(b"\x01\x00" * 480)
    assert len(core.appended) == 1


# --- media voice (WebRTC): an answer whose audio has not started yet is still on its way ---------

class MediaTransport:
    """Just enough of a media transport: it carries audio and takes a sink."""

    carries_audio = True

    def set_audio_sink(self, sink: Callable[[bytes], None] | None) -> None:
        self.sink = sink


def test_a_finished_answer_is_streaming_until_its_audio_starts_and_stops(monkeypatch):
    from desktop_app.controller import media_voice
    from desktop_app.controller.media_voice import MediaVoice
    from desktop_app.realtime.response_events import (
        ContentPartAdded, OutputAudioBufferStarted, OutputAudioBufferStopped,
    )

    clock = {"t": 100.0}
    monkeypatch.setattr(media_voice.time, "monotonic", lambda: clock["t"])
    media = MediaVoice(FakeAudio(), lambda: None, lambda rid: False)
    media.attach(MediaTransport())  # type: ignore[arg-type]
    media.part_added(ContentPartAdded(response_id="resp_1", item_id="item_A1", output_index=0, content_index=0,
                                      part={"type": "audio"}))
    media.response_done("resp_1", "completed")  # the events outran the track
    assert media.streaming
    media.started(OutputAudioBufferStarted(response_id="resp_1"))
    media.stopped(OutputAudioBufferStopped(response_id="resp_1"))
    assert media.streaming  # the tail is still arriving
    media.part_added(ContentPartAdded(response_id="resp_2", item_id="item_A2", output_index=0, content_index=0,
                                      part={"type": "audio"}))
    media.response_done("resp_2", "cancelled")  # cut short: it may never play
    media.connection_ended()
    media.attach(MediaTransport())  # type: ignore[arg-type]
    media.part_added(ContentPartAdded(response_id="resp_3", item_id="item_A3", output_index=0, content_index=0,
                                      part={"type": "audio"}))
    media.response_done("resp_3", "completed")
    clock["t"] += media_voice.NEVER_STARTED_S + 0.1
    assert not media.streaming  # its audio never started: the turn may end
