"""What the demo brain decides a response does: speak, call the client's functions, or use an MCP tool.

The brain returns one of these; :class:`~.responses.ResponseRun` carries it out as the event ladder of
realtime-protocol.md §3.6 (B/D for speech, E for function calls, the MCP items for MCP tools).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Say:
    """Answer with this text."""

    text: str


@dataclass(frozen=True, slots=True)
class Call:
    """Ask the client to run one of its functions; ``arguments`` is JSON text valid for its schema."""

    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Calls:
    """Several function calls in one response (the client runs them at once and answers each)."""

    calls: tuple[Call, ...]


@dataclass(frozen=True, slots=True)
class AskMcp:
    """Ask the user (through the client) to approve an MCP tool call: an ``mcp_approval_request`` item."""

    server_label: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class UseMcp:
    """Call an MCP tool on the server side (``mcp_call`` item), then speak what it returned.

    ``approval_request_id`` names the approved request, when there was one."""

    server_label: str
    name: str
    arguments: str
    approval_request_id: str | None = None


Plan = Say | Call | Calls | AskMcp | UseMcp
