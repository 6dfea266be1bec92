"""``parley --headless --tools POLICY``: the assistant's tools without a window.

The tools are the user's (the settings' choices, ``tools.toml``, MCP servers), as in the window; what
differs is who answers a permission prompt: nobody can, so the policy does. ``ask-deny`` refuses every
call that would ask (the model is told it was not allowed), ``allow`` allows them, ``off`` (the default)
offers no tools at all. Built-ins that need a desktop (the clipboard, the browser) are not available.
The transcript JSON then also lists the tool calls (``"tools"``).
"""

from __future__ import annotations

from typing import Any

from desktop_app.controller.controller import Controller
from desktop_app.realtime.dialect import REALTIME_TRAITS, DialectTraits
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.tools import ToolBox
from desktop_app.tools.assembly import HEADLESS_POLICIES, build_toolkit, headless_approver, with_tools
from desktop_app.tools.builtins import BuiltinProviders

__all__ = ["HEADLESS_POLICIES", "headless_tools", "tool_calls"]


def headless_tools(policy: str, config: SessionConfig,
                   traits: DialectTraits = REALTIME_TRAITS) -> tuple[ToolBox | None, SessionConfig, list[str]]:
    """The ToolBox for ``policy`` (None when off), the config offering its tools (those ``traits`` take),
    and one sentence per thing left out (a broken tools file entry, an MCP server without its token, MCP
    servers with a dialect that takes none)."""
    if policy == "off":
        return None, config, []
    from desktop_app import paths
    from desktop_app.settings.store import SettingsStore
    from desktop_app.tools.secrets import ToolSecrets
    from desktop_app.tools.user_tools import FILE_NAME

    store = SettingsStore()
    kit = build_toolkit(store.settings, providers=BuiltinProviders(), secrets=ToolSecrets(),
                        tools_file=paths.tools_dir() / FILE_NAME, approver=headless_approver(policy))
    config, problems = with_tools(config, kit.registry, traits)
    problems += [str(problem) for problem in kit.user_tools.all_problems]
    return kit.box, config, problems


def tool_calls(ctl: Controller) -> list[dict[str, Any]]:
    """The tool calls of the conversation for the transcript JSON: name, arguments, status, output."""
    out = []
    for entry in ctl.transcript():
        if entry.role == "tool":
            out.append({"item_id": entry.item_id, "name": entry.tool_name, "arguments": entry.text,
                        "status": entry.tool_status, "output": entry.heard})
    return out
