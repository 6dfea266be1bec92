"""The tool slot: where the assistant's function calls are run and answered.

A completed response that holds ``function_call`` items hands them here. The slot runs them through
the :data:`ToolRunner` it was given (the tools package fills it; without one every call is answered
with an error the model can explain), answers each ``call_id`` exactly once, in call order, and then
asks for the follow-up answer. A run is one task started through :func:`desktop_app.tasks.spawn`; a
barge-in cancels it (:meth:`ToolSlot.cancel`) and every call still unanswered gets a cancelled result.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from desktop_app.log import get_logger
from desktop_app.realtime.dialect import Dialect
from desktop_app.tasks import CrashHandler, spawn

log = get_logger("controller")

TOOL_TIMEOUT_S = 30.0

ToolRunner = Callable[[str, str], Awaitable[str]]
"""``await run(name, arguments_json) -> output`` for one function call."""


class ToolSlot:
    """Runs one batch of calls at a time; ``busy`` while it does."""

    def __init__(self, runner: ToolRunner | None, core: Callable[[], Dialect | None],
                 flush: Callable[[], None], on_crash: CrashHandler) -> None:
        self.runner = runner
        self._core = core
        self._flush = flush
        self._on_crash = on_crash
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, calls: Sequence[dict[str, Any]], on_answered: Callable[[], None]) -> None:
        """Run ``calls`` (the ``function_call`` items of one response); ``on_answered`` runs after
        the outputs and the follow-up ``response.create`` were sent."""
        self._task = spawn(self._run(list(calls), on_answered), name="tools", on_crash=self._on_crash)

    def cancel(self) -> None:
        if self.busy and self._task is not None:
            self._task.cancel()

    async def _run(self, calls: list[dict[str, Any]], on_answered: Callable[[], None]) -> None:
        answered: set[str] = set()
        try:
            for call in calls:
                call_id, output = str(call.get("call_id")), await self._call(call)
                core = self._core()
                if core is None or core.closed:
                    return
                core.send_function_output(call_id, output, respond=False)
                answered.add(call_id)
        except asyncio.CancelledError:
            core = self._core()
            if core is not None and not core.closed:  # exactly one output per call, even when cut off
                for call in calls:
                    if str(call.get("call_id")) not in answered:
                        core.send_function_output(str(call.get("call_id")),
                                                  json.dumps({"error": "cancelled by the user"}), respond=False)
                self._flush()
            raise
        core = self._core()
        if core is not None and not core.closed:
            core.create_response()
        on_answered()

    async def _call(self, call: dict[str, Any]) -> str:
        name, arguments = str(call.get("name")), str(call.get("arguments") or "{}")
        try:
            if self.runner is None:
                raise LookupError(f"no tool named {name!r} is available")
            return await asyncio.wait_for(self.runner(name, arguments), TOOL_TIMEOUT_S)
        except asyncio.TimeoutError:
            return json.dumps({"error": f"{name} took longer than {TOOL_TIMEOUT_S:.0f} s"})
        except Exception as exc:  # noqa: BLE001 — a tool's failure is the model's to explain, not a crash
            log.warning("! tool %s failed: %r", name, exc)
            return json.dumps({"error": str(exc)})
