"""A local MCP server for tests: Streamable HTTP (one ``POST /mcp`` endpoint), JSON-RPC 2.0.

It implements what a real server must for the Realtime service (and the local server) to use it:
``initialize`` (hands out an ``Mcp-Session-Id``), ``notifications/initialized`` (202), ``tools/list``
and ``tools/call``, and it checks what a strict server checks: JSON-RPC framing, the session id and the
protocol version header on every request after ``initialize``, the ``Accept`` header, and an optional
bearer token. Every request is recorded (``requests``) so tests can assert on what reached it.

    async with McpTestServer(token="s3cret") as mcp:
        mcp.url  # http://127.0.0.1:<port>/mcp

Runs on the test's own event loop (asyncio streams), so nothing outlives the test.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from typing import Any

FORECAST = {
    "name": "weather_forecast",
    "description": "Today's weather forecast for a city.",
    "inputSchema": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                    "required": ["city"], "additionalProperties": False},
}
SECRET_TOOL = {
    "name": "erase_disk",
    "description": "Erase the disk (never allowed in the tests' settings).",
    "inputSchema": {"type": "object", "properties": {}},
}


@dataclass
class Seen:
    """One request the server received."""

    method: str
    headers: dict[str, str]
    params: dict[str, Any]


class McpTestServer:
    """``async with McpTestServer() as mcp``; ``mcp.url``, ``mcp.requests``, ``mcp.calls``."""

    def __init__(self, *, token: str | None = None, sse: bool = True, delay_s: float = 0.0,
                 fail_listing: bool = False) -> None:
        self.token = token
        self.sse = sse  # answer tools/call as a server-sent event stream (the other methods as JSON)
        self.delay_s = delay_s
        self.fail_listing = fail_listing
        self.session_id = secrets.token_hex(8)
        self.requests: list[Seen] = []
        self.calls: list[dict[str, Any]] = []
        self.problems: list[str] = []  # protocol violations by the client
        self._server: asyncio.AbstractServer | None = None
        self.url = ""

    async def __aenter__(self) -> McpTestServer:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/mcp"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def methods(self) -> list[str]:
        return [r.method for r in self.requests]

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode("latin-1").strip()
            headers: dict[str, str] = {}
            while (line := (await reader.readline()).decode("latin-1").strip()):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, kind, payload, extra = await self._handle(request_line, headers, body)
            head = [f"HTTP/1.1 {status}", f"Content-Type: {kind}", f"Content-Length: {len(payload)}",
                    "Connection: close", *extra]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _handle(self, request_line: str, headers: dict[str, str], body: bytes
                      ) -> tuple[str, str, bytes, list[str]]:
        if not request_line.startswith("POST /mcp "):
            return "404 Not Found", "text/plain", b"not here", []
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            return "401 Unauthorized", "text/plain", b"token required", []
        if "text/event-stream" not in headers.get("accept", "") or "application/json" not in headers.get("accept", ""):
            self.problems.append(f"Accept header {headers.get('accept')!r}")
        message = json.loads(body)
        method = str(message.get("method"))
        self.requests.append(Seen(method, headers, message.get("params") or {}))
        if message.get("jsonrpc") != "2.0":
            self.problems.append(f"{method}: not JSON-RPC 2.0")
        if method != "initialize":
            if headers.get("mcp-session-id") != self.session_id:
                self.problems.append(f"{method}: session id {headers.get('mcp-session-id')!r}")
                return "404 Not Found", "text/plain", b"unknown session", []
            if not headers.get("mcp-protocol-version"):
                self.problems.append(f"{method}: no MCP-Protocol-Version header")
        if "id" not in message:  # a notification
            return "202 Accepted", "text/plain", b"", []
        result, error = await self._result(method, message.get("params") or {})
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        reply.update({"error": error} if error is not None else {"result": result})
        extra = [f"Mcp-Session-Id: {self.session_id}"] if method == "initialize" else []
        if self.sse and method == "tools/call":
            stream = f"event: message\ndata: {json.dumps(reply)}\n\n".encode()
            return "200 OK", "text/event-stream", stream, extra
        return "200 OK", "application/json", json.dumps(reply).encode(), extra

    async def _result(self, method: str, params: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        if method == "initialize":
            return {"protocolVersion": params.get("protocolVersion", "2025-06-18"), "capabilities": {"tools": {}},
                    "serverInfo": {"name": "parley-test-mcp", "version": "1.0"}}, None
        if method == "tools/list":
            if self.fail_listing:
                return None, {"code": -32603, "message": "the tool catalogue is down"}
            return {"tools": [FORECAST, SECRET_TOOL]}, None
        if method == "tools/call":
            self.calls.append(params)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if params.get("name") != "weather_forecast":
                return {"content": [{"type": "text", "text": "no such tool"}], "isError": True}, None
            city = str((params.get("arguments") or {}).get("city", "somewhere"))
            return {"content": [{"type": "text", "text": f"Sunny and 21 degrees in {city}."}], "isError": False}, None
        return None, {"code": -32601, "message": f"method not found: {method}"}
