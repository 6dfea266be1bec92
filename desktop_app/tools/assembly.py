"""The tools of a running Parley, put together once for the window and for ``--headless``.

:func:`build_toolkit` makes the registry (built-ins with the providers the mode has, the user's
choices from the settings, the user tools from ``tools.toml``) and the :class:`ToolBox` that runs
calls against it. :func:`with_tools` writes what the registry offers into a session config:
``tools`` (functions, then MCP servers), ``tool_choice`` and, for models that take it,
``parallel_tool_calls`` (so two calls in one answer run at once). A dialect whose session cannot take
MCP servers (``DialectTraits.mcp_tools`` off: GPT-Live, whose backend is documented for function tools
and web search only) gets none, and the user is told why (:data:`MCP_NOT_IN_DIALECT`).

The headless policies (``--tools``) are here too, so both composition roots share one meaning:
``allow`` approves every call that would ask, ``ask-deny`` refuses them, ``off`` offers no tools.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from desktop_app.log import get_logger
from desktop_app.realtime.dialect import REALTIME_TRAITS, DialectTraits
from desktop_app.realtime.models import takes_reasoning
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.settings.tools import ToolPrefs, ToolSettingsSource
from desktop_app.tools.approval import Approver, Decision, fixed_approver
from desktop_app.tools.builtins import BuiltinProviders, builtin_tools
from desktop_app.tools.registry import ToolRegistry
from desktop_app.tools.secrets import SecretSource
from desktop_app.tools.toolbox import ToolActivity, ToolBox
from desktop_app.tools.user_tools import UserTools, load_user_tools

log = get_logger("tools")

#: ``parley --headless --tools …``: what happens to a call that would ask the user.
HEADLESS_POLICIES: tuple[str, ...] = ("off", "ask-deny", "allow")

MCP_NOT_IN_DIALECT = ("Your MCP servers are not used with GPT-Live: its backend is documented for function tools "
                      "and web search only, so Parley does not send them. They work with Realtime models.")


@dataclass(frozen=True, slots=True)
class ToolKit:
    """The registry, the box that runs calls, and the user tools file as loaded."""

    registry: ToolRegistry
    box: ToolBox
    user_tools: UserTools


def build_toolkit(settings: ToolSettingsSource, *, providers: BuiltinProviders, secrets: SecretSource,
                  tools_file: Path | None, approver: Approver | None = None, on_activity: Callable[[ToolActivity], None] | None = None,
                  on_prefs_changed: Callable[[ToolPrefs], None] | None = None) -> ToolKit:
    """Registry and box from stored settings; a broken tools file entry disables only itself."""
    registry = ToolRegistry(builtin_tools(providers), prefs=ToolPrefs.from_settings(settings), secrets=secrets)
    user_tools = UserTools(tools_file) if tools_file is not None else UserTools(Path("tools.toml"))
    if tools_file is not None:
        reserved = frozenset(spec.name for spec in registry.specs)
        user_tools = load_user_tools(tools_file, secrets, reserved=reserved)
        for sentence in registry.set_user_tools(user_tools.specs):
            log.warning("! tools: user tool refused: %s", sentence)
    box = ToolBox(registry, approver=approver, on_activity=on_activity, on_prefs_changed=on_prefs_changed)
    return ToolKit(registry, box, user_tools)


def with_tools(config: SessionConfig, registry: ToolRegistry | None,
               traits: DialectTraits = REALTIME_TRAITS) -> tuple[SessionConfig, list[str]]:
    """``config`` with the registry's tools (none when ``registry`` is None), and one sentence per
    MCP server left out (a missing token; all of them, in one sentence, where ``traits`` take none)."""
    if registry is None:
        return replace(config, tools=(), tool_choice="auto", parallel_tool_calls=None), []
    tools, problems = registry.session_tools()
    if not traits.mcp_tools:  # none goes in; one sentence instead of one per server (a missing token)
        offered = [tool for tool in tools if tool.get("type") != "mcp"]
        problems = [MCP_NOT_IN_DIALECT] if len(offered) < len(tools) or problems else []
        tools = offered
    # A forced or required tool needs an offered one; without tools only "none" keeps its meaning.
    choice = registry.tool_choice() if tools else ("none" if registry.prefs.tool_choice == "none" else "auto")
    parallel = True if tools and takes_reasoning(config.model) is True else None
    return replace(config, tools=tuple(tools), tool_choice=choice, parallel_tool_calls=parallel), problems


def headless_approver(policy: str) -> Approver | None:
    """The approver a headless policy stands for (None: nobody is asked, so asking denies)."""
    if policy not in HEADLESS_POLICIES:
        raise ValueError(f"--tools must be one of {', '.join(HEADLESS_POLICIES)}, not {policy!r}")
    return fixed_approver(Decision.ALLOW_ONCE) if policy == "allow" else fixed_approver(Decision.DENY)
