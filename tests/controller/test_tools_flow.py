"""The controller's tool slot against a scripted peer: function calls through a real ToolBox, MCP
approvals and listings, the follow-up answer, barge-in, and what the view shows.

Every client frame is validated against the SDK's strict union by the peer, and every test checks
from the frames sent that each ``call_id`` got exactly one ``function_call_output``.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from desktop_app.controller.states import Turn
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.settings.tools import McpServerConfig, ToolPrefs
from desktop_app.tools import Decision, ToolBox, ToolRegistry, ToolSpec
from desktop_app.tools.assembly import with_tools
from desktop_app.tools.spec import CallContext, Permission
from tests.controller.peer import ScriptedPeer
from tests.controller.test_controller import wait_for
from tests.controller.test_transports import TRANSPORTS, make_peer, start
from tests.realtime import frames as F
from tests.tools.conftest import HangingApprover, ScriptedApprover

R1, R2 = "resp_001", "resp_002"
#: Tool calls are events only: over WebRTC they travel on the data channel, and every test here must
#: come out the same over both transports (issue #21).
pytestmark = pytest.mark.parametrize("transport", TRANSPORTS)


class Gate:
    """A tool whose run waits until the test opens it; records start order."""

    def __init__(self, name: str, result: Any, *, side_effecting: bool = False, permission=None) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False
        self.result = result

        async def run(args: Mapping[str, Any], ctx: CallContext) -> Any:
            self.started.set()
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            return self.result

        self.spec = ToolSpec(name=name, description=f"{name} for tests", run=run, side_effecting=side_effecting,
                             permission=permission,
                             parameters={"type": "object", "properties": {"q": {"type": "string"}}})


def outputs(peer: ScriptedPeer) -> list[dict[str, Any]]:
    return [f["item"] for f in peer.all_frames
            if f["type"] == "conversation.item.create" and f["item"]["type"] == "function_call_output"]


def exactly_one_output_per_call(peer: ScriptedPeer, call_ids: list[str]) -> None:
    counts = Counter(o["call_id"] for o in outputs(peer))
    assert counts == Counter(call_ids), counts


def call_frames(rid: str, *calls: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    """The server's function-call ladder (§3.6 E) for ``(item_id, call_id, name, arguments)`` calls."""
    items = [F.function_call_item(i, c, n, a, status="completed") for i, c, n, a in calls]
    frames = [F.response_created(rid)]
    for index, item in enumerate(items):
        frames += [F.output_item_added(rid, item, index), F.item_added(item),
                   F.args_delta(rid, item["id"], item["call_id"], item["arguments"]),
                   F.args_done(rid, item["id"], item["call_id"], item["name"], item["arguments"]),
                   F.item_done(item), F.output_item_done(rid, item, index)]
    return frames + [F.response_done(rid, output=items)]


async def test_two_calls_run_at_once_and_are_answered_in_call_order_then_one_follow_up(transport: str) -> None:
    slow, quick = Gate("slow", {"n": 1}), Gate("quick", {"n": 2})
    box = ToolBox(ToolRegistry([slow.spec, quick.spec]))
    async with make_peer(transport) as peer:
        s = await start(peer, transport, tools=box)
        await peer.send(*call_frames(R1, ("item_F1", "call_1", "slow", '{"q":"a"}'),
                                     ("item_F2", "call_2", "quick", '{"q":"b"}')))
        await asyncio.wait_for(asyncio.gather(slow.started.wait(), quick.started.wait()), 5)  # both at once
        assert s.ctl.view.turn is Turn.RUNNING_TOOL
        assert [r.label for r in s.ctl.view.tools] == ["Slow", "Quick"]
        assert all(r.phase == "running" for r in s.ctl.view.tools)
        quick.release.set()  # the second finishes first …
        await wait_for(lambda: len(s.ctl.view.tools) == 1)
        assert outputs(peer) == []  # … but nothing is sent before the first is answered
        slow.release.set()
        first = await peer.next("conversation.item.create")
        second = await peer.next("conversation.item.create")
        assert [first["item"]["call_id"], second["item"]["call_id"]] == ["call_1", "call_2"]
        assert json.loads(first["item"]["output"]) == {"n": 1} and json.loads(second["item"]["output"]) == {"n": 2}
        await peer.next("response.create")
        assert peer.sent_types().count("response.create") == 1
        exactly_one_output_per_call(peer, ["call_1", "call_2"])
        await wait_for(lambda: s.ctl.view.turn is Turn.WAITING and s.ctl.view.tools == ())
        await s.ctl.close()


