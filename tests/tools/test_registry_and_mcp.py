"""session.tools / tool_choice from declarations and prefs, and MCP approvals, checked by the SDK."""

from __future__ import annotations

import pytest

from desktop_app.settings.tools import McpServerConfig, ToolPrefs
from desktop_app.tools import Decision, Permission, ToolRegistry
from desktop_app.tools.mcp import McpCallSummary, McpListings, decide_approval, mcp_tool_entries
from desktop_app.tools.secrets import MemorySecrets
from tests.tools import oracle
from tests.tools.conftest import HangingApprover, ScriptedApprover, echo_tool

SERVERS = (
    McpServerConfig(label="deepwiki", url="https://mcp.deepwiki.com/mcp", description="Docs search"),
    McpServerConfig(label="calendar", url="https://cal.example.com/mcp", token_name="cal-token",
                    allowed_tools=("list_events", "add_event"), trusted_tools=("list_events",)),
    McpServerConfig(label="local", url="http://127.0.0.1:8931/mcp", approval="never", token_name="local-key",
                    auth_header="X-Api-Key"),
    McpServerConfig(label="off", url="https://off.example.com/mcp", enabled=False),
)


def test_session_tools_are_valid_sdk_tools_with_strict_schemas():
    registry = ToolRegistry([echo_tool(), echo_tool("writer", side_effecting=True)],
                            prefs=ToolPrefs(mcp_servers=SERVERS),
                            secrets=MemorySecrets({"cal-token": "tok-cal-123456", "local-key": "key-local-98765"}))
    tools, problems = registry.session_tools()
    assert problems == []
    for entry in tools:
        oracle.tool(entry)
    event = {"type": "session.update", "session": {"type": "realtime", "tools": tools,
                                                   "tool_choice": registry.tool_choice()}}
    oracle.client_event(event)
    functions = [t for t in tools if t["type"] == "function"]
    assert [f["name"] for f in functions] == ["echo", "writer"]
    assert functions[0]["parameters"]["additionalProperties"] is False
    assert functions[0]["parameters"]["properties"]["text"]["maxLength"] == 4000
    mcp = {t["server_label"]: t for t in tools if t["type"] == "mcp"}
    assert set(mcp) == {"deepwiki", "calendar", "local"}
    assert mcp["deepwiki"] == {"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.deepwiki.com/mcp",
                               "server_description": "Docs search", "require_approval": "always"}
    assert mcp["calendar"]["authorization"] == "tok-cal-123456"
    assert mcp["calendar"]["allowed_tools"] == ["list_events", "add_event"]
    assert mcp["calendar"]["require_approval"] == "always"  # trusted tools are approved by Parley, not the filter
    assert mcp["local"]["headers"] == {"X-Api-Key": "key-local-98765"} and mcp["local"]["require_approval"] == "never"


def test_an_mcp_server_whose_token_is_missing_or_has_a_line_break_is_left_out_and_said_why():
    secrets = MemorySecrets({"local-key": "bad\r\nX-Evil: 1"})
    entries, problems = mcp_tool_entries(SERVERS, secrets)
    assert [e["server_label"] for e in entries] == ["deepwiki"]
    assert problems == [
        "MCP server “calendar” is not offered: its token “cal-token” is not in the keyring; set it in the Tools tab",
        "MCP server “local” is not offered: The value of the header X-Api-Key contains a line break or NUL and was refused.",
    ]


@pytest.mark.parametrize(("choice", "expected"), [
    ("auto", "auto"), ("none", "none"), ("required", "required"),
    ("echo", {"type": "function", "name": "echo"}),
    ("gone", "auto"),  # a forced tool that is not offered falls back
])
def test_tool_choice(choice, expected):
    registry = ToolRegistry([echo_tool()], prefs=ToolPrefs(tool_choice=choice))
    assert registry.tool_choice() == expected
    oracle.tool_choice(expected)


def test_permissions_default_by_side_effects_and_overrides_stay_minimal():
    registry = ToolRegistry([echo_tool(), echo_tool("writer", side_effecting=True),
                             echo_tool("strict", permission=Permission.DENY)])
    assert [registry.permission(n) for n in ("echo", "writer", "strict")] == [Permission.ALLOW, Permission.ASK,
                                                                               Permission.DENY]
    assert registry.with_permission("writer", Permission.ALLOW).permissions == {"writer": "allow"}
    assert registry.with_permission("writer", Permission.ASK).permissions == {}  # back to the default
    assert [i.name for i in registry.infos()] == ["echo", "writer", "strict"]
    with pytest.raises(ValueError, match="already declared"):
        ToolRegistry([echo_tool(), echo_tool()])


