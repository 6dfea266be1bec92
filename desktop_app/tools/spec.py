"""What a tool is, what a call and its result are, and the one shape of every answer to the model.

A tool is declared once as a :class:`ToolSpec`: name, description, JSON-schema parameters, the
default permission, whether it changes anything (side-effecting tools default to ``ask``), its
timeout, output cap and rate limit, and the coroutine that runs it. The same declaration produces
the ``session.tools`` entry, validates the arguments and drives the permission prompt.

Every answer to the model (``function_call_output.output``) is a JSON string: the tool's result on
success, ``{"error": {"type": …, "message": …}}`` otherwise. ``ToolError`` is how a tool reports a
failure the model should explain to the user; anything else a tool raises is logged in full and
answered as an internal error.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop_app.settings.tools import TOOL_NAME

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_OUTPUT = 16_000
DEFAULT_RATE_PER_MINUTE = 30

ToolOutput = str | Mapping[str, Any] | list[Any]
"""What a tool returns: text, or a JSON-ready mapping or list."""


class Permission(str, enum.Enum):
    """Whether a tool runs: always, after the user says yes, or never."""

    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"


class Status(str, enum.Enum):
    """How a call ended; everything but ``OK`` is answered as a structured error."""

    OK = "ok"
    FAILED = "failed"  # the tool ran and reported a failure (ToolError)
    INVALID = "invalid_arguments"
    UNKNOWN = "unknown_tool"
    DENIED = "denied"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal_error"


class ToolError(Exception):
    """A failure the model should hear about (a bad city name, a refused URL, an HTTP 404).

    ``message`` is sent to the model; it must not contain secrets. ``kind`` is the error type
    (``failed`` by default; the security checks use ``refused``).
    """

    def __init__(self, message: str, *, kind: str = "failed", details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.details = details or []


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a running tool may know about its call."""

    call_id: str
    name: str
    timeout_s: float


ToolFunction = Callable[[Mapping[str, Any], CallContext], Awaitable[ToolOutput]]
"""``await run(arguments, context)``: the validated arguments in, the result out (or ToolError)."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool, declared once. ``parameters`` is a JSON schema of an object (made strict on use)."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    run: ToolFunction
    title: str = ""
    side_effecting: bool = False
    permission: Permission | None = None  # None: ask if side-effecting, else allow
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_output_chars: int = DEFAULT_MAX_OUTPUT
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE
    source: str = "built-in"  # or the user tools file's name
    unavailable: str = ""  # non-empty: why it cannot run now (it is not offered to the model)

    def __post_init__(self) -> None:
        if not TOOL_NAME.match(self.name):
            raise ValueError(f"tool name {self.name!r} must be 1–64 letters, digits, _ or -")
        if not self.description.strip():
            raise ValueError(f"tool {self.name}: a description tells the model when to use it")
        if self.parameters.get("type") != "object":
            raise ValueError(f"tool {self.name}: parameters must be a JSON schema of type object")
        if not 0 < self.timeout_s <= 600:
            raise ValueError(f"tool {self.name}: timeout must be between 0 and 600 s")
        if not 200 <= self.max_output_chars <= 1_000_000:
            raise ValueError(f"tool {self.name}: output cap must be 200–1,000,000 characters")
        if not 1 <= self.rate_per_minute <= 600:
            raise ValueError(f"tool {self.name}: rate limit must be 1–600 calls a minute")

    @property
    def default_permission(self) -> Permission:
        """The permission before the user changes it: side-effecting tools ask first."""
        if self.permission is not None:
            return self.permission
        return Permission.ASK if self.side_effecting else Permission.ALLOW

    @property
    def label(self) -> str:
        """A human name for the UI."""
        return self.title or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call from the model: ``arguments`` is the raw JSON text it sent."""

    call_id: str
    name: str
    arguments: str
    item_id: str = ""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The answer to one call. ``output`` is the ``function_call_output.output`` to send."""

    call_id: str
    name: str
    output: str
    status: Status
    elapsed_s: float = 0.0
    truncated: bool = False
    decision: str = ""  # how permission was settled: allowed, asked-once, asked-always, denied, …

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


def error_output(kind: str, message: str, details: list[dict[str, str]] | None = None) -> str:
    """The JSON the model gets for a failed call."""
    error: dict[str, Any] = {"type": kind, "message": message}
    if details:
        error["details"] = details
    return json.dumps({"error": error}, ensure_ascii=False)


def success_output(value: ToolOutput) -> str:
    """The JSON text of a tool's result (text results are sent as ``{"result": text}``)."""
    if isinstance(value, str):
        return json.dumps({"result": value}, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def cap_output(output: str, limit: int) -> tuple[str, bool]:
    """``output`` if it fits in ``limit`` characters; else valid JSON holding its head and a note.

    The note tells the model the answer is incomplete, so it does not present a fragment as whole.
    """
    if len(output) <= limit:
        return output, False
    overhead = 200
    head = output[: max(0, limit - overhead)]
    capped = json.dumps({
        "truncated_output": head,
        "note": f"The output was {len(output):,} characters long and was cut to the first {len(head):,}; "
                "say that the answer is incomplete if it matters.",
    }, ensure_ascii=False)
    while len(capped) > limit and head:  # escaping may have grown it: shrink until it fits
        head = head[: len(head) - max(1, len(capped) - limit)]
        capped = json.dumps({"truncated_output": head, "note": f"The output was {len(output):,} characters "
                             f"long and was cut to the first {len(head):,}."}, ensure_ascii=False)
    return capped, True


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """One row of the Tools tab: a declared tool and its effective state."""

    name: str
    label: str
    description: str
    source: str
    side_effecting: bool
    permission: Permission
    default_permission: Permission
    enabled: bool
    unavailable: str = ""
    problems: tuple[str, ...] = field(default=())