async def test_the_follow_up_waits_for_a_response_in_progress(transport: str) -> None:
    tool = Gate("lookup", "found")
    async with make_peer(transport) as peer:
        s = await start(peer, transport, tools=ToolBox(ToolRegistry([tool.spec])))
        await peer.send(*call_frames(R1, ("item_F1", "call_1", "lookup", '{"q":"x"}')))
        await asyncio.wait_for(tool.started.wait(), 5)
        await peer.send(F.response_created(R2))  # the server started another answer meanwhile
        tool.release.set()
        await peer.next("conversation.item.create")
        await asyncio.sleep(0.2)
        assert "response.create" not in peer.sent_types()  # never conversation_already_has_active_response
        await peer.send(F.response_done(R2))
        await peer.next("response.create")
        await s.ctl.close()


async def test_a_barge_in_cancels_the_running_tool_and_answers_its_call_cancelled(transport: str) -> None:
    tool = Gate("long_job", "never")
    async with make_peer(transport) as peer:
        s = await start(peer, transport, tools=ToolBox(ToolRegistry([tool.spec])))
        await peer.send(*call_frames(R1, ("item_F1", "call_1", "long_job", '{"q":"x"}')))
        await asyncio.wait_for(tool.started.wait(), 5)
        await peer.send(F.speech_started("item_U2"))  # the user talks while the tool runs
        created = await peer.next("conversation.item.create")
        error = json.loads(created["item"]["output"])["error"]
        assert created["item"]["call_id"] == "call_1" and error["type"] == "cancelled"
        assert tool.cancelled
        await asyncio.sleep(0.2)
        assert "response.create" not in peer.sent_types()  # the user's new turn gets the answer
        exactly_one_output_per_call(peer, ["call_1"])
        await wait_for(lambda: s.ctl.view.turn is Turn.USER_SPEAKING and not s.ctl.view.tools)
        entry = next(e for e in s.ctl.view.transcript if e.role == "tool")
        assert entry.tool_status == "running"  # until the server echoes the output item
        await peer.send(F.item_added(F.function_output_item("item_O1", "call_1", created["item"]["output"])))
        await wait_for(lambda: next(e for e in s.ctl.view.transcript if e.role == "tool").tool_status == "cancelled")
        await s.ctl.close()


async def test_a_call_seen_twice_is_answered_once(transport: str) -> None:
    tool = Gate("lookup", "found")
    tool.release.set()
    async with make_peer(transport) as peer:
        s = await start(peer, transport, tools=ToolBox(ToolRegistry([tool.spec])))
        frames = call_frames(R1, ("item_F1", "call_1", "lookup", '{"q":"x"}'))
        await peer.send(*frames)
        await peer.next("conversation.item.create")
        await peer.next("response.create")
        await peer.send(frames[-1])  # the same response.done again (a confused server)
        await asyncio.sleep(0.2)
        exactly_one_output_per_call(peer, ["call_1"])
        assert peer.sent_types().count("response.create") == 1
        await s.ctl.close()


