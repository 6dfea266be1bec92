"""Tools the assistant may use: declared once, validated strictly, run only with the user's consent.

* :mod:`~desktop_app.tools.spec` — :class:`ToolSpec`, :class:`ToolCall`, :class:`ToolResult`, the
  answer shapes.
* :mod:`~desktop_app.tools.registry` — :class:`ToolRegistry`: declarations + the user's choices →
  ``session.tools`` and ``tool_choice``.
* :mod:`~desktop_app.tools.toolbox` — :class:`ToolBox.run_calls`, the controller's one entry point.
* :mod:`~desktop_app.tools.approval` — the permission prompt's request and answers (:data:`Approver`).
* :mod:`~desktop_app.tools.validation`, :mod:`~desktop_app.tools.security`,
  :mod:`~desktop_app.tools.ratelimit` — the checks between the model and the computer.
* :mod:`~desktop_app.tools.builtins` — date/time, calculator, units, clipboard, open URL, notes,
  conversation search.
* :mod:`~desktop_app.tools.user_tools` — HTTP and command tools from ``tools.toml``.
* :mod:`~desktop_app.tools.mcp` — remote MCP servers: ``type: "mcp"`` entries and approvals.

Nothing here imports Qt: the clipboard, the browser and the prompt are injected.
"""

from desktop_app.tools.approval import ApprovalRequest, Approver, Decision
from desktop_app.tools.registry import ToolRegistry
from desktop_app.tools.spec import Permission, Status, ToolCall, ToolError, ToolResult, ToolSpec
from desktop_app.tools.toolbox import ToolActivity, ToolBox, call_from_item, calls_from_response

__all__ = [
    "ApprovalRequest", "Approver", "Decision", "Permission", "Status", "ToolActivity", "ToolBox", "ToolCall",
    "ToolError", "ToolRegistry", "ToolResult", "ToolSpec", "call_from_item", "calls_from_response",
]
