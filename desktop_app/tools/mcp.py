"""Remote MCP servers, the server-side way: Parley lists them, the service calls them.

Parley sends each enabled server as a ``type: "mcp"`` tool (realtime-protocol.md §0.1, §2.1); the
service lists the server's tools (``mcp_list_tools`` item and events), and before a call it sends an
``mcp_approval_request`` item that the client answers with an ``mcp_approval_response`` item
(``conversation.item.create``), then the call shows as an ``mcp_call`` item.

Approval is safe by construction: a server whose policy is ``ask`` is sent with
``require_approval: "always"`` — every call comes back here, and the tools the user trusted
("Always") are approved by Parley without a prompt. A filter object (``never: {tool_names}``) would
save a round trip, but what the service does with tools in neither list is not documented, so it is
not used. Only ``approval = "never"`` lets the server run its tools unasked.

Everything here is pure (dicts in, dicts out) except :func:`decide_approval`, which awaits the
:data:`~desktop_app.tools.approval.Approver`.
"""

from __future__ import annotations

import json
import secrets as _random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.log import get_logger, redact
from desktop_app.settings.tools import McpServerConfig
from desktop_app.tools.approval import (
    DEFAULT_APPROVAL_TIMEOUT_S, ApprovalRequest, Approver, Decision, ask, display_arguments,
)
from desktop_app.tools.secrets import SecretSource
from desktop_app.tools.security import check_header_value
from desktop_app.tools.spec import ToolError

log = get_logger("tools")

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def mcp_tool_entries(servers: Sequence[McpServerConfig], secrets: SecretSource) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``session.tools`` entries of the enabled servers, and one sentence per server left out."""
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    for server in servers:
        if not server.enabled:
            continue
        try:
            entries.append(mcp_tool_entry(server, secrets))
        except ToolError as exc:
            problems.append(f"MCP server “{server.label}” is not offered: {exc.message}")
            log.warning("! tools: MCP server %s left out: %s", server.label, exc.message)
    return entries, problems


def mcp_tool_entry(server: McpServerConfig, secrets: SecretSource) -> dict[str, Any]:
    """One ``type: "mcp"`` tool; :class:`ToolError` when its token is missing or unusable."""
    entry: dict[str, Any] = {"type": "mcp", "server_label": server.label, "server_url": server.url}
    if server.description:
        entry["server_description"] = server.description
    if server.allowed_tools:
        entry["allowed_tools"] = list(server.allowed_tools)
    entry["require_approval"] = "never" if server.approval == "never" else "always"
    if server.token_name:
        token = secrets.get(server.token_name)
        if not token:
            raise ToolError(f"its token “{server.token_name}” is not in the keyring; set it in the Tools tab")
        if server.auth_header:
            entry["headers"] = {server.auth_header: check_header_value(server.auth_header, token)}
        else:
            entry["authorization"] = check_header_value("authorization", token)
    return entry


@dataclass(frozen=True, slots=True)
class McpApprovalRequest:
    """An ``mcp_approval_request`` item from the server."""

    id: str
    server_label: str
    name: str
    arguments: str

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> McpApprovalRequest:
        if item.get("type") != "mcp_approval_request":
            raise ValueError(f"not an mcp_approval_request item: {item.get('type')!r}")
        fields = {key: item.get(key) for key in ("id", "server_label", "name", "arguments")}
        missing = [key for key, value in fields.items() if not isinstance(value, str)]
        if missing:
            raise ValueError(f"mcp_approval_request without {', '.join(missing)}")
        return cls(**{key: str(value) for key, value in fields.items()})


@dataclass(frozen=True, slots=True)
class McpDecision:
    """How a request was settled and the item to send back."""

    approve: bool
    reason: str
    response_item: dict[str, Any]
    trust: bool = False  # the user chose "Always": add the tool to the server's trusted tools


def new_item_id() -> str:
    """A client-chosen item id in the service's shape (``item_`` + 21 base62 characters)."""
    return "item_" + "".join(_random.choice(_ID_ALPHABET) for _ in range(21))


def approval_response_item(request_id: str, approve: bool, reason: str = "") -> dict[str, Any]:
    """The ``mcp_approval_response`` item (send it with ``conversation.item.create``)."""
    item: dict[str, Any] = {"type": "mcp_approval_response", "id": new_item_id(),
                            "approval_request_id": request_id, "approve": approve}
    if reason:
        item["reason"] = reason
    return item


def policy_decision(request: McpApprovalRequest, servers: Sequence[McpServerConfig]) -> tuple[bool, str] | None:
    """The answer the user's settings already give, or None when the user must be asked."""
    server = next((s for s in servers if s.label == request.server_label), None)
    if server is None or not server.enabled:
        return False, f"the MCP server {request.server_label!r} is not one the user enabled"
    if server.allowed_tools and request.name not in server.allowed_tools:
        return False, f"{request.name} is not among the tools the user allowed on {server.label}"
    if server.approval == "never" or request.name in server.trusted_tools:
        return True, "trusted by the user"
    return None