async def test_an_ask_tool_waits_for_the_prompt_and_shows_it_and_a_denial_is_answered(transport: str) -> None:
    tool = Gate("send_mail", "sent", side_effecting=True)
    tool.release.set()
    approver = HangingApprover()
    async with make_peer(transport) as peer:
        s = await start(peer, transport, tools=ToolBox(ToolRegistry([tool.spec]), approver=approver))
        await peer.send(*call_frames(R1, ("item_F1", "call_1", "send_mail", '{"q":"hi"}')))
        await asyncio.wait_for(approver.asked.wait(), 5)
        await wait_for(lambda: [r.phase for r in s.ctl.view.tools] == ["approval"])
        entry = next(e for e in s.ctl.view.transcript if e.role == "tool")
        assert (entry.tool_name, entry.tool_status, json.loads(entry.text)) == ("send_mail", "approval", {"q": "hi"})
        s.ctl.interrupt()  # the Interrupt button: the prompt is withdrawn, the call cancelled
        created = await peer.next("conversation.item.create")
        assert json.loads(created["item"]["output"])["error"]["type"] == "cancelled" and approver.cancelled
        assert not tool.started.is_set()
        await s.ctl.close()
    denying = ScriptedApprover(Decision.DENY)
    async with make_peer(transport) as peer:
        s = await start(peer, transport, tools=ToolBox(ToolRegistry([tool.spec]), approver=denying))
        await peer.send(*call_frames(R1, ("item_F1", "call_1", "send_mail", '{"q":"hi"}')))
        created = await peer.next("conversation.item.create")
        assert json.loads(created["item"]["output"])["error"]["type"] == "denied"
        await peer.next("response.create")  # the model explains that it was not done
        assert [r.arguments for r in denying.requests] == [{"q": "hi"}] and not tool.started.is_set()
        await s.ctl.close()


async def test_without_a_toolbox_calls_are_answered_with_an_error(transport: str) -> None:
    async with make_peer(transport) as peer:
        s = await start(peer, transport)
        await peer.send(*call_frames(R1, ("item_F1", "call_1", "get_weather", '{"city":"Lisbon"}')))
        created = await peer.next("conversation.item.create")
        assert json.loads(created["item"]["output"])["error"]["type"] == "unknown_tool"
        await peer.next("response.create")
        await s.ctl.close()


def mcp_server(**over: Any) -> McpServerConfig:
    return McpServerConfig(**{"label": "weather", "url": "http://127.0.0.1:9/mcp", **over})


def approval_request(request_id: str, name: str = "forecast", arguments: str = '{"city":"Paris"}') -> dict[str, Any]:
    return {"type": "mcp_approval_request", "id": request_id, "server_label": "weather", "name": name,
            "arguments": arguments}


