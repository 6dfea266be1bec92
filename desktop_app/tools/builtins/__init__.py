"""The built-in tools, each one switchable off in the Tools tab.

:func:`builtin_tools` declares them all with the providers the running mode has; a tool whose
provider is missing (no clipboard headless, no history yet) is declared but unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop_app.tools.builtins.calculator import make_calculator_tool
from desktop_app.tools.builtins.clock import make_clock_tools
from desktop_app.tools.builtins.desktop import ClipboardReader, UrlOpener, make_desktop_tools
from desktop_app.tools.builtins.history import HistoryHit, HistorySearch, make_history_tool
from desktop_app.tools.builtins.notes import make_notes_tools
from desktop_app.tools.builtins.units import make_units_tool
from desktop_app.tools.spec import ToolSpec

__all__ = ["BuiltinProviders", "ClipboardReader", "HistoryHit", "HistorySearch", "UrlOpener", "builtin_tools"]


@dataclass(frozen=True, slots=True)
class BuiltinProviders:
    """What the built-in tools need from the app. ``notes_dir`` defaults to ``<data>/notes``."""

    clipboard: ClipboardReader | None = None
    opener: UrlOpener | None = None
    history: HistorySearch | None = None
    notes_dir: Path | None = None
    now: Callable[[], datetime] | None = None  # an aware datetime; tests pin it


def builtin_tools(providers: BuiltinProviders = BuiltinProviders()) -> list[ToolSpec]:
    """Every built-in tool, in the order the Tools tab lists them."""
    from desktop_app import paths

    notes_dir = providers.notes_dir if providers.notes_dir is not None else paths.data_dir() / "notes"
    pinned = providers.now
    local_now: Callable[[], datetime] = (lambda: pinned().astimezone()) if pinned is not None else datetime.now
    return [
        *make_clock_tools(providers.now),
        make_calculator_tool(),
        make_units_tool(),
        *make_desktop_tools(providers.clipboard, providers.opener),
        *make_notes_tools(notes_dir, local_now),
        make_history_tool(providers.history),
    ]
