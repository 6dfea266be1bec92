"""The MCP items of a response, in the shapes of the SDK's ``openai.types.realtime`` unions.

* An approval request (``mcp_approval_request``: id, server_label, name, arguments) is a complete
  output item: ``response.output_item.added`` → ``conversation.item.added`` → ``response.output_item.done``
  → ``conversation.item.done``; the response then ends and the client answers with an
  ``mcp_approval_response`` item before asking for the next one.
* A call (``mcp_call``) streams like a function call, then runs on the server:
  ``output_item.added`` (arguments "") → ``conversation.item.added`` → ``response.mcp_call_arguments.delta``
  … ``.done`` → ``response.mcp_call.in_progress`` → (the MCP server answers) →
  ``response.mcp_call.completed`` or ``.failed`` → ``output_item.done`` → ``conversation.item.done``, the
  item holding ``output`` or ``error``.

The functions take the response whose output they add to (a :class:`~.responses.ResponseRun`, seen
through :class:`Output`: its context, id, output items, usage and open calls).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from desktop_app.local_server.conversation import Conversation, Ids, StoredItem
from desktop_app.local_server.mcp_hub import McpHub
from desktop_app.local_server.outbox import Emit
from desktop_app.local_server.plans import AskMcp, UseMcp
from desktop_app.local_server.usage import Usage, text_tokens


class Context(Protocol):
    """What of a response's context the MCP items use."""

    @property
    def emit(self) -> Emit: ...
    @property
    def conversation(self) -> Conversation: ...
    @property
    def ids(self) -> Ids: ...
    @property
    def mcp(self) -> McpHub | None: ...


class Output(Protocol):
    """The response being generated, as the MCP items see it."""

    @property
    def ctx(self) -> Context: ...
    @property
    def id(self) -> str: ...
    @property
    def in_conversation(self) -> bool: ...
    @property
    def output(self) -> list[dict[str, Any]]: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def open_calls(self) -> list[Callable[[], None]]: ...


def _added(run: Output, public: dict[str, Any]) -> tuple[StoredItem, int]:
    item = StoredItem(public=public)
    index = len(run.output)
    run.output.append(public)
    run.ctx.emit({"type": "response.output_item.added", "response_id": run.id, "output_index": index,
                  "item": dict(public)})
    if run.in_conversation:
        previous = run.ctx.conversation.insert(item)
        run.ctx.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": dict(public)})
    return item, index


def _done(run: Output, item: StoredItem, index: int) -> None:
    run.ctx.emit({"type": "response.output_item.done", "response_id": run.id, "output_index": index,
                  "item": dict(item.public)})
    if run.in_conversation and item.id in run.ctx.conversation:
        previous = run.ctx.conversation.previous_of(item.id)
        run.ctx.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": dict(item.public)})


def approval_request(run: Output, plan: AskMcp) -> None:
    """Ask the client to approve ``plan``'s call (an ``mcp_approval_request`` item)."""
    public = {"type": "mcp_approval_request", "id": run.ctx.ids.make("mcpr_"), "server_label": plan.server_label,
              "name": plan.name, "arguments": plan.arguments}
    item, index = _added(run, public)
    run.usage.output_text += text_tokens(plan.arguments) + 1
    _done(run, item, index)


async def mcp_call(run: Output, plan: UseMcp) -> tuple[str | None, str | None]:
    """Run ``plan`` on its MCP server with the ``mcp_call`` events; ``(output, error message)``."""
    public: dict[str, Any] = {"type": "mcp_call", "id": run.ctx.ids.make("mcp_"), "server_label": plan.server_label,
                              "name": plan.name, "arguments": ""}
    if plan.approval_request_id:
        public["approval_request_id"] = plan.approval_request_id
    item, index = _added(run, public)
    where = {"response_id": run.id, "item_id": item.id, "output_index": index}
    half = len(plan.arguments) // 2
    for piece in (plan.arguments[:half], plan.arguments[half:]):
        if piece:
            run.ctx.emit({"type": "response.mcp_call_arguments.delta", **where, "delta": piece})
    run.ctx.emit({"type": "response.mcp_call_arguments.done", **where, "arguments": plan.arguments})
    public["arguments"] = plan.arguments
    run.usage.output_text += text_tokens(plan.arguments) + 1
    run.ctx.emit({"type": "response.mcp_call.in_progress", "item_id": item.id, "output_index": index})
    hub = run.ctx.mcp

    def cut_off() -> None:  # the response is cancelled while the server waits for the MCP server
        public["error"] = {"type": "tool_execution_error", "message": "The response was cancelled."}
        run.ctx.emit({"type": "response.mcp_call.failed", "item_id": item.id, "output_index": index})
        _done(run, item, index)

    run.open_calls.append(cut_off)
    output: str | None = None
    error: dict[str, Any] | None = {"type": "protocol_error", "code": -32601, "message": "MCP is not available"}
    if hub is not None:
        try:
            arguments = json.loads(plan.arguments or "{}")
        except ValueError:
            arguments = {}
        output, error = await hub.call(plan.server_label, plan.name, arguments if isinstance(arguments, dict) else {})
    run.open_calls.remove(cut_off)
    if error is None:
        public["output"] = output
        run.ctx.emit({"type": "response.mcp_call.completed", "item_id": item.id, "output_index": index})
    else:
        public["error"] = error
        run.ctx.emit({"type": "response.mcp_call.failed", "item_id": item.id, "output_index": index})
    _done(run, item, index)
    return output, None if error is None else str(error.get("message", "failed"))
