"""Races around a function call, against a scripted peer: the user interrupts or clears, or the
connection drops, while a tool is asked for, runs or answers behind its spoken preamble.

Each test here once failed: the call ran (or asked for permission) after the user had stopped its
answer, its output went into the wrong session or none, or the turn showed the assistant while the
tool was running. (The races without a tool: ``test_races.py``.)
"""

from __future__ import annotations

import asyncio

import pytest

from desktop_app.controller.states import Conn
from tests.controller.peer import ScriptedPeer
from tests.controller.test_controller import start, wait_for
from tests.realtime import frames as F


async def test_calls_of_an_answer_the_user_interrupted_are_answered_cancelled_when_its_done_crosses_the_cancel():
    """The Interrupt button (or a push-to-talk press, a local onset) cancels an answer whose
    response.done — completed, with a function call — is already on its way: the call must not
    run (nor ask for permission), and no second answer may follow the user's turn."""
    from desktop_app.tools import ToolBox, ToolRegistry
    from tests.controller.test_tools_flow import Gate, exactly_one_output_per_call, outputs

    tool = Gate("lookup", "found")
    tool.release.set()
    async with ScriptedPeer() as peer:
        s = await start(peer, tools=ToolBox(ToolRegistry([tool.spec])))
        preamble = F.assistant_item("item_A1")
        await peer.send(F.response_created("resp_1"), F.output_item_added("resp_1", preamble), F.item_added(preamble),
                        F.part_added("resp_1", "item_A1"), F.transcript_delta("resp_1", "item_A1", "Let me check."),
                        F.audio_delta("resp_1", "item_A1", 800))
        await wait_for(lambda: s.audio.is_playing)
        s.ctl.interrupt()
        cancel = await peer.next("response.cancel")
        assert cancel["response_id"] == "resp_1"
        # The server had finished the answer before the cancel reached it.
        said_ = F.assistant_item("item_A1", "completed", transcript="Let me check.")
        call = F.function_call_item("item_F1", "call_1", "lookup", '{"q":"x"}', status="completed")
        await peer.send(F.audio_done("resp_1", "item_A1"), F.item_done(said_), F.output_item_done("resp_1", said_),
                        F.output_item_added("resp_1", call, 1), F.item_added(call), F.item_done(call),
                        F.output_item_done("resp_1", call, 1), F.response_done("resp_1", output=[said_, call]),
                        F.error("response_cancel_not_active", "Cancellation failed: no active response found",
                                caused_by=cancel["event_id"]))
        created = await peer.next("conversation.item.create", skip=("input_audio_buffer.append",
                                                                    "conversation.item.truncate"))
        assert '"cancelled"' in created["item"]["output"]
        await asyncio.sleep(0.3)
        assert not tool.started.is_set()  # the interrupted answer's tool never ran
        assert "response.create" not in peer.sent_types()  # the user's turn is what gets answered
        exactly_one_output_per_call(peer, ["call_1"])
        assert len(outputs(peer)) == 1
        await s.ctl.close()


async def reconnect(peer: ScriptedPeer, s, count: int) -> int:
    """The next session opens; returns the index of its first frame in ``peer.all_frames``."""
    await peer.connected(count)
    mark = len(peer.all_frames)
    await peer.send(F.session_created())
    await s.accept_update()
    await wait_for(lambda: s.ctl.view.connection is Conn.CONNECTED)
    return mark


async def question_with_a_call(peer: ScriptedPeer, tool_name: str) -> None:
    user = F.user_text_item("item_T1", "Look it up, please.")
    call = F.function_call_item("item_F1", "call_1", tool_name, '{"q":"x"}', status="completed")
    await peer.send(F.item_added(user), F.item_done(user), F.response_created("resp_1"),
                    F.output_item_added("resp_1", call), F.item_added(call), F.item_done(call),
                    F.output_item_done("resp_1", call), F.response_done("resp_1", output=[call]))


