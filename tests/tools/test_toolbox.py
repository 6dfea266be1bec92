"""ToolBox.run_calls: one answer per call, in order, concurrent, cancellable, with permissions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from desktop_app.settings.tools import ToolPrefs
from desktop_app.tools import Decision, Permission, Status, ToolBox, ToolCall, ToolRegistry, ToolSpec
from desktop_app.tools.spec import CallContext, ToolError
from desktop_app.tools.toolbox import ToolActivity, calls_from_response
from tests.tools.conftest import HangingApprover, ScriptedApprover, echo_tool


def gated_tool(name: str, gate: asyncio.Event, started: list[str], **kw: Any) -> ToolSpec:
    async def run(args: Mapping[str, Any], ctx: CallContext) -> str:
        started.append(ctx.call_id)
        await gate.wait()
        return f"{name} done"

    return ToolSpec(name=name, description="waits for a gate", parameters={"type": "object"}, run=run, **kw)


def call(call_id: str, name: str = "echo", **arguments: Any) -> ToolCall:
    return ToolCall(call_id, name, json.dumps(arguments))


async def test_results_come_back_one_per_call_in_call_order_while_calls_run_concurrently():
    gate, started = asyncio.Event(), []
    box = ToolBox(ToolRegistry([gated_tool("slow", gate, started), echo_tool()]))
    task = asyncio.ensure_future(box.run_calls([call("c1", "slow"), call("c2", "echo", text="hi"),
                                                call("c3", "slow")], None))
    while len(started) < 2:  # both slow calls are running at once, before either finished
        await asyncio.sleep(0)
    assert started == ["c1", "c3"] and not task.done()
    gate.set()
    results = await task
    assert [r.call_id for r in results] == ["c1", "c2", "c3"]
    assert [r.status for r in results] == [Status.OK] * 3
    assert json.loads(results[0].output) == {"result": "slow done"}
    assert json.loads(results[1].output) == {"echo": "hi", "call": "c2"}


async def test_a_call_id_given_twice_is_answered_once():
    box = ToolBox(ToolRegistry([echo_tool()]))
    results = await box.run_calls([call("c1", text="a"), call("c1", text="b")], None)
    assert [(r.call_id, json.loads(r.output)["echo"]) for r in results] == [("c1", "a")]


async def test_calls_are_taken_from_the_function_call_items_of_response_done():
    response = {"status": "completed", "output": [
        {"type": "message", "role": "assistant", "content": []},
        {"type": "function_call", "id": "item_1", "call_id": "call_a", "name": "echo", "arguments": '{"text":"x"}'},
        {"type": "function_call", "id": "item_2", "call_id": "call_b", "name": "echo", "arguments": '{"text":"y"}'},
    ]}
    assert calls_from_response(response) == [ToolCall("call_a", "echo", '{"text":"x"}', "item_1"),
                                             ToolCall("call_b", "echo", '{"text":"y"}', "item_2")]


async def test_unknown_invalid_and_failing_calls_get_structured_errors_and_never_run():
    ran: list[str] = []

    async def fails(args: Mapping[str, Any], ctx: CallContext) -> str:
        ran.append("fails")
        raise ToolError("No such city.")

    async def crashes(args: Mapping[str, Any], ctx: CallContext) -> str:
        raise ZeroDivisionError("boom")

    box = ToolBox(ToolRegistry([echo_tool(), ToolSpec(name="fails", description="d", parameters={"type": "object"}, run=fails),
                                ToolSpec(name="crashes", description="d", parameters={"type": "object"}, run=crashes)]))
    results = await box.run_calls([call("u", "nope"), call("i", "echo", text=5), ToolCall("j", "echo", "{oops"),
                                   call("f", "fails"), call("x", "crashes")], None)
    kinds = [json.loads(r.output)["error"]["type"] for r in results]
    assert kinds == ["unknown_tool", "invalid_arguments", "invalid_arguments", "failed", "internal_error"]
    assert "Available tools: echo, fails, crashes" in json.loads(results[0].output)["error"]["message"]
    assert json.loads(results[1].output)["error"]["details"] == [{"path": "text", "problem": "expected string, got number"}]
    assert json.loads(results[4].output)["error"]["message"] == "crashes failed unexpectedly (ZeroDivisionError)."
    assert ran == ["fails"]


async def test_ask_shows_the_exact_arguments_and_allow_once_runs_only_that_call():
    approver = ScriptedApprover(Decision.ALLOW_ONCE)
    registry = ToolRegistry([echo_tool(side_effecting=True)])
    box = ToolBox(registry)
    [result] = await box.run_calls([ToolCall("c1", "echo", '{"text": "pay \\u202e 100"}')], approver)
    assert result.status is Status.OK and result.decision == "asked: once"
    [request] = approver.requests
    assert request.tool == "echo" and request.side_effecting and request.arguments == {"text": "pay \u202e 100"}
    assert request.arguments_text == '{\n  "text": "pay \\u202e 100"\n}'  # the bidi override is shown, not applied
    assert registry.permission("echo") is Permission.ASK


async def test_always_is_remembered_and_reported_for_storing_and_later_calls_in_the_batch_are_not_asked():
    stored: list[ToolPrefs] = []
    approver = ScriptedApprover(Decision.ALWAYS)
    registry = ToolRegistry([echo_tool(side_effecting=True)])
    box = ToolBox(registry, on_prefs_changed=stored.append)
    results = await box.run_calls([call("c1", text="a"), call("c2", text="b")], approver)
    assert [r.status for r in results] == [Status.OK, Status.OK]
    assert len(approver.requests) == 1 and results[1].decision == "allowed (always)"
    assert registry.permission("echo") is Permission.ALLOW
    assert stored[-1].permissions == {"echo": "allow"}


async def test_deny_a_timeout_no_approver_and_a_broken_approver_all_deny():
    class Broken:
        async def __call__(self, request):
            raise RuntimeError("dialog failed")

    for approver, how in ((ScriptedApprover(Decision.DENY), "denied (asked)"), (None, "denied (no prompt)"),
                          (HangingApprover(), "denied (timed out)"), (Broken(), "denied (prompt failed)")):
        box = ToolBox(ToolRegistry([echo_tool(side_effecting=True)]), approval_timeout_s=0.05)
        [result] = await box.run_calls([call("c1", text="a")], approver)
        assert result.status is Status.DENIED and result.decision == how, (approver, result)
        assert "did not allow" in json.loads(result.output)["error"]["message"]


async def test_a_denied_or_switched_off_tool_is_not_offered_and_not_run():
    registry = ToolRegistry([echo_tool(), echo_tool("other")], prefs=ToolPrefs(permissions={"echo": "deny"},
                                                                                disabled=frozenset({"other"})))
    assert registry.function_tools() == []
    box = ToolBox(registry)
    results = await box.run_calls([call("c1", text="a"), call("c2", "other", text="b")], ScriptedApprover(Decision.ALWAYS))
    assert [r.status for r in results] == [Status.DENIED, Status.UNKNOWN]
    assert "switched other off" in json.loads(results[1].output)["error"]["message"]


async def test_cancel_answers_every_running_call_cancelled_and_the_rest_still_answer():
    gate, started, activity = asyncio.Event(), [], []
    hanging = HangingApprover()
    box = ToolBox(ToolRegistry([gated_tool("slow", gate, started), echo_tool("ask_me", side_effecting=True)]),
                  on_activity=activity.append)
    task = asyncio.ensure_future(box.run_calls([call("c1", "slow"), call("c2", "ask_me", text="x")], hanging))
    await hanging.asked.wait()
    while not started:
        await asyncio.sleep(0)
    assert {(a.call_id, a.phase) for a in box.activity} == {("c1", "running"), ("c2", "approval")}
    assert box.cancel() == 2
    results = await task
    assert [r.status for r in results] == [Status.CANCELLED, Status.CANCELLED]
    assert "interrupted" in json.loads(results[0].output)["error"]["message"]
    assert hanging.cancelled  # the prompt was withdrawn
    assert box.activity == () and [a.phase for a in activity if a.call_id == "c1"] == ["running", "finished"]


async def test_cancel_one_call_by_id():
    gate, started = asyncio.Event(), []
    box = ToolBox(ToolRegistry([gated_tool("slow", gate, started)]))
    task = asyncio.ensure_future(box.run_calls([call("c1", "slow"), call("c2", "slow")], None))
    while len(started) < 2:
        await asyncio.sleep(0)
    assert box.cancel("c1", reason="The user pressed cancel.") == 1
    gate.set()
    results = await task
    assert [r.status for r in results] == [Status.CANCELLED, Status.OK]
    assert json.loads(results[0].output)["error"]["message"] == "The user pressed cancel."


async def test_cancelling_the_awaiting_task_cancels_and_awaits_every_call():
    gate, started, finished = asyncio.Event(), [], []

    async def run(args: Mapping[str, Any], ctx: CallContext) -> str:
        started.append(ctx.call_id)
        try:
            await gate.wait()
        finally:
            finished.append(ctx.call_id)
        return "x"

    box = ToolBox(ToolRegistry([ToolSpec(name="slow", description="d", parameters={"type": "object"}, run=run)]))
    task = asyncio.ensure_future(box.run_calls([call("c1", "slow"), call("c2", "slow")], None))
    while len(started) < 2:
        await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert task.cancelled() and sorted(finished) == ["c1", "c2"] and box.activity == ()


async def test_a_tool_over_its_timeout_is_stopped_and_answered():
    gate, started = asyncio.Event(), []
    box = ToolBox(ToolRegistry([gated_tool("slow", gate, started, timeout_s=0.05)]))
    [result] = await box.run_calls([call("c1", "slow")], None)
    assert result.status is Status.TIMEOUT
    assert json.loads(result.output)["error"]["message"] == "slow did not finish within 0.05 s and was stopped."


async def test_output_over_the_cap_is_truncated_with_a_note_and_stays_valid_json():
    async def big(args: Mapping[str, Any], ctx: CallContext) -> str:
        return "é" * 10_000_000

    box = ToolBox(ToolRegistry([ToolSpec(name="big", description="d", parameters={"type": "object"}, run=big,
                                         max_output_chars=2_000)]))
    [result] = await box.run_calls([call("c1", "big")], None)
    assert result.status is Status.OK and result.truncated and len(result.output) <= 2_000
    body = json.loads(result.output)
    assert body["truncated_output"].startswith('{"result": "ééé') and "cut to the first" in body["note"]


async def test_rate_limits_per_tool_and_overall_answer_the_model_clearly(clock):
    registry = ToolRegistry([echo_tool(rate_per_minute=2), echo_tool("other")])
    box = ToolBox(registry, overall_per_minute=3, clock=clock)
    results = await box.run_calls([call(f"c{i}", text="x") for i in range(3)], None)
    assert [r.status for r in results] == [Status.OK, Status.OK, Status.RATE_LIMITED]
    assert "echo was called 2 times in the last minute" in json.loads(results[2].output)["error"]["message"]
    results = await box.run_calls([call("d1", "other", text="x"), call("d2", "other", text="x")], None)
    assert [r.status for r in results] == [Status.OK, Status.RATE_LIMITED]
    assert "the limit for all tools" in json.loads(results[1].output)["error"]["message"]
    clock.now += 60
    [result] = await box.run_calls([call("e1", text="x")], None)
    assert result.status is Status.OK


async def test_activity_reports_approval_running_and_finished_with_the_start_time(clock):
    seen: list[ToolActivity] = []
    box = ToolBox(ToolRegistry([echo_tool(side_effecting=True)]), on_activity=seen.append, clock=clock)
    await box.run_calls([call("c1", text="x")], ScriptedApprover(Decision.ALLOW_ONCE))
    assert [(a.phase, a.started_at) for a in seen] == [("approval", 1000.0), ("running", 1000.0), ("finished", 1000.0)]
    assert seen[-1].result is not None and seen[-1].result.ok


async def test_every_call_decision_and_result_is_logged_with_secrets_redacted(caplog):
    import logging

    from desktop_app.log import RedactingFilter, register_secret
    from desktop_app.tools.approval import fixed_approver

    register_secret("hunter2-very-secret")
    caplog.set_level(logging.INFO, logger="parley.tools")
    caplog.handler.addFilter(RedactingFilter())
    box = ToolBox(ToolRegistry([echo_tool(side_effecting=True)]))
    await box.run_calls([call("c1", text="my password is hunter2-very-secret")], fixed_approver(Decision.ALLOW_ONCE))
    text = caplog.text
    assert "< tools: call c1 echo(" in text
    assert "= tools: asking to run echo with" in text and "= tools: allow_once for echo by the fixed policy" in text
    assert "= tools: result c1 echo: ok in" in text and "(asked: once)" in text
    assert "hunter2-very-secret" not in text and "[REDACTED]" in text


async def test_a_call_waiting_for_its_prompt_is_refused_if_the_tool_was_denied_meanwhile():
    registry = ToolRegistry([echo_tool(side_effecting=True)])

    async def approver(request):
        registry.with_permission("echo", Permission.DENY)  # the user flips it in the Tools tab meanwhile
        return Decision.ALLOW_ONCE

    results = await ToolBox(registry).run_calls([call("c1", text="a"), call("c2", text="b")], approver)
    assert [(r.status, r.decision) for r in results] == [(Status.OK, "asked: once"), (Status.DENIED, "denied (by setting)")]
