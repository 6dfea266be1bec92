"""The conversation log around a real controller (scripted peer): the turn, the tool call with its
arguments and result, the usage, and the spending stop carried into a new conversation."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from desktop_app.controller.controller import Controller
from desktop_app.tools import ToolBox, ToolRegistry
from desktop_app.tools.spec import CallContext, ToolSpec
from desktop_app.controller.states import Conn, Mic
from desktop_app.history.service import History
from desktop_app.observe.observatory import Observatory
from desktop_app.observe.spend import SpendLimits
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.settings.profiles import CustomProfile
from desktop_app.settings.schema import Settings
from desktop_app.ui.conversation_log import ConversationLog
from tests.controller.peer import FakeAudio, ScriptedPeer
from tests.helpers.wait import wait_until
from tests.realtime import frames as F

PAID = CustomProfile(name="Paid", url="wss://example.invalid/v1/realtime")


async def connected(peer: ScriptedPeer, log: ConversationLog, settings: Settings,
                    tools: ToolBox | None = None) -> Controller:
    async def target():  # noqa: ANN202
        return peer.url, {}

    ctl = Controller(target=target, audio=FakeAudio(), config=SessionConfig(), tools=tools,
                     **log.controller_options())
    log.started(ctl, settings)
    count = peer.connections + 1
    await ctl.connect()
    await peer.connected(count)
    await peer.send(F.session_created())
    await peer.next("session.update")
    await wait_until(lambda: ctl.view.connection is Conn.CONNECTED)
    return ctl


async def test_a_tool_call_its_turn_and_the_usage_are_saved(tmp_path):
    history = History(tmp_path / "history.sqlite3")
    log = ConversationLog(Observatory(model="gpt-realtime"), history)
    await log.open()
    async def add(args: Mapping[str, Any], ctx: CallContext) -> Any:
        return {"result": args["a"] + args["b"]}

    spec = ToolSpec(name="add", description="adds two numbers", run=add,
                    parameters={"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}})
    async with ScriptedPeer() as peer:
        ctl = await connected(peer, log, Settings(), tools=ToolBox(ToolRegistry([spec])))
        ctl.send_text("What is two plus three?")
        await peer.next("conversation.item.create")
        await peer.next("response.create")
        call = F.function_call_item("item_F1", "call_1", "add", '{"a": 2, "b": 3}', status="completed")
        await peer.send(F.item_added(F.user_text_item("item_U1", "What is two plus three?")),
                        F.response_created("resp_1"), F.item_added(call), F.item_done(call),
                        F.response_done("resp_1", output=[call]))
        output = await peer.next("conversation.item.create")
        assert output["item"]["type"] == "function_call_output"
        await peer.send(F.item_added(F.function_output_item("item_O1", "call_1", output["item"]["output"])))
        await wait_until(lambda: any(e.tool_status == "done" for e in ctl.view.transcript))
        await ctl.close()
    log.ended()
    await history.flush()
    (summary,) = await history.conversations()
    saved = await history.load(summary.id)
    tool = next(e for e in saved.entries if e.role == "tool")
    assert (tool.tool_name, tool.tool_status, tool.tool_arguments, tool.tool_output) == (
        "add", "done", '{"a": 2, "b": 3}', '{"result": 5}')
    assert [e.role for e in saved.entries] == ["user", "tool"]
    assert len(saved.turns) == 1 and saved.usage["tokens"]["responses"] == 1
    assert summary.cost_usd is not None and summary.cost_usd > 0
    await log.close()


async def test_the_offline_demo_is_free_and_a_paid_stop_carries_into_the_next_conversation(tmp_path):
    history = History(tmp_path / "history.sqlite3")
    demo = Settings(active_profile="Local server")
    obs = Observatory(model="gpt-realtime", limits=SpendLimits(session_usd=None, day_usd=0.01), ledger=history)
    log = ConversationLog(obs, history)
    await log.open()
    async with ScriptedPeer() as peer:
        ctl = await connected(peer, log, demo)
        await peer.send(F.response_created("resp_1"), F.response_done("resp_1"))
        await wait_until(lambda: obs.usage.snapshot().session.responses == 1)
        assert obs.spend.status.day_usd == 0 and not ctl.spending.active  # priced, but nothing spent
        await ctl.close()

        paid = dataclasses.replace(Settings(), profiles=(*Settings().profiles, PAID), active_profile="Paid")
        ctl = await connected(peer, log, paid)
        await peer.send(F.response_created("resp_2"), F.response_done("resp_2"))
        await wait_until(lambda: obs.spend.stopped)
        assert obs.spend.status.reason == "day"
        await ctl.close()
        ctl = await connected(peer, log, paid)  # a new conversation the same day: still stopped
        assert ctl.spending.active and ctl.view.mic is Mic.MUTED
        await ctl.close()
    await log.close()
    reopened = History(tmp_path / "history.sqlite3")  # the day's spending survives a restart
    fresh = Observatory(model="gpt-realtime", limits=SpendLimits(session_usd=None, day_usd=0.01), ledger=reopened)
    await ConversationLog(fresh, reopened).open()
    assert fresh.spend.stopped and fresh.spend.status.day_usd == pytest.approx(obs.spend.status.day_usd)
    await reopened.close()
