"""Asking the user before a tool runs: the request, the three answers, and the timeout to deny.

The UI (a dialog) and headless mode (a policy or a prompt on the terminal) each supply an
:data:`Approver`; the tools package never knows which. :func:`ask` wraps every approver: a prompt
nobody answers within the timeout is a denial, and an approver that fails denies too (logged), so
a broken prompt can never let a call through.

The arguments are shown exactly as the tool will get them: the parsed JSON, pretty-printed, with
control and invisible formatting characters (bidi overrides, zero-width spaces) written as
``\\uXXXX`` escapes, so what the user reads is what runs.
"""

from __future__ import annotations

import asyncio
import enum
import json
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.log import get_logger, redact

log = get_logger("tools")

DEFAULT_APPROVAL_TIMEOUT_S = 60.0


class Decision(str, enum.Enum):
    """The user's answer to a permission prompt."""

    ALLOW_ONCE = "allow_once"
    ALWAYS = "always"
    DENY = "deny"

    @property
    def allows(self) -> bool:
        return self is not Decision.DENY


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What the prompt shows. ``kind`` is ``function`` (a Parley tool) or ``mcp`` (a server's tool)."""

    call_id: str
    tool: str
    label: str
    description: str
    arguments: Mapping[str, Any] | None  # None when the text is not a JSON object (MCP: shown raw)
    arguments_text: str
    side_effecting: bool
    timeout_s: float
    kind: str = "function"
    server_label: str = ""

    @property
    def title(self) -> str:
        where = f" on the MCP server “{self.server_label}”" if self.kind == "mcp" else ""
        return f"Allow the assistant to use “{self.label}”{where}?"


Approver = Callable[[ApprovalRequest], Awaitable[Decision]]
"""``await approver(request) -> Decision``; may take as long as the user needs (the timeout applies)."""


def fixed_approver(decision: Decision) -> Approver:
    """An approver that always gives ``decision`` without asking (headless runs with a policy flag)."""
    async def answer(request: ApprovalRequest) -> Decision:
        log.info("= tools: %s for %s by the fixed policy", decision.value, request.tool)
        return decision

    return answer


def display_arguments(arguments: Mapping[str, Any]) -> str:
    """Pretty JSON of ``arguments`` with every invisible or control character escaped."""
    text = json.dumps(arguments, indent=2, ensure_ascii=False, sort_keys=False)
    return "".join(_visible(ch) for ch in text)


def _visible(ch: str) -> str:
    if ch == "\n":
        return ch  # the pretty-printer's own line breaks (string contents are already escaped)
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") or (category == "Zs" and ch != " "):
        return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
    return ch


async def ask(approver: Approver | None, request: ApprovalRequest) -> tuple[Decision, str]:
    """The user's decision and how it came about (``asked``, ``timed out``, ``no prompt``, ``prompt failed``)."""
    if approver is None:
        log.info("= tools: %s needs approval and nobody can be asked: denied", request.tool)
        return Decision.DENY, "no prompt"
    log.info("= tools: asking to run %s%s with %s", request.tool,
             f" ({request.server_label})" if request.server_label else "", redact(request.arguments_text[:500]))
    try:
        decision = await asyncio.wait_for(approver(request), request.timeout_s)
    except asyncio.TimeoutError:
        log.info("= tools: nobody answered for %s within %.0f s: denied", request.tool, request.timeout_s)
        return Decision.DENY, "timed out"
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a broken prompt must never let a call through
        log.error("! tools: the permission prompt for %s failed: %r; denied", request.tool, exc, exc_info=exc)
        return Decision.DENY, "prompt failed"
    if not isinstance(decision, Decision):
        log.error("! tools: the permission prompt answered %r, not a Decision; denied", decision)
        return Decision.DENY, "prompt failed"
    log.info("= tools: user answered %s for %s", decision.value, request.tool)
    return decision, "asked"