def carried_call_then_output_then_answer(peer: ScriptedPeer, mark: int) -> None:
    """The new session gets the call (it does not know it), its output, and one follow-up."""
    frames = [f for f in peer.all_frames[mark:] if f["type"] in ("conversation.item.create", "response.create")]
    kinds = [f["item"]["type"] if f["type"] == "conversation.item.create" else f["type"] for f in frames]
    assert kinds == ["message", "function_call", "function_call_output", "response.create"], kinds
    call, output = frames[1]["item"], frames[2]["item"]
    assert (call["call_id"], call["name"], call["arguments"]) == ("call_1", "lookup", '{"q":"x"}')
    assert output["call_id"] == "call_1" and output["output"] == '{"result": "found"}'


async def a_lookup_running_when_the_network_drops(peer: ScriptedPeer):  # noqa: ANN201
    """A session whose question called the ``lookup`` tool; the tool has started and waits for its
    ``release``; the connection drops. Returns the session and the tool."""
    from desktop_app.tools import ToolBox, ToolRegistry
    from tests.controller.test_tools_flow import Gate

    tool = Gate("lookup", "found")
    s = await start(peer, tools=ToolBox(ToolRegistry([tool.spec])))
    await question_with_a_call(peer, "lookup")
    await asyncio.wait_for(tool.started.wait(), 5)
    await peer.drop()  # the network blips while the tool runs
    return s, tool


async def test_a_tool_that_finishes_after_a_reconnect_answers_in_the_new_session_with_its_call():
    async with ScriptedPeer() as peer:
        s, tool = await a_lookup_running_when_the_network_drops(peer)
        mark = await reconnect(peer, s, 2)
        await peer.next("conversation.item.create")  # the replayed question
        tool.release.set()
        await peer.next("response.create", skip=("input_audio_buffer.append", "conversation.item.create"))
        carried_call_then_output_then_answer(peer, mark)
        tools = [e for e in s.ctl.view.transcript if e.role == "tool"]
        assert [(e.tool_name, e.tool_status) for e in tools] == [("lookup", "done")]  # shown once, finished
        await s.ctl.close()


async def test_a_tool_that_finishes_while_reconnecting_answers_once_the_new_session_opens():
    async with ScriptedPeer() as peer:
        s, tool = await a_lookup_running_when_the_network_drops(peer)
        await wait_for(lambda: s.ctl.view.connection is Conn.RECONNECTING)
        tool.release.set()  # done before the next session exists: nothing may be lost
        await wait_for(lambda: not s.ctl.view.tools)
        mark = await reconnect(peer, s, 2)
        await peer.next("response.create", skip=("input_audio_buffer.append", "conversation.item.create"))
        carried_call_then_output_then_answer(peer, mark)
        await s.ctl.close()


async def test_a_tool_of_a_cleared_conversation_sends_nothing_into_the_new_one():
    """A tool that takes its time to stop after a clear must not answer into the fresh session."""
    from desktop_app.tools import ToolBox, ToolRegistry, ToolSpec

    stopping = asyncio.Event()
    finish = asyncio.Event()

    async def stubborn(args, ctx):
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopping.set()
            await finish.wait()  # cleaning up (a subprocess being killed, say)
            raise

    spec = ToolSpec(name="stubborn", description="slow to stop", run=stubborn,
                    parameters={"type": "object", "properties": {"q": {"type": "string"}}})
    async with ScriptedPeer() as peer:
        s = await start(peer, tools=ToolBox(ToolRegistry([spec])))
        await question_with_a_call(peer, "stubborn")
        await wait_for(lambda: bool(s.ctl.view.tools))
        s.ctl.clear_conversation()
        await asyncio.wait_for(stopping.wait(), 5)
        mark = await reconnect(peer, s, 2)
        finish.set()
        await wait_for(lambda: not s.ctl.tools.busy)
        await asyncio.sleep(0.2)
        assert [f["type"] for f in peer.all_frames[mark:]
                if f["type"] in ("conversation.item.create", "response.create")] == []
        await s.ctl.close()


