"""The MCP servers of one session, server side: listed when the session names them, called in answers.

When ``session.tools`` gains a ``type: "mcp"`` entry (or one changes), the session lists its tools the
way the service does: an ``mcp_list_tools`` item joins the conversation (``conversation.item.added``),
then ``mcp_list_tools.in_progress``, then ``mcp_list_tools.completed`` with the item done holding the
tools (only the ``allowed_tools``), or ``mcp_list_tools.failed``. A response may then use a listed
tool (:meth:`McpHub.tools_for` tells the brain which, and whether a call needs approval under the
entry's ``require_approval``); :meth:`McpHub.call` runs it through :class:`~.mcp_client.McpClient`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop_app.local_server.conversation import Conversation, Ids, StoredItem
from desktop_app.local_server.mcp_client import McpClient, McpError, request_headers
from desktop_app.local_server.outbox import Emit, Log
from desktop_app.local_server.tasks import start_task


@dataclass
class _Server:
    entry: dict[str, Any]
    client: McpClient
    tools: list[dict[str, Any]] = field(default_factory=list)
    listed: bool = False
    task: asyncio.Task[None] | None = None


def _key(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    return (entry.get("server_url"), repr(entry.get("headers")), entry.get("authorization"),
            repr(entry.get("allowed_tools")))


def needs_approval(entry: Mapping[str, Any], tool: str) -> bool:
    """``require_approval``: "never" runs unasked; "always", a filter naming the tool under ``always``,
    a tool in neither list, or no setting at all asks first."""
    policy = entry.get("require_approval", "always")
    if policy == "never":
        return False
    if isinstance(policy, Mapping):
        never = (policy.get("never") or {}).get("tool_names") or []
        always = (policy.get("always") or {}).get("tool_names") or []
        return tool in always or tool not in never
    return True


def _allowed(entry: Mapping[str, Any], name: str) -> bool:
    allowed = entry.get("allowed_tools")
    if isinstance(allowed, list):
        return name in allowed
    if isinstance(allowed, Mapping) and isinstance(allowed.get("tool_names"), list):
        return name in allowed["tool_names"]
    return True


class McpHub:
    """Listing and calling the session's MCP servers (``server_url`` entries; connectors are not offline)."""

    def __init__(self, emit: Emit, conversation: Conversation, ids: Ids, log: Log) -> None:
        self._emit = emit
        self._conversation = conversation
        self._ids = ids
        self._log = log
        self._servers: dict[str, _Server] = {}

    def configure(self, tools: list[dict[str, Any]]) -> None:
        """``session.tools`` changed: list each new or changed MCP server; forget the removed ones."""
        wanted = {t["server_label"]: t for t in tools if t.get("type") == "mcp" and t.get("server_url")}
        for label in [label for label in self._servers if label not in wanted]:
            self._forget(label)
        for label, entry in wanted.items():
            known = self._servers.get(label)
            if known is not None and _key(known.entry) == _key(entry):
                known.entry = dict(entry)  # require_approval may change without a new listing
                continue
            if known is not None:
                self._forget(label)
            server = _Server(dict(entry), McpClient(str(entry["server_url"]), request_headers(entry)))
            self._servers[label] = server
            server.task = start_task(self._list(label, server), name=f"mcp list {label}")

    def _forget(self, label: str) -> None:
        server = self._servers.pop(label)
        if server.task is not None:
            server.task.cancel()

    async def _list(self, label: str, server: _Server) -> None:
        public: dict[str, Any] = {"type": "mcp_list_tools", "id": self._ids.make("mcpl_"), "server_label": label,
                                  "tools": []}
        item = StoredItem(public=public)
        previous = self._conversation.insert(item)
        self._emit({"type": "conversation.item.added", "previous_item_id": previous, "item": dict(public)})
        self._emit({"type": "mcp_list_tools.in_progress", "item_id": item.id})
        try:
            listed = await server.client.list_tools()
        except McpError as exc:
            self._log.info("! MCP %s: listing failed: %s", label, exc.message)
            self._emit({"type": "mcp_list_tools.failed", "item_id": item.id})
        else:
            server.tools = [_shown(tool) for tool in listed if _allowed(server.entry, tool["name"])]
            server.listed = True
            public["tools"] = server.tools
            self._log.info("= MCP %s: %d tool(s) listed", label, len(server.tools))
            self._emit({"type": "mcp_list_tools.completed", "item_id": item.id})
        previous = self._conversation.previous_of(item.id) if item.id in self._conversation else None
        self._emit({"type": "conversation.item.done", "previous_item_id": previous, "item": dict(public)})

    def tools_for(self, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The listed tools of the MCP servers in ``tools`` (a response's), for the brain."""
        out = []
        for entry in tools:
            server = self._servers.get(str(entry.get("server_label"))) if entry.get("type") == "mcp" else None
            if server is None or not server.listed:
                continue
            for tool in server.tools:
                out.append({**tool, "server_label": entry["server_label"],
                            "approval": needs_approval(entry, tool["name"])})
        return out

    async def call(self, label: str, name: str, arguments: Mapping[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
        """``(output, None)`` or ``(None, error)`` (the ``mcp_call`` item's ``error`` object)."""
        server = self._servers.get(label)
        if server is None:
            return None, {"type": "protocol_error", "code": -32601, "message": f"no MCP server {label!r} in the session"}
        try:
            return await server.client.call_tool(name, arguments), None
        except McpError as exc:
            self._log.info("! MCP %s.%s failed: %s", label, name, exc.message)
            return None, exc.as_item_error()

    def close(self) -> None:
        for label in list(self._servers):
            self._forget(label)


def _shown(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A listed tool as the ``mcp_list_tools`` item shows it (the SDK's fields)."""
    out: dict[str, Any] = {"name": tool["name"], "input_schema": tool.get("inputSchema") or {"type": "object"}}
    if isinstance(tool.get("description"), str):
        out["description"] = tool["description"]
    if isinstance(tool.get("annotations"), dict):
        out["annotations"] = tool["annotations"]
    return out
