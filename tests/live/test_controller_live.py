"""The controller over GPT-Live, against a scripted Live peer (every frame SDK-checked both ways): a spoken
turn, barge-in on the local onset (playback stops, nothing is truncated or cancelled), a delegated tool
call served by the tool runner, silence while muted, instructions changed mid-session, the polite close
and ``session.closed`` reasons in plain words."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from desktop_app.controller.controller import Controller
from desktop_app.controller.dialects import dialect_for
from desktop_app.controller.states import Conn, Turn
from desktop_app.live.connection import LIVE_TRAITS
from desktop_app.live.context import STOP_SPEAKING
from desktop_app.realtime.session_config import ServerVad, SessionConfig
from desktop_app.tools import ToolBox, ToolRegistry, ToolSpec
from desktop_app.tools.spec import CallContext
from tests.controller.peer import EchoAwareAudio, FakeAudio
from tests.live import frames as F
from tests.live.peer import LivePeer

TOOL = {"type": "function", "name": "get_time", "description": "The local time.",
        "parameters": {"type": "object", "properties": {}}}
CONFIG = SessionConfig(model="gpt-live-1", instructions="Be brief.", turn_detection=ServerVad())


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


async def start(peer: LivePeer, audio: FakeAudio, config: SessionConfig = CONFIG, tools: Any = None) -> Controller:
    async def target() -> tuple[str, dict[str, str]]:
        return peer.url, {}

    ctl = Controller(target=target, audio=audio, config=config, make_core=dialect_for(config.model), tools=tools,
                     max_retries=0)
    assert ctl.view.traits is LIVE_TRAITS  # known before connecting: the window can say what differs
    await ctl.connect()
    await peer.connected()
    session_start = await peer.next("session.start")
    assert session_start["session"]["model"] == "gpt-live-1"
    await peer.send(F.started(client_event_id=session_start["event_id"]))
    await wait_for(lambda: ctl.view.connection is Conn.CONNECTED)
    return ctl


async def reply(peer: LivePeer, words: str, voice_ms: int = 200) -> None:
    await peer.send(F.audio(F.voice_b64(voice_ms)), F.says(words, 0, voice_ms))


async def silence(peer: LivePeer, ms: int) -> None:
    await peer.send(*[F.audio(F.silence_b64(100)) for _ in range(ms // 100)])


def said(ctl: Controller) -> list[tuple[str, str, bool]]:
    return [(e.role, e.text, e.final) for e in ctl.view.transcript]


async def test_a_spoken_turn_through_the_controller():
    async with LivePeer() as peer:
        audio = FakeAudio()
        ctl = await start(peer, audio)
        assert peer.paths == ["/v1/live/sessions"]
        audio.speak(200)
        await peer.send(F.said(" What time", 0, 300), F.said(" is it?", 300, 600))
        await wait_for(lambda: said(ctl) == [("user", "What time is it?", False)] and ctl.view.user_speaking)
        assert ctl.view.turn is Turn.USER_SPEAKING
        audio.speak(800)  # the user's pause, on the session clock
        await silence(peer, 100)  # the track delivers what the core found
        await wait_for(lambda: ctl.view.turn is Turn.COMMITTING and not ctl.view.user_speaking)
        await reply(peer, " It is noon.")
        await wait_for(lambda: audio.is_playing and ctl.view.turn is Turn.ASSISTANT_SPEAKING)
        assert said(ctl)[0] == ("user", "What time is it?", True)
        await silence(peer, 1000)
        await wait_for(lambda: len(audio.finished) == 1)
        audio.finish_playing()
        await wait_for(lambda: ctl.view.turn is Turn.LISTENING)
        assert said(ctl) == [("user", "What time is it?", True), ("assistant", "It is noon.", True)]
        assert peer.appended_bytes >= 960 * 50  # the microphone went out as session.input_audio.append
        await ctl.close()


async def test_barge_in_stops_local_playback_and_sends_no_truncate_or_cancel():
    async with LivePeer() as peer:
        audio = EchoAwareAudio()
        ctl = await start(peer, audio)
        await reply(peer, " Once upon a time", 400)
        await wait_for(lambda: audio.is_playing)
        item = audio.playing_item
        before = audio.enqueued[item]
        audio.onset()  # the echo guard heard the user start over the assistant
        assert audio.flushes == 1 and not audio.is_playing
        await reply(peer, " there lived", 300)  # the model has not decided to stop yet: not heard
        await asyncio.sleep(0.1)
        assert audio.enqueued[item] == before
        await silence(peer, 1000)  # it stopped: the reply ends
        await reply(peer, " Yes?", 200)  # a new reply is heard
        await wait_for(lambda: len(audio.order) == 2)
        assert peer.sent_types() == ["session.start"]  # no truncate, no cancel: nothing to send
        await ctl.close()


def time_box(calls: list[dict[str, Any]]) -> ToolBox:
    """A ToolBox with one read-only tool (no permission asked) that records its calls."""
    async def run(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        calls.append(dict(args))
        return {"time": "12:00"}

    return ToolBox(ToolRegistry([ToolSpec(name="get_time", description=TOOL["description"],
                                          parameters=TOOL["parameters"], run=run)]))


async def test_a_delegated_call_runs_through_the_toolbox_and_the_backend_continues():
    calls: list[dict[str, Any]] = []
    async with LivePeer() as peer:
        ctl = await start(peer, FakeAudio(), replace(CONFIG, tools=(TOOL,)), tools=time_box(calls))
        delegation = {"id": "item_d1", "type": "delegation", "target": "responses", "response_id": "resp_b1"}
        await peer.send(F.ev("session.delegation.created", offset_ms=900, delegation=delegation),
                        F.nested("item_d1", {"type": "response.created", "sequence_number": 0,
                                             "response": F.backend_response("resp_b1")}),
                        F.nested("item_d1", {"type": "response.output_item.done", "sequence_number": 1,
                                             "output_index": 0, "item": F.function_call("call_1", "get_time", "{}",
                                                                                        "fc_1")}),
                        F.nested("item_d1", {"type": "response.completed", "sequence_number": 2,
                                             "response": F.backend_response("resp_b1", "completed", F.USAGE)}))
        output = await peer.next("response.item.create")
        assert output["item"]["call_id"] == "call_1" and json.loads(output["item"]["output"]) == {"time": "12:00"}
        await peer.next("response.create")
        assert calls == [{}]
        await wait_for(lambda: any(e.role == "tool" and e.tool_status == "done" for e in ctl.view.transcript))
        await ctl.close()


async def test_muted_the_session_clock_still_runs_on_silence():
    async with LivePeer() as peer:
        audio = FakeAudio()  # delivers no frames by itself: as a muted or push-to-talk microphone
        ctl = await start(peer, audio)
        ctl.set_muted(True)
        sent_before = peer.appended_bytes
        await asyncio.sleep(0.5)
        assert peer.appended_bytes - sent_before >= 48 * 300  # at least 300 ms of silence went out
        await ctl.close()


async def test_instructions_changed_mid_session_are_appended_and_push_to_talk_commits_nothing():
    async with LivePeer() as peer:
        audio = FakeAudio()
        ctl = await start(peer, audio)
        ctl.set_instructions("Answer like a pirate.")
        appended = await peer.next("session.instructions.append")
        assert appended["content"].endswith("Answer like a pirate.") and appended["delegation_id"] is None
        ctl.set_mode("push_to_talk")
        ctl.press_talk()
        await asyncio.sleep(0.2)
        audio.speak(300)
        ctl.release_talk()
        await asyncio.sleep(0.1)
        assert "input_audio_buffer.commit" not in peer.sent_types() and "response.create" not in peer.sent_types()
        await ctl.close()


async def test_close_asks_for_session_closed_and_keeps_the_billed_seconds():
    async with LivePeer(answer_close=False) as peer:
        ctl = await start(peer, FakeAudio())
        closing = asyncio.ensure_future(ctl.close())
        request = await peer.next("session.close")
        await peer.send(F.ev("session.closed", reason="close_requested", usage={"seconds": 42}, session=F.snapshot(),
                             client_event_id=request["event_id"]))
        await peer.close()
        await asyncio.wait_for(closing, 5)
        assert ctl.view.connection is Conn.CLOSED and ctl.view.notice is None
        assert ctl.usage().live_seconds == 42 and ctl.usage().cost("gpt-live-1") == 42 * 0.05 / 60
        assert ctl.view.usage_seconds == 42


async def test_a_session_ended_by_the_safety_filter_says_so_and_does_not_reconnect():
    async with LivePeer() as peer:
        ctl = await start(peer, FakeAudio())
        await peer.send(F.ev("session.closed", reason="content", usage={"seconds": 3}, session=F.snapshot()))
        await peer.close()
        await wait_for(lambda: ctl.view.connection is Conn.FAILED)
        assert ctl.view.notice is not None and "safety" in ctl.view.notice.sentence
        assert peer.connections == 1
        await ctl.close()
        assert json.dumps(peer.sent_types())  # the peer saw only valid frames (checked as they came)


async def test_the_interrupt_button_asks_the_model_to_stop_and_a_later_reply_plays():
    async with LivePeer() as peer:
        audio = FakeAudio()
        ctl = await start(peer, audio)
        ctl.interrupt()  # nothing is being said: nothing to ask
        await reply(peer, " Once upon a time", 400)
        await wait_for(lambda: audio.is_playing)
        item = audio.playing_item
        ctl.interrupt()
        assert audio.flushes == 2 and not audio.is_playing  # the queued audio is dropped here at once
        stop = await peer.next("session.instructions.append")
        assert stop["content"] == STOP_SPEAKING and stop["delegation_id"] is None
        heard = audio.enqueued[item]
        await reply(peer, " there lived a keeper", 300)  # the model has not stopped yet: not played
        await peer.send(F.ev("session.instructions.appended", start_ms=700, end_ms=900,
                             client_event_id=stop["event_id"]))
        await reply(peer, " of the lighthouse", 200)  # the acknowledgement is not a signal to play again
        await asyncio.sleep(0.1)
        assert audio.enqueued[item] == heard and audio.order == [item]
        await silence(peer, 1000)  # it fell silent: that reply ends
        await reply(peer, " Yes?", 200)  # the next reply is heard in full
        await wait_for(lambda: len(audio.order) == 2 and audio.is_playing)
        await silence(peer, 1000)
        await wait_for(lambda: audio.order[1] in audio.finished)
        assert audio.enqueued[audio.order[1]] >= 200 * 48
        assert peer.sent_types() == ["session.start", "session.instructions.append"]
        entry = next(e for e in ctl.view.transcript if e.item_id == item)
        assert entry.truncated and entry.heard == ""  # none of it had played when it was stopped
        await ctl.close()
