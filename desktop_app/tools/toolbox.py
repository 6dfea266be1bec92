"""Running the model's function calls: the one entry point the controller uses.

The controller collects the calls of a finished response (:func:`calls_from_response`), awaits
:meth:`ToolBox.run_calls`, and sends back exactly one ``function_call_output`` per returned
:class:`ToolResult`, in order. Everything between is here:

1. unknown, switched-off or denied tools are answered at once (``unknown_tool`` / ``denied``);
2. rate limits per tool and overall (``rate_limited``);
3. arguments parsed and validated against the strict schema (``invalid_arguments``; never run);
4. permission: ``allow`` runs, ``deny`` refuses, ``ask`` awaits the :data:`Approver` (one prompt at a
   time, in call order; a timeout or a broken prompt denies; "Always" is remembered);
5. the tool runs under its timeout; its output is capped with a note to the model.

The server's MCP approval requests go through :meth:`ToolBox.decide_mcp`: the same prompt queue (one
prompt at a time, function calls and MCP requests alike), the same activity reports, and the same
:meth:`ToolBox.cancel` (a cancelled request is denied). :attr:`ToolBox.mcp` keeps what each MCP server
listed.

The calls of one response run concurrently; results come back in call order. :meth:`ToolBox.cancel`
(barge-in, or the UI's cancel button) ends running calls with a ``cancelled`` result, and
``run_calls`` still returns one result per call. If the task awaiting ``run_calls`` is itself
cancelled, every call is cancelled and awaited before the cancellation propagates, so nothing keeps
running unseen. Every call, decision and result is logged, with secrets redacted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.log import get_logger, redact
from desktop_app.settings.tools import ToolPrefs
from desktop_app.tools.approval import DEFAULT_APPROVAL_TIMEOUT_S, ApprovalRequest, Approver, Decision, ask, display_arguments
from desktop_app.tools.mcp import McpDecision, McpListings, approval_response_item, decide_approval
from desktop_app.tools.ratelimit import RateLimiter
from desktop_app.tools.registry import ToolRegistry
from desktop_app.tools.spec import (
    CallContext, Permission, Status, ToolCall, ToolError, ToolResult, ToolSpec, cap_output, error_output, success_output,
)

log = get_logger("tools")


@dataclass(frozen=True, slots=True)
class ToolActivity:
    """One step of a call for a "tool running" indicator: ``phase`` is approval, running or finished."""

    call_id: str
    name: str
    label: str
    phase: str  # "approval" | "running" | "finished"
    started_at: float  # the ToolBox clock when the call arrived (elapsed = clock() - started_at)
    result: ToolResult | None = None


def calls_from_response(response: Mapping[str, Any]) -> list[ToolCall]:
    """The ``function_call`` items of a ``response.done`` event's ``response``, in output order."""
    calls = []
    for item in response.get("output") or ():
        if isinstance(item, Mapping) and item.get("type") == "function_call":
            calls.append(call_from_item(item))
    return calls


def call_from_item(item: Mapping[str, Any]) -> ToolCall:
    """A :class:`ToolCall` from a ``function_call`` item (or a ``function_call_arguments.done`` event)."""
    return ToolCall(call_id=str(item.get("call_id") or ""), name=str(item.get("name") or ""),
                    arguments=str(item.get("arguments") or ""), item_id=str(item.get("id") or item.get("item_id") or ""))


