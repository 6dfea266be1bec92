"""Shared pieces for the tools tests: a scripted approver, a fake clock, a tiny tool factory."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from desktop_app.tools.approval import ApprovalRequest, Decision
from desktop_app.tools.spec import CallContext, ToolSpec


class ScriptedApprover:
    """Answers prompts from a list (or one answer for all) and records every request it saw."""

    def __init__(self, *answers: Decision) -> None:
        self.answers = list(answers)
        self.requests: list[ApprovalRequest] = []

    async def __call__(self, request: ApprovalRequest) -> Decision:
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class HangingApprover:
    """Never answers (until cancelled); ``asked`` is set when a prompt is open."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.cancelled = False

    async def __call__(self, request: ApprovalRequest) -> Decision:
        self.asked.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        raise AssertionError("unreachable")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def echo_tool(name: str = "echo", *, side_effecting: bool = False, **kw: Any) -> ToolSpec:
    async def run(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {"echo": args.get("text", ""), "call": ctx.call_id}

    params = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    return ToolSpec(name=name, description=f"{name} returns its text", parameters=params, run=run,
                    side_effecting=side_effecting, **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
