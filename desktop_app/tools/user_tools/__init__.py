"""User tools from ``tools.toml`` in the tools folder: HTTP requests and commands, validated at load.

:func:`load_user_tools` returns every entry with its tool or the problems that disabled it;
:func:`ensure_tools_file` creates the commented template for "Edit…".
"""

from desktop_app.tools.user_tools.loader import (
    FILE_NAME, TEMPLATE, ToolFileProblem, UserToolEntry, UserTools, ensure_tools_file, load_user_tools,
)

__all__ = ["FILE_NAME", "TEMPLATE", "ToolFileProblem", "UserToolEntry", "UserTools", "ensure_tools_file",
           "load_user_tools"]
