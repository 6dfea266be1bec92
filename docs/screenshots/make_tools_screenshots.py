"""Regenerate ``docs/screenshots/tools-tab.png`` and ``tool-permission.png`` from the real widgets.

The Tools tab is built on the real registry (every built-in, a ``tools.toml`` with one working and
one broken entry, one MCP server) and the prompt on a real request, so the pictures change when the
widgets do.

    xvfb-run -a -s "-screen 0 1280x900x24" .venv/bin/python docs/screenshots/make_tools_screenshots.py [--dark]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["PARLEY_HOME"] = tempfile.mkdtemp(prefix="parley-screenshot-")  # never the user's settings

TOOLS_TOML = """\
[[tool]]
name = "weather"
type = "http"
description = "Current weather for a city."
url = "https://api.example.com/v1/weather?city={city}"
[tool.headers]
Authorization = "Bearer {secret:weather-token}"
[tool.params.city]
type = "string"

[[tool]]
name = "disk_usage"
type = "command"
description = "How much space a folder uses."
argv = "du -sh ~"
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    options = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from desktop_app.settings.store import SettingsStore
    from desktop_app.settings.tools import McpServerConfig, ToolPrefs
    from desktop_app.tools import ToolRegistry
    from desktop_app.tools.approval import ApprovalRequest, display_arguments
    from desktop_app.tools.builtins import BuiltinProviders, builtin_tools
    from desktop_app.tools.secrets import MemorySecrets
    from desktop_app.ui import theme as themes
    from desktop_app.ui.dialogs.tool_permission import ToolPermissionDialog
    from desktop_app.ui.widgets.tool_providers import QtClipboard, QtUrlOpener
    from desktop_app.ui.widgets.tools_tab import ToolsTab

    app = QApplication(sys.argv)
    theme = themes.apply(app, options.dark)
    home = Path(os.environ["PARLEY_HOME"])
    tools_file = home / "config" / "tools" / "tools.toml"
    tools_file.parent.mkdir(parents=True)
    tools_file.write_text(TOOLS_TOML)
    store = SettingsStore(home / "settings.ini")
    store.update(mcp_servers=(McpServerConfig(label="docs", url="https://mcp.example.com/mcp",
                                              trusted_tools=("search_docs",)),),
                 tool_permissions=(("convert_units", "allow"), ("open_url", "ask")))
    registry = ToolRegistry(builtin_tools(BuiltinProviders(clipboard=QtClipboard(), opener=QtUrlOpener(),
                                                           notes_dir=home / "notes")),
                            prefs=ToolPrefs.from_settings(store.settings), secrets=MemorySecrets())
    tab = ToolsTab(theme, registry, store, tools_file=tools_file, secrets=MemorySecrets(), open_file=lambda _p: True)
    tab.reload()
    tab.resize(560, 1040)
    tab.show()
    app.processEvents()
    page = tab.widget()
    page.resize(page.sizeHint().expandedTo(tab.viewport().size()))
    tab.resize(560, page.sizeHint().height() + 4)
    app.processEvents()
    tab.grab().save(str(options.out / "tools-tab.png"))

    arguments = {"url": "https://www.example.com/recipes?dish=pancakes"}
    request = ApprovalRequest(call_id="call_1", tool="open_url", label="Open a web page",
                              description="Open a web page (http or https) in the user's browser.",
                              arguments=arguments, arguments_text=display_arguments(arguments),
                              side_effecting=True, timeout_s=60)
    dialog = ToolPermissionDialog(theme, request)
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(options.out / "tool-permission.png"))
    print(f"wrote {options.out / 'tools-tab.png'} and {options.out / 'tool-permission.png'}")


if __name__ == "__main__":
    main()
