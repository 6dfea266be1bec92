"""The tools Parley offers: built-in and user tools, the user's on/off and permission choices, MCP.

:class:`ToolRegistry` turns declarations plus :class:`~desktop_app.settings.tools.ToolPrefs` into
what the session sends (``session.tools``, ``tool_choice``) and what the :class:`ToolBox` runs. A
tool is offered to the model only when it is enabled, available (its provider exists) and not
denied; a denied tool is not offered at all, so the model does not keep trying it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from desktop_app.log import get_logger
from desktop_app.settings.tools import TOOL_CHOICE_MODES, McpServerConfig, ToolPrefs
from desktop_app.tools.mcp import mcp_tool_entries, trust_tool
from desktop_app.tools.secrets import MemorySecrets, SecretSource
from desktop_app.tools.spec import Permission, ToolInfo, ToolSpec
from desktop_app.tools.validation import ArgumentValidator, strict_schema

log = get_logger("tools")


class ToolRegistry:
    """Declared tools and the user's choices about them. Change prefs with :meth:`set_prefs`."""

    def __init__(self, builtins: Iterable[ToolSpec] = (), *, prefs: ToolPrefs | None = None,
                 secrets: SecretSource | None = None) -> None:
        self.prefs = prefs or ToolPrefs()
        self.secrets: SecretSource = secrets if secrets is not None else MemorySecrets()
        self._builtins: list[ToolSpec] = []
        self._user: list[ToolSpec] = []
        self._validators: dict[str, ArgumentValidator] = {}
        self._problems: dict[str, str] = {}
        for spec in builtins:
            self._add(spec, self._builtins)

    def _add(self, spec: ToolSpec, into: list[ToolSpec]) -> None:
        if any(s.name == spec.name for s in (*self._builtins, *self._user)):
            raise ValueError(f"a tool named {spec.name!r} is already declared")
        try:
            strict = strict_schema(spec.parameters)
        except ValueError as exc:
            self._problems[spec.name] = str(exc)
            log.error("! tools: %s has an invalid schema: %s", spec.name, exc)
            into.append(spec)
            return
        spec = replace(spec, parameters=strict)
        self._validators[spec.name] = ArgumentValidator(strict)
        into.append(spec)

    def set_user_tools(self, specs: Sequence[ToolSpec]) -> list[str]:
        """Replace the user tools; returns one sentence per tool refused (a name already taken)."""
        for spec in self._user:
            self._validators.pop(spec.name, None)
            self._problems.pop(spec.name, None)
        self._user = []
        refused = []
        for spec in specs:
            try:
                self._add(spec, self._user)
            except ValueError as exc:
                refused.append(f"{spec.name}: {exc}")
        return refused

    def set_prefs(self, prefs: ToolPrefs) -> None:
        self.prefs = prefs

    # -- lookups ---------------------------------------------------------------------------------

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        return (*self._builtins, *self._user)

    def spec(self, name: str) -> ToolSpec | None:
        return next((s for s in self.specs if s.name == name), None)

    def permission(self, name: str) -> Permission:
        spec = self.spec(name)
        stored = self.prefs.permissions.get(name)
        if stored is not None:
            return Permission(stored)
        return spec.default_permission if spec is not None else Permission.DENY

    def why_unavailable(self, name: str) -> str:
        """Empty when the tool may run; else why not (for the model and the Tools tab)."""
        spec = self.spec(name)
        if spec is None:
            return f"there is no tool named {name!r}"
        if name in self._problems:
            return f"{name} is misconfigured ({self._problems[name]})"
        if spec.unavailable:
            return f"{name} is not available: {spec.unavailable}"
        if name in self.prefs.disabled:
            return f"the user switched {name} off"
        if self.permission(name) is Permission.DENY:
            return f"the user does not allow {name}"
        return ""

    def runnable(self, name: str) -> tuple[ToolSpec, ArgumentValidator] | None:
        """The tool and its validator when it may be called now."""
        spec = self.spec(name)
        if spec is None or self.why_unavailable(name):
            return None
        return spec, self._validators[name]

    def offered(self) -> list[ToolSpec]:
        """The tools the model is told about, in declaration order."""
        return [s for s in self.specs if not self.why_unavailable(s.name)]

    def infos(self) -> list[ToolInfo]:
        """Every declared tool with its state, for the Tools tab."""
        out = []
        for spec in self.specs:
            out.append(ToolInfo(
                name=spec.name, label=spec.label, description=spec.description, source=spec.source,
                side_effecting=spec.side_effecting, permission=self.permission(spec.name),
                default_permission=spec.default_permission, enabled=spec.name not in self.prefs.disabled,
                unavailable=spec.unavailable,
                problems=(self._problems[spec.name],) if spec.name in self._problems else (),
            ))
        return out

    # -- what the session sends ------------------------------------------------------------------

    def function_tools(self) -> list[dict[str, Any]]:
        return [{"type": "function", "name": s.name, "description": s.description, "parameters": dict(s.parameters)}
                for s in self.offered()]

    def session_tools(self) -> tuple[list[dict[str, Any]], list[str]]:
        """``session.tools`` (functions, then MCP servers) and one sentence per MCP server left out."""
        mcp, problems = mcp_tool_entries(self.prefs.mcp_servers, self.secrets)
        return self.function_tools() + mcp, problems

    def tool_choice(self) -> str | dict[str, Any]:
        """``session.tool_choice``: a mode, or the one function the user forces (if it is offered)."""
        choice = self.prefs.tool_choice
        if choice in TOOL_CHOICE_MODES:
            return choice
        if any(s.name == choice for s in self.offered()):
            return {"type": "function", "name": choice}
        log.warning("! tools: tool_choice %r is not an offered tool; using auto", choice)
        return "auto"

    # -- changes from prompts --------------------------------------------------------------------

    def with_permission(self, name: str, permission: Permission) -> ToolPrefs:
        """Set ``name``'s permission (in memory) and return the prefs to store."""
        permissions = dict(self.prefs.permissions)
        spec = self.spec(name)
        if spec is not None and spec.default_permission is permission:
            permissions.pop(name, None)  # back to the default: keep the stored list short
        else:
            permissions[name] = permission.value
        self.prefs = replace(self.prefs, permissions=permissions)
        return self.prefs

    def with_enabled(self, name: str, enabled: bool) -> ToolPrefs:
        disabled = set(self.prefs.disabled)
        (disabled.discard if enabled else disabled.add)(name)
        self.prefs = replace(self.prefs, disabled=frozenset(disabled))
        return self.prefs

    def with_mcp_trust(self, label: str, tool: str) -> ToolPrefs:
        self.prefs = replace(self.prefs, mcp_servers=trust_tool(self.prefs.mcp_servers, label, tool))
        return self.prefs

    def with_mcp_servers(self, servers: Sequence[McpServerConfig]) -> ToolPrefs:
        self.prefs = replace(self.prefs, mcp_servers=tuple(servers))
        return self.prefs