async def decide_approval(
    item: Mapping[str, Any],
    servers: Sequence[McpServerConfig],
    approver: Approver | None,
    *,
    timeout_s: float = DEFAULT_APPROVAL_TIMEOUT_S,
    on_trust: Callable[[str, str], None] | None = None,
) -> McpDecision:
    """Answer one ``mcp_approval_request`` item by policy, or by asking the user (timeout: deny).

    ``on_trust(server_label, tool)`` is called when the user chooses "Always", to store the trust.
    A malformed request is answered with a denial when it has an id, else ``ValueError``.
    """
    request = McpApprovalRequest.from_item(item)
    settled = policy_decision(request, servers)
    trust = False
    if settled is not None:
        approve, reason = settled
    else:
        parsed = _parse_object(request.arguments)
        shown = display_arguments(parsed) if parsed is not None else request.arguments
        prompt = ApprovalRequest(
            call_id=request.id, tool=request.name, label=request.name, description="",
            arguments=parsed, arguments_text=shown, side_effecting=True, timeout_s=timeout_s,
            kind="mcp", server_label=request.server_label,
        )
        decision, how = await ask(approver, prompt)
        approve = decision.allows
        trust = decision is Decision.ALWAYS
        reason = {"asked": "approved by the user" if approve else "denied by the user",
                  "timed out": "the user did not answer in time"}.get(how, "the user could not be asked")
        if trust and on_trust is not None:
            on_trust(request.server_label, request.name)
    log.info("> tools: MCP %s.%s %s (%s) args=%s", request.server_label, request.name,
             "approved" if approve else "denied", reason, redact(request.arguments[:300]))
    return McpDecision(approve, reason, approval_response_item(request.id, approve, "" if approve else reason), trust)


def trust_tool(servers: Sequence[McpServerConfig], label: str, tool: str) -> tuple[McpServerConfig, ...]:
    """``servers`` with ``tool`` added to the trusted tools of the server ``label``."""
    out = []
    for server in servers:
        if server.label == label and tool not in server.trusted_tools:
            server = McpServerConfig(**{**server.to_dict(), "trusted_tools": [*server.trusted_tools, tool]})
        out.append(server)
    return tuple(out)


def _parse_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class McpListing:
    """What one server offers, from an ``mcp_list_tools`` item (or why listing failed)."""

    server_label: str
    tools: tuple[tuple[str, str], ...] = ()  # (name, description)
    failed: bool = False


class McpListings:
    """Tracks ``mcp_list_tools`` items and ``mcp_list_tools.*`` events, for the Tools tab and the log.

    The events carry only ``item_id``; the item (from ``conversation.item.added/done``) says which
    server it is, so the two are joined here.
    """

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}
        self.by_server: dict[str, McpListing] = {}
        self.in_progress: set[str] = set()

    def on_item(self, item: Mapping[str, Any]) -> McpListing | None:
        if item.get("type") != "mcp_list_tools":
            return None
        label = str(item.get("server_label") or "")
        if isinstance(item.get("id"), str):
            self._labels[str(item["id"])] = label
        tools = tuple((str(t.get("name", "")), str(t.get("description") or ""))
                      for t in item.get("tools") or () if isinstance(t, Mapping))
        if tools or label not in self.by_server:
            self.by_server[label] = McpListing(label, tools)
        return self.by_server[label]

    def on_event(self, event: Mapping[str, Any]) -> str | None:
        """The server label an ``mcp_list_tools.*`` event concerns (None if unknown yet)."""
        kind = str(event.get("type", ""))
        label = self._labels.get(str(event.get("item_id", "")))
        if label is None:
            return None
        if kind == "mcp_list_tools.in_progress":
            self.in_progress.add(label)
        elif kind in ("mcp_list_tools.completed", "mcp_list_tools.failed"):
            self.in_progress.discard(label)
            if kind.endswith("failed"):
                self.by_server[label] = McpListing(label, failed=True)
                log.warning("! tools: the MCP server %s could not list its tools", label)
        return label


@dataclass(frozen=True, slots=True)
class McpCallSummary:
    """An ``mcp_call`` item, for the transcript: what ran where, and what came back."""

    server_label: str
    name: str
    arguments: str
    output: str
    error: str

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> McpCallSummary:
        error = item.get("error")
        text = ""
        if isinstance(error, Mapping):
            text = str(error.get("message") or error.get("type") or "failed")
        return cls(str(item.get("server_label", "")), str(item.get("name", "")),
                   str(item.get("arguments") or ""), str(item.get("output") or ""), text)