async def test_after_a_spoken_preamble_the_turn_shows_the_tool_running_until_it_is_done():
    """"Let me check" plays while its response completes with a call: once it has played, the turn
    is the tool's (the window says "Running …" / "Waiting for your permission…"), not the assistant's."""
    from desktop_app.controller.states import Turn
    from desktop_app.tools import ToolBox, ToolRegistry
    from tests.controller.test_tools_flow import Gate

    tool = Gate("lookup", "found")
    async with ScriptedPeer() as peer:
        s = await start(peer, tools=ToolBox(ToolRegistry([tool.spec])))
        said_ = F.assistant_item("item_A1", "completed", transcript="Let me check.")
        call = F.function_call_item("item_F1", "call_1", "lookup", '{"q":"x"}', status="completed")
        await peer.send(F.response_created("resp_1"), F.output_item_added("resp_1", F.assistant_item("item_A1")),
                        F.part_added("resp_1", "item_A1"), F.audio_delta("resp_1", "item_A1", 800),
                        F.audio_done("resp_1", "item_A1"), F.output_item_done("resp_1", said_),
                        F.output_item_added("resp_1", call, 1), F.output_item_done("resp_1", call, 1),
                        F.response_done("resp_1", output=[said_, call]))
        await asyncio.wait_for(tool.started.wait(), 5)
        await wait_for(lambda: s.ctl.view.turn is Turn.ASSISTANT_SPEAKING)  # the preamble still plays
        s.audio.finish_playing()
        await wait_for(lambda: s.ctl.view.turn is Turn.RUNNING_TOOL)
        await asyncio.sleep(0.2)  # a few ticks: it stays the tool's turn
        assert s.ctl.view.turn is Turn.RUNNING_TOOL
        tool.release.set()
        await peer.next("response.create", skip=("input_audio_buffer.append", "conversation.item.create"))
        await wait_for(lambda: s.ctl.view.turn is Turn.WAITING)
        await s.ctl.close()


@pytest.mark.parametrize("transport", ["websocket", "webrtc"])
async def test_interrupting_while_a_tool_runs_behind_its_spoken_preamble(transport: str) -> None:
    """"Let me check" still sounds (over WebRTC: from the server's buffer) while the tool runs; the
    Interrupt button stops both: the call is answered cancelled, the server's playback is cleared
    where it owns it, and nothing more is asked for."""
    from desktop_app.tools import ToolBox, ToolRegistry
    from tests.controller.test_tools_flow import Gate, exactly_one_output_per_call
    from tests.controller.test_transports import make_peer
    from tests.controller.test_transports import start as start_over

    tool = Gate("lookup", "found")
    async with make_peer(transport) as peer:
        s = await start_over(peer, transport, tools=ToolBox(ToolRegistry([tool.spec])))
        said_ = F.assistant_item("item_A1", "completed", transcript="Let me check.")
        call = F.function_call_item("item_F1", "call_1", "lookup", '{"q":"x"}', status="completed")
        await peer.send(F.response_created("resp_1"), F.output_item_added("resp_1", F.assistant_item("item_A1")),
                        F.part_added("resp_1", "item_A1"), F.transcript_delta("resp_1", "item_A1", "Let me check."),
                        F.audio_delta("resp_1", "item_A1", 2000), F.audio_done("resp_1", "item_A1"),
                        F.output_item_done("resp_1", said_), F.output_item_added("resp_1", call, 1),
                        F.output_item_done("resp_1", call, 1), F.response_done("resp_1", output=[said_, call]))
        await asyncio.wait_for(tool.started.wait(), 5)
        await wait_for(lambda: s.audio.enqueued.get("item_A1", 0) >= 300 * 48, 10)  # it sounds
        s.ctl.interrupt()
        skip = ("input_audio_buffer.append", "conversation.item.truncate", "output_audio_buffer.clear")
        created = await peer.next("conversation.item.create", skip=skip)
        assert '"cancelled"' in created["item"]["output"] and tool.cancelled
        await asyncio.sleep(0.3)
        sent = peer.sent_types()
        assert "response.create" not in sent and "response.cancel" not in sent  # nothing was running
        assert ("output_audio_buffer.clear" in sent) == (transport == "webrtc")  # the server plays it there
        exactly_one_output_per_call(peer, ["call_1"])
        assert not s.ctl.view.tools and s.audio.flushes == 1
        await s.ctl.close()
