"""MCP servers and a GPT-Live backend (live-protocol.md §2 ``delegation.responses.tools``): the guides document
function tools and web search there, only the SDK's wider list has MCP — a conflict, so Parley does not send
them. The tools offered to a Live conversation leave them out with one sentence for the banner; a Live core
given one anyway sends only the functions; the window's Tools tab says why (see tests/gui for the window)."""

from __future__ import annotations

from dataclasses import replace

from desktop_app.live.connection import LIVE_TRAITS, LiveConnection
from desktop_app.realtime.dialect import REALTIME_TRAITS
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.settings.tools import McpServerConfig, ToolPrefs
from desktop_app.tools import ToolRegistry
from desktop_app.tools.assembly import MCP_NOT_IN_DIALECT, with_tools
from desktop_app.tools.secrets import MemorySecrets
from desktop_app.ui.widgets import dialect_notes
from tests.live.frames import sent
from tests.tools.conftest import echo_tool

SERVER = McpServerConfig(label="docs", url="https://mcp.example.com/mcp", token_name="docs-token")


def registry(secrets: dict[str, str] | None = None) -> ToolRegistry:
    return ToolRegistry([echo_tool()], prefs=ToolPrefs(mcp_servers=(SERVER,)), secrets=MemorySecrets(secrets or {}))


def test_a_live_conversation_is_offered_the_functions_and_told_why_not_the_mcp_servers():
    tools = registry({"docs-token": "tok-123456"})
    realtime, said = with_tools(SessionConfig(), tools, REALTIME_TRAITS)
    assert [t.get("type", "function") for t in realtime.tools] == ["function", "mcp"] and said == []
    live, said = with_tools(SessionConfig(model="gpt-live-1"), tools, LIVE_TRAITS)
    assert [t["name"] for t in live.tools] == ["echo"] and said == [MCP_NOT_IN_DIALECT]
    # A server missing its token is not a separate problem under Live: none of them goes in anyway.
    _, said = with_tools(SessionConfig(model="gpt-live-1"), registry(), LIVE_TRAITS)
    assert said == [MCP_NOT_IN_DIALECT]
    # No MCP server configured: nothing to say.
    _, said = with_tools(SessionConfig(model="gpt-live-1"), ToolRegistry([echo_tool()]), LIVE_TRAITS)
    assert said == []


def test_a_live_core_given_an_mcp_entry_sends_only_the_functions():
    realtime, _ = with_tools(SessionConfig(model="gpt-realtime"), registry({"docs-token": "tok-123456"}), REALTIME_TRAITS)
    conn = LiveConnection()
    conn.update_session(replace(realtime, model="gpt-live-1"))
    (start,) = sent(conn)  # the SDK's union checks the session
    tools = start["session"]["delegation"]["responses"]["tools"]
    assert [t["type"] for t in tools] == ["function"] and "tok-123456" not in str(start)


def test_the_window_note_comes_from_the_traits():
    assert dialect_notes.mcp(LIVE_TRAITS) == dialect_notes.MCP and dialect_notes.mcp(REALTIME_TRAITS) is None
