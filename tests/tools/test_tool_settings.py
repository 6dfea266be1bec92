"""Tool settings: declared in the schema, stored and read back, bad entries dropped alone."""

from __future__ import annotations

import pytest

from desktop_app.settings.schema import BY_NAME, Settings
from desktop_app.settings.store import SettingsStore
from desktop_app.settings.tools import McpServerConfig, ToolPrefs, mcp_server_item

SERVER = McpServerConfig(label="docs", url="https://mcp.example.com/mcp", token_name="docs-token",
                         allowed_tools=("search",), trusted_tools=("search",))


def test_defaults_offer_every_tool_with_default_permissions_and_no_servers():
    prefs = ToolPrefs.from_settings(Settings())
    assert prefs == ToolPrefs()


def test_tool_settings_round_trip_through_the_settings_file(tmp_path):
    store = SettingsStore(tmp_path / "settings.ini")
    prefs = ToolPrefs(disabled=frozenset({"open_url", "read_clipboard"}), permissions={"append_note": "allow"},
                      tool_choice="required", mcp_servers=(SERVER,))
    store.update(**prefs.settings_changes())
    again = SettingsStore(tmp_path / "settings.ini")
    assert ToolPrefs.from_settings(again.settings) == prefs
    assert again.notices == []


def test_a_broken_mcp_server_entry_is_dropped_and_the_others_kept(tmp_path):
    path = tmp_path / "settings.ini"
    good = '{"label":"docs","url":"https://mcp.example.com/mcp"}'
    bad = '{"label":"evil","url":"http://203.0.113.9/mcp"}'
    path.write_text(f"[General]\nschema_version=2\n\n[tools]\nmcp_servers=\"[{good.replace(chr(34), chr(92) + chr(34))},"
                    f"{bad.replace(chr(34), chr(92) + chr(34))}]\"\n")
    store = SettingsStore(path)
    assert [s.label for s in store.settings.mcp_servers] == ["docs"]


@pytest.mark.parametrize(("value", "words"), [
    ({"label": "a b", "url": "https://x.example/mcp"}, "letters, digits"),
    ({"label": "x", "url": "http://x.example/mcp"}, "must use https"),
    ({"label": "x", "url": "https://user:pw@x.example/mcp"}, "credentials"),
    ({"label": "x", "url": "ftp://x.example/mcp"}, "not an http"),
    ({"label": "x", "url": "https://x.example/mcp", "approval": "sometimes"}, "approval must be"),
    ({"label": "x", "url": "https://x.example/mcp", "auth_header": "X-Key\r\nEvil"}, "line breaks"),
    ({"label": "x", "url": "https://x.example/mcp", "allowed_tools": ["ok", "not ok"]}, "not a valid tool name"),
    ({"label": "x", "url": "https://x.example/mcp", "shell": "yes"}, "unknown MCP server fields: shell"),
    ({"url": "https://x.example/mcp"}, "label"),
])
def test_invalid_mcp_servers_are_refused_with_a_reason(value, words):
    with pytest.raises(ValueError, match=words):
        mcp_server_item(value)


def test_tool_choice_and_permissions_are_validated():
    with pytest.raises(ValueError):
        BY_NAME["tool_choice"].validate("not a name!")
    with pytest.raises(ValueError, match="permission must be"):
        BY_NAME["tool_permissions"].validate((("echo", "sometimes"),))
    with pytest.raises(ValueError, match="unique"):
        BY_NAME["mcp_servers"].validate((SERVER, SERVER))
    assert BY_NAME["tool_permissions"].validate([["echo", "deny"]]) == (("echo", "deny"),)
