"""Putting the tools together: the toolkit from settings and tools.toml, what a session config offers,
and the headless policies."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from desktop_app.realtime.session_config import SessionConfig
from desktop_app.settings.tools import McpServerConfig, ToolPrefs
from desktop_app.tools import Decision, ToolRegistry
from desktop_app.tools.approval import ApprovalRequest
from desktop_app.tools.assembly import build_toolkit, headless_approver, with_tools
from desktop_app.tools.builtins import BuiltinProviders
from desktop_app.tools.secrets import MemorySecrets
from tests.tools.conftest import echo_tool


def test_parallel_calls_are_asked_for_only_where_the_model_takes_them():
    registry = ToolRegistry([echo_tool()])
    reasoning, _ = with_tools(SessionConfig(model="gpt-realtime-2"), registry)
    older, _ = with_tools(SessionConfig(model="gpt-realtime"), registry)
    assert reasoning.parallel_tool_calls is True and older.parallel_tool_calls is None
    assert [t["name"] for t in reasoning.tools] == ["echo"] and reasoning.tool_choice == "auto"
    reasoning.validate()
    assert with_tools(reasoning, None)[0].tools == () and with_tools(reasoning, None)[0].parallel_tool_calls is None


@pytest.mark.parametrize("choice, expected", [("none", "none"), ("required", "auto"), ("echo", "auto"), ("auto", "auto")])
def test_without_any_tool_offered_only_none_keeps_its_meaning(choice, expected):
    registry = ToolRegistry([echo_tool()], prefs=ToolPrefs(disabled=frozenset({"echo"}), tool_choice=choice))
    config, _ = with_tools(SessionConfig(), registry)
    assert config.tools == () and config.tool_choice == expected
    config.validate()


def test_an_mcp_server_without_its_token_is_left_out_and_said_so():
    server = McpServerConfig(label="docs", url="https://mcp.example.com/mcp", token_name="docs-token")
    registry = ToolRegistry(prefs=ToolPrefs(mcp_servers=(server,)), secrets=MemorySecrets())
    config, problems = with_tools(SessionConfig(), registry)
    assert config.tools == () and problems and "docs-token" in problems[0]
    registry.secrets = MemorySecrets({"docs-token": "tok-123456"})
    config, problems = with_tools(SessionConfig(), registry)
    assert problems == [] and config.tools[0]["authorization"] == "tok-123456"


def test_the_toolkit_loads_the_users_tools_file_and_a_broken_entry_disables_only_itself(tmp_path):
    tools_file = tmp_path / "tools.toml"
    tools_file.write_text(textwrap.dedent("""\
        [[tool]]
        name = "uptime"
        type = "command"
        description = "How long the computer has been up."
        argv = ["uptime"]
        side_effects = false

        [[tool]]
        name = "broken"
        type = "command"
        description = "A shell line is refused."
        argv = "ls -l"
    """))

    class Settings:
        tools_disabled = ("convert_units",)
        tool_permissions = (("calculate", "ask"),)
        tool_choice = "auto"
        mcp_servers = ()

    kit = build_toolkit(Settings(), providers=BuiltinProviders(notes_dir=tmp_path), secrets=MemorySecrets(),
                        tools_file=tools_file)
    offered = [t["name"] for t in kit.registry.function_tools()]
    assert "uptime" in offered and "broken" not in offered and "convert_units" not in offered
    assert "read_clipboard" not in offered  # no clipboard in this mode
    assert kit.registry.permission("calculate").value == "ask"
    assert [p.tool for p in kit.user_tools.all_problems] == ["broken"]


def test_the_headless_policies():
    request = ApprovalRequest(call_id="c", tool="t", label="T", description="", arguments={}, arguments_text="{}",
                              side_effecting=True, timeout_s=5)
    assert asyncio.run(headless_approver("allow")(request)) is Decision.ALLOW_ONCE
    assert asyncio.run(headless_approver("ask-deny")(request)) is Decision.DENY
    with pytest.raises(ValueError):
        headless_approver("yes please")