def approval_item(server: str, name: str, arguments: str = '{"day": "today"}') -> dict:
    item = {"type": "mcp_approval_request", "id": "mcpr_1", "server_label": server, "name": name, "arguments": arguments}
    from openai.types.realtime import RealtimeMcpApprovalRequest

    RealtimeMcpApprovalRequest.model_validate(item)
    return item


def assert_sendable(response_item: dict) -> None:
    from openai.types.realtime import RealtimeMcpApprovalResponse

    RealtimeMcpApprovalResponse.model_validate(response_item)
    oracle.client_event({"type": "conversation.item.create", "item": response_item})
    assert response_item["id"].startswith("item_") and len(response_item["id"]) == 26


async def test_mcp_requests_are_settled_by_policy_without_a_prompt():
    approver = ScriptedApprover(Decision.ALLOW_ONCE)
    for server, name, approve in (("calendar", "list_events", True), ("local", "anything", True),
                                  ("calendar", "delete_all", False), ("unknown", "x", False), ("off", "x", False)):
        decision = await decide_approval(approval_item(server, name), SERVERS, approver)
        assert decision.approve is approve, (server, name)
        assert_sendable(decision.response_item)
        assert decision.response_item["approval_request_id"] == "mcpr_1"
        assert decision.response_item["approve"] is approve
    assert approver.requests == []


async def test_an_mcp_request_not_settled_by_policy_asks_with_the_exact_arguments():
    approver = ScriptedApprover(Decision.ALWAYS)
    trusted: list[tuple[str, str]] = []
    decision = await decide_approval(approval_item("calendar", "add_event", '{"title": "Dentist", "at": "9:00"}'),
                                     SERVERS, approver, on_trust=lambda label, tool: trusted.append((label, tool)))
    assert decision.approve and decision.trust and trusted == [("calendar", "add_event")]
    [request] = approver.requests
    assert (request.kind, request.server_label, request.tool) == ("mcp", "calendar", "add_event")
    assert request.arguments == {"title": "Dentist", "at": "9:00"}
    assert "on the MCP server “calendar”" in request.title
    registry = ToolRegistry(prefs=ToolPrefs(mcp_servers=SERVERS))
    prefs = registry.with_mcp_trust("calendar", "add_event")
    assert prefs.mcp_servers[1].trusted_tools == ("list_events", "add_event")


async def test_an_unanswered_or_denied_mcp_request_is_answered_with_a_denial_and_a_reason():
    denied = await decide_approval(approval_item("deepwiki", "ask_question"), SERVERS, ScriptedApprover(Decision.DENY))
    assert not denied.approve and denied.response_item["reason"] == "denied by the user"
    assert_sendable(denied.response_item)
    timed_out = await decide_approval(approval_item("deepwiki", "ask_question", "not json"), SERVERS, HangingApprover(),
                                      timeout_s=0.05)
    assert not timed_out.approve and timed_out.response_item["reason"] == "the user did not answer in time"
    with pytest.raises(ValueError, match="without server_label"):
        await decide_approval({"type": "mcp_approval_request", "id": "x", "name": "n", "arguments": "{}"}, SERVERS, None)


def test_listings_join_the_item_and_its_events():
    from openai.types.realtime import McpListToolsCompleted, McpListToolsFailed, RealtimeMcpListTools

    listings = McpListings()
    item = {"type": "mcp_list_tools", "id": "item_L1", "server_label": "deepwiki",
            "tools": [{"name": "ask_question", "description": "Ask", "input_schema": {"type": "object"}}]}
    RealtimeMcpListTools.model_validate(item)
    listings.on_item(item)
    completed = {"type": "mcp_list_tools.completed", "event_id": "event_1", "item_id": "item_L1"}
    McpListToolsCompleted.model_validate(completed)
    assert listings.on_event(completed) == "deepwiki"
    assert listings.by_server["deepwiki"].tools == (("ask_question", "Ask"),)
    failed = {"type": "mcp_list_tools.failed", "event_id": "event_2", "item_id": "item_L1"}
    McpListToolsFailed.model_validate(failed)
    listings.on_event(failed)
    assert listings.by_server["deepwiki"].failed


def test_an_mcp_call_item_is_summarised_for_the_transcript():
    from openai.types.realtime import RealtimeMcpToolCall

    item = {"type": "mcp_call", "id": "item_C", "server_label": "deepwiki", "name": "ask_question",
            "arguments": '{"q": "x"}', "output": None,
            "error": {"type": "http_error", "code": 502, "message": "Bad gateway"}}
    RealtimeMcpToolCall.model_validate(item)
    summary = McpCallSummary.from_item(item)
    assert (summary.server_label, summary.name, summary.error, summary.output) == ("deepwiki", "ask_question",
                                                                                  "Bad gateway", "")