async def test_mcp_approval_requests_are_answered_by_policy_or_by_the_prompt(transport: str) -> None:
    prefs = ToolPrefs(mcp_servers=(mcp_server(trusted_tools=("forecast",)),))
    approver = ScriptedApprover(Decision.DENY)
    box = ToolBox(ToolRegistry(prefs=prefs), approver=approver)
    config, problems = with_tools(SessionConfig(), box.registry)
    assert problems == [] and config.tools[0]["type"] == "mcp"
    async with make_peer(transport) as peer:
        s = await start(peer, transport, config=config, tools=box)
        assert s.session["tools"][0]["server_label"] == "weather"  # sent with the session
        trusted, asked = approval_request("mcpr_1"), approval_request("mcpr_2", "delete_city")
        await peer.send(F.response_created(R1), F.output_item_added(R1, trusted, 0), F.item_added(trusted),
                        F.output_item_done(R1, trusted, 0), F.item_done(trusted),
                        F.output_item_added(R1, asked, 1), F.item_added(asked, "mcpr_1"),
                        F.output_item_done(R1, asked, 1), F.item_done(asked, "mcpr_1"),
                        F.response_done(R1, output=[trusted, asked]))
        first = await peer.next("conversation.item.create")
        second = await peer.next("conversation.item.create")
        assert (first["item"]["approval_request_id"], first["item"]["approve"]) == ("mcpr_1", True)
        assert (second["item"]["approval_request_id"], second["item"]["approve"]) == ("mcpr_2", False)
        assert "denied" in second["item"]["reason"]
        assert [r.tool for r in approver.requests] == ["delete_city"]  # the trusted one was not asked
        assert approver.requests[0].kind == "mcp" and approver.requests[0].server_label == "weather"
        await peer.next("response.create")
        # The call the approval allowed: one transcript entry from request to result.
        call = {"type": "mcp_call", "id": "mcp_1", "server_label": "weather", "name": "forecast",
                "arguments": '{"city":"Paris"}', "approval_request_id": "mcpr_1", "output": None, "error": None}
        await peer.send(F.item_added({"type": "mcp_approval_response", "id": first["item"]["id"],
                                      "approval_request_id": "mcpr_1", "approve": True}),
                        F.response_created(R2), F.output_item_added(R2, call), F.item_added(call),
                        F.ev("response.mcp_call.in_progress", item_id="mcp_1", output_index=0))
        await wait_for(lambda: any(e.tool_status == "running" and e.item_id == "mcpr_1" for e in s.ctl.view.transcript))
        done = {**call, "output": "Sunny, 21 °C"}
        await peer.send(F.ev("response.mcp_call.completed", item_id="mcp_1", output_index=0),
                        F.output_item_done(R2, done), F.item_done(done))
        await wait_for(lambda: any(e.tool_status == "done" for e in s.ctl.view.transcript))
        tools = [e for e in s.ctl.view.transcript if e.role == "tool"]
        assert [(e.item_id, e.tool_name, e.tool_status, e.heard) for e in tools] == [
            ("mcpr_1", "weather · forecast", "done", "Sunny, 21 °C"),
            ("mcpr_2", "weather · delete_city", "approval", None)]  # its denial was never echoed here
        await s.ctl.close()


async def test_mcp_listings_are_kept_and_a_failed_one_is_told(transport: str) -> None:
    box = ToolBox(ToolRegistry(prefs=ToolPrefs(mcp_servers=(mcp_server(),))))
    async with make_peer(transport) as peer:
        s = await start(peer, transport, tools=box)
        listing = {"type": "mcp_list_tools", "id": "mcpl_1", "server_label": "weather", "tools": []}
        await peer.send(F.item_added(listing), F.ev("mcp_list_tools.in_progress", item_id="mcpl_1"))
        await wait_for(lambda: "weather" in box.mcp.in_progress)
        listed = {**listing, "tools": [{"name": "forecast", "description": "The weather", "input_schema": {}}]}
        await peer.send(F.ev("mcp_list_tools.completed", item_id="mcpl_1"), F.item_done(listed))
        await wait_for(lambda: box.mcp.by_server["weather"].tools == (("forecast", "The weather"),))
        assert not box.mcp.in_progress
        await peer.send(F.item_added({**listing, "id": "mcpl_2"}), F.ev("mcp_list_tools.failed", item_id="mcpl_2"))
        await wait_for(lambda: s.ctl.view.notice is not None and "weather" in s.ctl.view.notice.sentence)
        assert box.mcp.by_server["weather"].failed
        await s.ctl.close()


async def test_tool_changes_are_sent_as_a_live_session_update(transport: str) -> None:
    registry = ToolRegistry([Gate("lookup", "x").spec])
    async with make_peer(transport) as peer:
        s = await start(peer, transport, config=with_tools(SessionConfig(), registry)[0], tools=ToolBox(registry))
        assert [t["name"] for t in s.session["tools"]] == ["lookup"] and s.session["tool_choice"] == "auto"
        registry.with_permission("lookup", Permission.DENY)  # the Tools tab: denied tools are not offered
        s.ctl.set_tools(with_tools(s.ctl.config, registry)[0])
        update = await s.accept_update()
        assert update["session"]["tools"] == []
        await s.ctl.close()
