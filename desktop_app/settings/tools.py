"""Tool settings: which built-in tools are off, per-tool permissions, ``tool_choice``, MCP servers.

The values live in the settings store like every other setting (``schema.py`` declares them); this
module holds their item types and rules so the tools package can use them without the store (and
without Qt). :class:`McpServerConfig` is persisted as a plain dict, like an endpoint profile. A
server's token is never here: ``token_name`` names a secret in the keyring
(:class:`desktop_app.tools.secrets.ToolSecrets`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

#: A function or MCP tool name, as the service accepts it (realtime-protocol.md §2.1).
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: What a secret (a keyring entry for tools) may be called.
SECRET_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

PERMISSIONS: tuple[str, ...] = ("allow", "ask", "deny")
TOOL_CHOICE_MODES: tuple[str, ...] = ("auto", "none", "required")
#: ``ask``: every call of a tool not trusted is approved by the user (the server always asks);
#: ``never``: the server runs the server's tools without asking.
MCP_APPROVAL: tuple[str, ...] = ("ask", "never")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _text(value: Any, what: str, *, limit: int = 2048) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError(f"{what} must not contain line breaks")
    return value


def _names(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{what} must be a list of tool names")
    out = []
    for name in value:
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise ValueError(f"{what}: {name!r} is not a valid tool name")
        if name not in out:
            out.append(name)
    return tuple(out)


def check_mcp_url(url: str) -> str:
    """``url`` if it can be an MCP server's address (https, or http on this computer), else ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValueError("an MCP server must use https (plain http only on this computer)")
    if parts.username or parts.password:
        raise ValueError("put credentials in a token, not in the URL")
    return url


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One remote MCP server the model may use (sent as a ``type: "mcp"`` tool).

    ``allowed_tools`` empty means every tool the server lists. ``trusted_tools`` are approved
    without asking (the user chose "Always" once). ``auth_header`` empty sends the token as the
    tool's ``authorization`` (an OAuth bearer token); otherwise as that HTTP header.
    """

    label: str
    url: str
    description: str = ""
    token_name: str = ""
    auth_header: str = ""
    allowed_tools: tuple[str, ...] = ()
    approval: str = "ask"
    trusted_tools: tuple[str, ...] = ()
    enabled: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not TOOL_NAME.match(self.label):
            raise ValueError(f"MCP server label {self.label!r} must be 1–64 letters, digits, _ or -")
        check_mcp_url(_text(self.url, "the MCP server URL"))
        _text(self.description, "the description", limit=1024)
        if self.token_name and not SECRET_NAME.match(_text(self.token_name, "the token name")):
            raise ValueError(f"token name {self.token_name!r} must be letters, digits, '.', '_' or '-'")
        if self.auth_header and not re.fullmatch(r"[A-Za-z0-9-]{1,64}", _text(self.auth_header, "the header")):
            raise ValueError(f"{self.auth_header!r} is not an HTTP header name")
        object.__setattr__(self, "allowed_tools", _names(self.allowed_tools, "allowed tools"))
        object.__setattr__(self, "trusted_tools", _names(self.trusted_tools, "trusted tools"))
        if self.approval not in MCP_APPROVAL:
            raise ValueError(f"approval must be one of {', '.join(MCP_APPROVAL)}, not {self.approval!r}")
        if not isinstance(self.enabled, bool):
            raise ValueError("enabled must be true or false")

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-ready)."""
        return {
            "label": self.label, "url": self.url, "description": self.description,
            "token_name": self.token_name, "auth_header": self.auth_header,
            "allowed_tools": list(self.allowed_tools), "approval": self.approval,
            "trusted_tools": list(self.trusted_tools), "enabled": self.enabled,
        }


def mcp_server_item(value: Any) -> McpServerConfig:
    """The settings item builder: a stored dict (or a config) → a valid :class:`McpServerConfig`."""
    if isinstance(value, McpServerConfig):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"an MCP server must be a table, not {type(value).__name__}")
    known = set(McpServerConfig.__dataclass_fields__)
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValueError(f"unknown MCP server fields: {', '.join(map(str, unknown))}")
    try:
        return McpServerConfig(**dict(value))
    except TypeError as exc:  # a required field missing
        raise ValueError(str(exc)) from None


def check_mcp_servers(servers: tuple[McpServerConfig, ...]) -> None:
    """Labels identify servers in requests from the model: they must be unique."""
    labels = [s.label for s in servers]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"MCP server labels must be unique (repeated: {', '.join(repeated)})")


def tool_permission_item(value: Any) -> tuple[str, str]:
    """The settings item builder for one ``[tool name, permission]`` override."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"a tool permission must be [name, permission], not {value!r}")
    name, permission = value
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid tool name")
    if permission not in PERMISSIONS:
        raise ValueError(f"permission must be one of {', '.join(PERMISSIONS)}, not {permission!r}")
    return (name, permission)


def tool_name_item(value: Any) -> str:
    """The settings item builder for a tool name in a list."""
    if not isinstance(value, str) or not TOOL_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid tool name")
    return value


def check_tool_choice(choice: str) -> None:
    """``auto``, ``none``, ``required``, or the name of one function tool the model must call."""
    if choice not in TOOL_CHOICE_MODES and not TOOL_NAME.match(choice):
        raise ValueError(f"{choice!r} is neither {', '.join(TOOL_CHOICE_MODES)} nor a tool name")


class ToolSettingsSource(Protocol):
    """What :meth:`ToolPrefs.from_settings` reads (the store's ``Settings`` snapshot has these)."""

    @property
    def tools_disabled(self) -> tuple[Any, ...]: ...
    @property
    def tool_permissions(self) -> tuple[Any, ...]: ...
    @property
    def tool_choice(self) -> str: ...
    @property
    def mcp_servers(self) -> tuple[Any, ...]: ...


@dataclass(frozen=True, slots=True)
class ToolPrefs:
    """The user's tool choices, as the tools package reads them."""

    disabled: frozenset[str] = frozenset()
    permissions: Mapping[str, str] = field(default_factory=dict)
    tool_choice: str = "auto"
    mcp_servers: tuple[McpServerConfig, ...] = ()

    @classmethod
    def from_settings(cls, settings: ToolSettingsSource) -> ToolPrefs:
        """The prefs held in a settings snapshot."""
        return cls(
            disabled=frozenset(str(n) for n in settings.tools_disabled),
            permissions={str(n): str(p) for n, p in settings.tool_permissions},
            tool_choice=settings.tool_choice,
            mcp_servers=tuple(mcp_server_item(s) for s in settings.mcp_servers),
        )

    def settings_changes(self) -> dict[str, Any]:
        """The ``SettingsStore.update(**changes)`` keywords that store these prefs."""
        return {
            "tools_disabled": tuple(sorted(self.disabled)),
            "tool_permissions": tuple(sorted(self.permissions.items())),
            "tool_choice": self.tool_choice,
            "mcp_servers": self.mcp_servers,
        }
