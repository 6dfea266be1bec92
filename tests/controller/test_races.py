"""Races between what the user does and what the server is doing, against a scripted peer.

Each test here once failed: a local action (clearing, interrupting) crossing a server event or a
connection change left the conversation in a state the user did not ask for.
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