class ToolBox:
    """Runs calls against a :class:`ToolRegistry`. Use it from the event loop only."""

    def __init__(
        self,
        registry: ToolRegistry,
        *,
        approver: Approver | None = None,
        approval_timeout_s: float = DEFAULT_APPROVAL_TIMEOUT_S,
        overall_per_minute: int = 60,
        on_activity: Callable[[ToolActivity], None] | None = None,
        on_prefs_changed: Callable[[ToolPrefs], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.approver = approver  # who is asked when a call needs permission (the window's prompt, a policy)
        self.approval_timeout_s = approval_timeout_s
        self._on_activity = on_activity
        self._on_prefs_changed = on_prefs_changed
        self._clock = clock
        self._limits = RateLimiter(overall_per_minute, clock)
        self._approval_lock = asyncio.Lock()
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._cancel_reasons: dict[str, str] = {}
        self._activity: dict[str, ToolActivity] = {}
        self._listeners: list[Callable[[ToolActivity], None]] = []
        self.mcp = McpListings()

    # -- the controller's API --------------------------------------------------------------------

    async def run_calls(self, calls: Sequence[ToolCall], approver: Approver | None) -> list[ToolResult]:
        """One result per distinct ``call_id``, in call order; the calls run concurrently."""
        unique: dict[str, ToolCall] = {}
        for call in calls:
            if call.call_id in unique or call.call_id in self._running:
                log.warning("! tools: call %s given twice; it runs once", call.call_id)
                continue
            unique[call.call_id] = call
        tasks = [asyncio.ensure_future(self._run_one(call, approver)) for call in unique.values()]
        for call, task in zip(unique.values(), tasks, strict=True):
            self._running[call.call_id] = task
        try:
            return list(await asyncio.gather(*tasks))
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            for call_id in unique:
                self._running.pop(call_id, None)
                self._cancel_reasons.pop(call_id, None)

    def cancel(self, call_id: str | None = None, reason: str = "The user interrupted, so the tool was stopped.") -> int:
        """Cancel one running call (or all); each is answered ``cancelled``. Returns how many."""
        chosen = [call_id] if call_id is not None else list(self._running)
        count = 0
        for cid in chosen:
            task = self._running.get(cid)
            if task is not None and not task.done():
                self._cancel_reasons[cid] = reason
                task.cancel()
                count += 1
        if count:
            log.info("= tools: cancelling %d running call(s): %s", count, reason)
        return count

    @property
    def activity(self) -> tuple[ToolActivity, ...]:
        """Calls awaiting approval or running now."""
        return tuple(self._activity.values())

    def subscribe(self, listener: Callable[[ToolActivity], None]) -> Callable[[], None]:
        """Also tell ``listener`` every step of every call (the controller's view, beside the
        ``on_activity`` strip); returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def decide_mcp(self, item: Mapping[str, Any], approver: Approver | None) -> McpDecision:
        """Answer one ``mcp_approval_request`` item: by the user's settings, else by asking (in the
        prompt queue). :meth:`cancel` denies it; cancelling the caller cancels it too."""
        request_id = str(item.get("id") or "")
        label = f"{item.get('server_label', '')} · {item.get('name', '')}"
        started = self._clock()
        task = asyncio.ensure_future(self._decide_mcp(item, approver, label, started))
        self._running[request_id] = task
        try:
            return await task
        except asyncio.CancelledError:
            reason = self._cancel_reasons.get(request_id)
            if reason is None:  # the caller itself was cancelled: let it go
                raise
            log.info("= tools: MCP request %s withdrawn: %s", request_id, reason)
            return McpDecision(False, reason, approval_response_item(request_id, False, reason))
        finally:
            self._running.pop(request_id, None)
            self._cancel_reasons.pop(request_id, None)
            self._activity.pop(request_id, None)
            self._emit(ToolActivity(request_id, str(item.get("name", "")), label, "finished", started))

    async def _decide_mcp(self, item: Mapping[str, Any], approver: Approver | None, label: str,
                          started: float) -> McpDecision:
        request_id = str(item.get("id") or "")
        self._emit_phase(ToolCall(request_id, str(item.get("name", "")), ""), label, "approval", started)
        async with self._approval_lock:  # one prompt at a time, function calls and MCP requests alike
            return await decide_approval(item, self.registry.prefs.mcp_servers, approver,
                                         timeout_s=self.approval_timeout_s, on_trust=self._trust)

    def _trust(self, label: str, tool: str) -> None:
        prefs = self.registry.with_mcp_trust(label, tool)
        if self._on_prefs_changed is not None:
            self._on_prefs_changed(prefs)

    # -- one call --------------------------------------------------------------------------------

    async def _run_one(self, call: ToolCall, approver: Approver | None) -> ToolResult:
        started = self._clock()
        spec = self.registry.spec(call.name)
        label = spec.label if spec is not None else call.name
        log.info("< tools: call %s %s(%s)", call.call_id, call.name, redact(call.arguments[:500]))
        try:
            result = await self._settle(call, spec, approver, started, label)
        except asyncio.CancelledError:
            reason = self._cancel_reasons.get(call.call_id)
            result = self._result(call, Status.CANCELLED, error_output("cancelled", reason or "Cancelled."), started)
            if reason is None:  # the whole batch was cancelled from outside: clear the indicator, propagate
                self._finish(call, label, started, result)
                raise
        self._finish(call, label, started, result)
        level = "=" if result.ok else "!"
        log.info("%s tools: result %s %s: %s in %.2f s%s%s: %s", level, call.call_id, call.name, result.status.value,
                 result.elapsed_s, f" ({result.decision})" if result.decision else "",
                 " (truncated)" if result.truncated else "", redact(result.output[:300]))
        return result

    async def _settle(self, call: ToolCall, spec: ToolSpec | None, approver: Approver | None,
                      started: float, label: str) -> ToolResult:
        runnable = self.registry.runnable(call.name)
        if spec is None or runnable is None:
            why = self.registry.why_unavailable(call.name)
            denied = spec is not None and self.registry.permission(call.name) is Permission.DENY
            status = Status.DENIED if denied else Status.UNKNOWN
            names = ", ".join(s.name for s in self.registry.offered()) or "none"
            return self._result(call, status, error_output(status.value, f"The call was not run: {why}. "
                                                           f"Available tools: {names}."), started)
        spec, validator = runnable
        limited = self._limits.try_acquire(spec.name, spec.rate_per_minute)
        if limited is not None:
            return self._result(call, Status.RATE_LIMITED, error_output("rate_limited", limited), started)
        try:
            arguments = validator.parse(call.arguments)
        except ToolError as exc:
            return self._result(call, Status.INVALID, error_output(exc.kind, exc.message, exc.details), started)
        decision = "allowed"
        if self.registry.permission(spec.name) is Permission.ASK:
            allowed, decision = await self._approve(call, spec, arguments, approver, started, label)
            if not allowed:
                message = ("The user did not allow this call, so it was not run. Do not retry it unless the "
                           "user asks; tell them it was not done.")
                return self._result(call, Status.DENIED, error_output("denied", message), started, decision=decision)
        self._emit_phase(call, label, "running", started)
        return await self._execute(call, spec, arguments, started, decision)

    async def _approve(self, call: ToolCall, spec: ToolSpec, arguments: dict[str, Any], approver: Approver | None,
                       started: float, label: str) -> tuple[bool, str]:
        self._emit_phase(call, label, "approval", started)
        async with self._approval_lock:  # one prompt at a time, in call order
            settled = self.registry.permission(spec.name)  # it may have changed while this call waited its turn
            if settled is Permission.ALLOW:
                return True, "allowed (always)"  # "Always" was chosen for an earlier call of this batch
            if settled is Permission.DENY:
                return False, "denied (by setting)"
            request = ApprovalRequest(
                call_id=call.call_id, tool=spec.name, label=spec.label, description=spec.description,
                arguments=arguments, arguments_text=display_arguments(arguments),
                side_effecting=spec.side_effecting, timeout_s=self.approval_timeout_s,
            )
            answer, how = await ask(approver, request)
        if answer is Decision.ALWAYS:
            prefs = self.registry.with_permission(spec.name, Permission.ALLOW)
            if self._on_prefs_changed is not None:
                self._on_prefs_changed(prefs)
        if answer.allows:
            return True, "asked: always" if answer is Decision.ALWAYS else "asked: once"
        return False, f"denied ({how})"

    async def _execute(self, call: ToolCall, spec: ToolSpec, arguments: dict[str, Any], started: float,
                       decision: str) -> ToolResult:
        context = CallContext(call.call_id, spec.name, spec.timeout_s)
        try:
            value = await asyncio.wait_for(spec.run(arguments, context), spec.timeout_s)
        except asyncio.TimeoutError:
            message = f"{spec.name} did not finish within {spec.timeout_s:g} s and was stopped."
            return self._result(call, Status.TIMEOUT, error_output("timeout", message), started, decision=decision)
        except ToolError as exc:
            return self._result(call, Status.FAILED, error_output(exc.kind, exc.message, exc.details), started,
                                decision=decision, limit=spec.max_output_chars)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a tool's bug is logged in full; the model hears one sentence
            log.error("! tools: %s raised %r", spec.name, exc, exc_info=exc)
            message = f"{spec.name} failed unexpectedly ({type(exc).__name__})."
            return self._result(call, Status.INTERNAL, error_output("internal_error", message), started,
                                decision=decision)
        return self._result(call, Status.OK, success_output(value), started, decision=decision,
                            limit=spec.max_output_chars)

    def _result(self, call: ToolCall, status: Status, output: str, started: float, *, decision: str = "",
                limit: int | None = None) -> ToolResult:
        truncated = False
        if limit is not None:
            output, truncated = cap_output(output, limit)
        return ToolResult(call.call_id, call.name, output, status, self._clock() - started, truncated, decision)

    def _finish(self, call: ToolCall, label: str, started: float, result: ToolResult) -> None:
        self._activity.pop(call.call_id, None)
        self._emit(ToolActivity(call.call_id, call.name, label, "finished", started, result))

    def _emit_phase(self, call: ToolCall, label: str, phase: str, started: float) -> None:
        activity = ToolActivity(call.call_id, call.name, label, phase, started)
        self._activity[call.call_id] = activity
        self._emit(activity)

    def _emit(self, activity: ToolActivity) -> None:
        listeners = [*([self._on_activity] if self._on_activity is not None else []), *self._listeners]
        for listener in listeners:
            try:
                listener(activity)
            except Exception as exc:  # the indicator must not break the call
                log.error("! tools: activity callback failed: %r", exc, exc_info=exc)
