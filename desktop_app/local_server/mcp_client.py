"""A small MCP client for the local server's ``type: "mcp"`` tools: Streamable HTTP, JSON-RPC 2.0.

The real service connects to the MCP servers a session lists and calls their tools itself; the local
server does the same, so MCP works end to end offline (against a test server on this computer). Only
what the session needs: ``initialize`` (+ ``notifications/initialized``), ``tools/list`` (following
``nextCursor``) and ``tools/call``. A reply may be plain JSON or a ``text/event-stream`` whose events
carry the JSON-RPC response; the ``Mcp-Session-Id`` the server hands out is sent back on every request.

Requests run in a worker thread (``urllib``), bounded by a timeout and a reply size limit. Every
failure is an :class:`McpError` shaped like the SDK's ``RealtimeMcp*Error`` objects (``protocol_error``
with a JSON-RPC code, ``http_error`` with the status, ``tool_execution_error``), ready for an item.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

PROTOCOL_VERSION = "2025-06-18"
TIMEOUT_S = 10.0
MAX_REPLY = 1_000_000


class McpError(Exception):
    """A failed MCP exchange; :meth:`as_item_error` is the ``error`` of an ``mcp_call`` item."""

    def __init__(self, kind: str, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.code = kind, message, code

    def as_item_error(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.kind in ("protocol_error", "http_error"):
            error["code"] = self.code if self.code is not None else 0
        return error


def request_headers(entry: Mapping[str, Any]) -> dict[str, str]:
    """The HTTP headers an ``mcp`` tool entry asks for (``authorization`` becomes a bearer token)."""
    headers = {str(k): str(v) for k, v in (entry.get("headers") or {}).items()}
    token = entry.get("authorization")
    if isinstance(token, str) and token:
        headers["Authorization"] = token if token.lower().startswith("bearer ") else f"Bearer {token}"
    return headers


class McpClient:
    """One MCP server at ``url``; ``await list_tools()``, ``await call_tool(name, arguments)``."""

    def __init__(self, url: str, headers: Mapping[str, str] | None = None, *, timeout_s: float = TIMEOUT_S) -> None:
        self.url = url
        self.headers = dict(headers or {})
        self.timeout_s = timeout_s
        self.session_id: str | None = None
        self._ids = itertools.count(1)
        self._ready = False
        self._lock = asyncio.Lock()

    async def list_tools(self) -> list[dict[str, Any]]:
        await self._initialize()
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(20):  # a server that pages forever is cut off
            result = await self._rpc("tools/list", {"cursor": cursor} if cursor else {})
            tools += [t for t in result.get("tools") or [] if isinstance(t, dict) and isinstance(t.get("name"), str)]
            cursor = result.get("nextCursor")
            if not isinstance(cursor, str) or not cursor:
                break
        return tools

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> str:
        """The tool's text output; :class:`McpError` ``tool_execution_error`` when it reports an error."""
        await self._initialize()
        result = await self._rpc("tools/call", {"name": name, "arguments": dict(arguments)})
        texts = [str(part.get("text", "")) for part in result.get("content") or []
                 if isinstance(part, dict) and part.get("type") == "text"]
        output = "\n".join(texts) if texts else json.dumps(result.get("structuredContent", result))
        if result.get("isError"):
            raise McpError("tool_execution_error", output or "the tool reported an error")
        return output

    async def _initialize(self) -> None:
        async with self._lock:
            if self._ready:
                return
            await self._rpc("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                           "clientInfo": {"name": "parley-local-server", "version": "1"}})
            await asyncio.to_thread(self._post, {"jsonrpc": "2.0", "method": "notifications/initialized"})
            self._ready = True

    async def _rpc(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = next(self._ids)
        reply = await asyncio.to_thread(self._post, {"jsonrpc": "2.0", "id": request_id, "method": method,
                                                     "params": params})
        if reply is None:
            raise McpError("protocol_error", f"no reply to {method}", -32603)
        error = reply.get("error")
        if isinstance(error, dict):
            raise McpError("protocol_error", str(error.get("message") or "error"), _int(error.get("code")))
        result = reply.get("result")
        if not isinstance(result, dict):
            raise McpError("protocol_error", f"{method}: the reply has no result", -32603)
        return result

    def _post(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """POST one JSON-RPC message (in a worker thread); the matching response, or None (202)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                   **self.headers}
        if self._ready or body.get("method") == "notifications/initialized":
            headers["MCP-Protocol-Version"] = PROTOCOL_VERSION
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        request = urllib.request.Request(self.url, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                self.session_id = response.headers.get("Mcp-Session-Id") or self.session_id
                kind = response.headers.get("Content-Type", "")
                data = response.read(MAX_REPLY + 1)
                status = response.status
        except urllib.error.HTTPError as exc:
            raise McpError("http_error", f"HTTP {exc.code} {exc.reason}", exc.code) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise McpError("http_error", f"the MCP server cannot be reached ({exc})", 0) from None
        if status == 202 or not data:
            return None
        if len(data) > MAX_REPLY:
            raise McpError("protocol_error", "the reply is too large", -32603)
        try:
            if kind.startswith("text/event-stream"):
                return _from_events(data.decode("utf-8"), body.get("id"))
            reply = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise McpError("protocol_error", "the reply is not JSON-RPC", -32700) from None
        return reply if isinstance(reply, dict) else None


def _from_events(text: str, request_id: Any) -> dict[str, Any] | None:
    """The JSON-RPC response to ``request_id`` among server-sent events (``data:`` lines)."""
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in block.split("\n") if line.startswith("data:"))
        if not data:
            continue
        message = json.loads(data)
        if isinstance(message, dict) and message.get("id") == request_id:
            return message
    return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) else -32603
