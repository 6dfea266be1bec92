"""The tool slot: where the model's function calls and the server's MCP approval requests are answered.

A completed ``response.done`` that holds ``function_call`` or ``mcp_approval_request`` items hands them
here (:meth:`ToolSlot.take`). One task per batch, started through :func:`desktop_app.tasks.spawn`, runs
the calls concurrently through the :class:`~desktop_app.tools.ToolBox` (validation, permission — the
box's :data:`~desktop_app.tools.Approver` asks —, timeouts, output caps, rate limits) and settles
the approval requests by the user's policy or by asking. Then, in call order, it sends exactly one
``function_call_output`` per ``call_id`` and one ``mcp_approval_response`` per request, and asks for the
follow-up answer. The core holds that ``response.create`` until a response in progress is done, so it
never meets ``conversation_already_has_active_response``.

A barge-in (:meth:`cancel`) stops the running calls: each is answered ``cancelled``, an MCP request is
denied, and no follow-up is asked for (the user's new turn will be answered). Closing (:meth:`stop`)
ends the task; whatever can still be sent is a cancelled result. Without a ToolBox every call is
answered with an error the model can explain.

A batch belongs to the session whose response made the calls. If that session ends before the results
are ready (a dropped connection), they wait for the next session, which does not know the calls: each
call goes in again (hidden, like a replay) ahead of its output, then the follow-up is asked for, so the
answer is not lost and nothing is run twice. A cancelled batch (a barge-in, a cleared conversation)
sends nothing into another session.

What runs shows in the view (``ViewState.tools``: label, phase, start time, for "running a tool · 3 s")
and in the transcript (:meth:`annotate` marks a call waiting for the user). MCP tool listings
(``mcp_list_tools`` items and events) are kept on the ToolBox for the Tools tab; a failed one is told.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from desktop_app.controller.transcript import output_status
from desktop_app.controller.view import ViewModel
from desktop_app.controller.view_state import ToolRun, TranscriptEntry
from desktop_app.log import get_logger
from desktop_app.realtime.dialect import Dialect
from desktop_app.tasks import CrashHandler, spawn
from desktop_app.tools import Status, ToolActivity, ToolBox, ToolCall, ToolResult, call_from_item
from desktop_app.tools.mcp import approval_response_item
from desktop_app.tools.spec import error_output

log = get_logger("controller")

INTERRUPTED = "The user interrupted, so the tool was stopped."


@dataclass(slots=True)
class _Batch:
    """The calls and requests of one response."""

    calls: list[ToolCall]
    requests: list[dict[str, Any]]
    cancelled: bool
    core: Dialect | None  # the session the calls were made in


class ToolSlot:
    """Answers one batch at a time (a later one waits); ``busy`` while any runs."""

    def __init__(self, box: ToolBox | None, core: Callable[[], Dialect | None],
                 flush: Callable[[], None], view: ViewModel, on_crash: CrashHandler,
                 on_change: Callable[[], None], *, session_open: asyncio.Event,
                 carry: Callable[[Dialect, list[dict[str, Any]]], None]) -> None:
        self.box = box
        self._session_open = session_open  # set while a session is open (Reconnector.connected)
        self._carry = carry  # items of an ended session into the open one, hidden (Reconnector.carry)
        self._core = core
        self._flush = flush
        self._view = view
        self._on_crash = on_crash
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self._batches: list[_Batch] = []
        self._taken: set[str] = set()  # call ids and request ids already answered or being answered
        self._items: dict[str, str] = {}  # call id → its item id (the transcript entry)
        self._waiting: set[str] = set()  # item ids of calls waiting for the user's permission
        self._carried: dict[str, str] = {}  # item id → output of a call answered in a later session
        if box is not None:
            box.subscribe(self._activity)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    # --- a batch ------------------------------------------------------------------------------
    def take(self, response: Mapping[str, Any], on_answered: Callable[[], None], *, cancelled: bool = False) -> bool:
        """Start answering the calls and approval requests of a completed response; False when it
        holds none not already taken. ``on_answered`` runs once the answers and the follow-up
        ``response.create`` are sent (not after a barge-in). ``cancelled``: the user interrupted
        this answer before its ``response.done`` arrived, so nothing runs — each call is answered
        ``cancelled`` and each request denied, with no follow-up, as after a barge-in."""
        calls: list[ToolCall] = []
        requests: list[dict[str, Any]] = []
        for item in response.get("output") or ():
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == "function_call":
                call = call_from_item(item)
                if call.call_id and call.call_id not in self._taken:
                    calls.append(call)
                    self._taken.add(call.call_id)
                    self._items[call.call_id] = call.item_id
            elif item.get("type") == "mcp_approval_request" and isinstance(item.get("id"), str):
                if item["id"] not in self._taken:
                    requests.append(dict(item))
                    self._taken.add(item["id"])
        if not calls and not requests:
            return False
        batch = _Batch(calls, requests, cancelled, self._core())
        previous = self._task if self.busy else None
        self._batches.append(batch)
        log.info("= tools: %d call(s), %d MCP approval request(s) to answer", len(calls), len(requests))
        self._task = spawn(self._run(batch, previous, on_answered), name="tools", on_crash=self._on_crash)
        return True

    def cancel(self, reason: str = INTERRUPTED) -> None:
        """Barge-in: running calls are answered ``cancelled``, requests denied, no follow-up."""
        if not self._batches:
            return
        for batch in self._batches:
            batch.cancelled = True
        if self.box is not None:
            self.box.cancel(reason=reason)

    def barge_in(self) -> None:
        """The user talked over the assistant: a Realtime answer's calls are cancelled with it; GPT-Live's
        delegated work goes on (its backend is not cancelled by speech, live-protocol.md §4.4b)."""
        core = self._core()
        if core is None or core.traits.responses:
            self.cancel()

    def stop(self) -> None:
        """The conversation is closing: end the task now."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _run(self, batch: _Batch, previous: asyncio.Task[None] | None,
                   on_answered: Callable[[], None]) -> None:
        try:
            if previous is not None:
                await asyncio.wait({previous})
            results, responses = await asyncio.gather(self._call_all(batch), self._decide_all(batch))
            if _ended(batch.core) and not batch.cancelled:
                await self._session_open.wait()  # the session that asked is gone: answer in the next one
        except asyncio.CancelledError:
            self._answer_cancelled(batch)  # exactly one output per call, even when cut off
            raise
        finally:
            self._batches.remove(batch)
        core = self._core()
        if core is None or core.closed:
            return
        if core is not batch.core:
            if batch.cancelled:  # the user moved on (or cleared the conversation): nothing to tell
                log.info("= tools: %d result(s) of an ended session dropped", len(results))
                return
            log.info("= tools: %d result(s) outlived their session: the calls go into the new one", len(results))
            self._carry(core, [_call_item(call) for call in batch.calls])
            self._carried.update({self._items.get(r.call_id, r.call_id): r.output for r in results})
            responses = []  # an MCP approval request lives in the session that made it
        for result in results:
            core.send_function_output(result.call_id, result.output, respond=False)
        for item in responses:
            core.create_item(item)
        if batch.cancelled and core.traits.responses:  # the user talked over it: their turn gets the answer
            self._flush()
            return  # (a delegated GPT-Live response is continued even so: its backend waits for it)
        core.create_response()
        on_answered()

    async def _call_all(self, batch: _Batch) -> list[ToolResult]:
        if not batch.calls:
            return []
        if batch.cancelled or self.box is None:
            return [self._refused(call, batch.cancelled) for call in batch.calls]
        return await self.box.run_calls(batch.calls, self.box.approver)

    async def _decide_all(self, batch: _Batch) -> list[dict[str, Any]]:
        out = []
        for request in batch.requests:  # the prompts come one at a time anyway
            if batch.cancelled or self.box is None:
                reason = INTERRUPTED if batch.cancelled else "Parley has no tools in this mode."
                out.append(approval_response_item(request["id"], False, reason))
            else:
                out.append((await self.box.decide_mcp(request, self.box.approver)).response_item)
        return out

    @staticmethod
    def _refused(call: ToolCall, cancelled: bool) -> ToolResult:
        if cancelled:
            return ToolResult(call.call_id, call.name, error_output("cancelled", INTERRUPTED), Status.CANCELLED)
        message = f"There is no tool named {call.name!r} available: Parley offers no tools in this mode."
        return ToolResult(call.call_id, call.name, error_output("unknown_tool", message), Status.UNKNOWN)

    def _answer_cancelled(self, batch: _Batch) -> None:
        core = batch.core
        if core is None or core.closed:
            return
        for call in batch.calls:
            core.send_function_output(call.call_id, error_output("cancelled", "The conversation ended."),
                                      respond=False)
        for request in batch.requests:
            core.create_item(approval_response_item(request["id"], False, "The conversation ended."))
        self._flush()

    # --- what the user sees -------------------------------------------------------------------
    def _activity(self, activity: ToolActivity) -> None:
        item = self._items.get(activity.call_id, activity.call_id)  # an MCP request is its own item
        (self._waiting.add if activity.phase == "approval" else self._waiting.discard)(item)
        box = self.box
        runs = tuple(ToolRun(a.call_id, a.label, a.phase, a.started_at) for a in box.activity) if box else ()
        self._view.set(tools=runs)
        self._on_change()

    def annotate(self, entries: Sequence[TranscriptEntry]) -> tuple[TranscriptEntry, ...]:
        """The transcript with the calls waiting for the user's permission marked as such, and the
        calls answered in a later session (their output is not beside them) with their result."""
        if not self._waiting and not self._carried:
            return tuple(entries)
        return tuple(self._annotated(e) if e.role == "tool" and e.tool_status in ("running", None) else e
                     for e in entries)

    def _annotated(self, entry: TranscriptEntry) -> TranscriptEntry:
        if entry.item_id in self._waiting:
            return replace(entry, tool_status="approval")
        output = self._carried.get(entry.item_id)
        if output is None:
            return entry
        status, shown = output_status(output)
        return replace(entry, final=True, tool_status=status, heard=shown)

    # --- MCP listings -------------------------------------------------------------------------
    def item_seen(self, item: Mapping[str, Any]) -> None:
        """A conversation item arrived or finished: keep ``mcp_list_tools`` listings."""
        if self.box is not None and item.get("type") == "mcp_list_tools":
            self.box.mcp.on_item(item)

    def listing_event(self, kind: str, item_id: str) -> None:
        """``mcp_list_tools.in_progress/completed/failed``; a failure is told in the banner."""
        label = self.box.mcp.on_event({"type": kind, "item_id": item_id}) if self.box is not None else None
        if kind == "mcp_list_tools.failed":
            server = f"“{label}”" if label else "an MCP server"
            self._view.notify(f"The MCP server {server} could not list its tools, so they are not available.",
                              "warning", cause="tools")


def _ended(core: Dialect | None) -> bool:
    return core is None or core.closed


def _call_item(call: ToolCall) -> dict[str, Any]:
    """The ``function_call`` item of ``call``, for a session that never saw it."""
    return {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments}
