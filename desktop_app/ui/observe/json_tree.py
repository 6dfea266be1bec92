"""A JSON value as a collapsible tree: objects and lists fold, scalars show their JSON text."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

#: Objects and lists are opened this deep when shown; deeper ones start folded.
OPEN_DEPTH = 2


def _label(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{{len(value)}}}"
    if isinstance(value, list):
        return f"[{len(value)}]"
    return json.dumps(value, ensure_ascii=False)


def _add(parent: QTreeWidgetItem, key: str, value: Any, depth: int) -> None:
    item = QTreeWidgetItem(parent, [key, _label(value)])
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for child_key, child in children:
        _add(item, str(child_key), child, depth + 1)
    item.setExpanded(depth < OPEN_DEPTH)


def show_json(tree: QTreeWidget, value: Any) -> None:
    """Replace ``tree``'s contents with ``value`` (two columns: key, value)."""
    tree.clear()
    root = tree.invisibleRootItem()
    if isinstance(value, dict):
        for key, child in value.items():
            _add(root, str(key), child, 0)
    else:
        _add(root, "", value, 0)
    tree.resizeColumnToContents(0)
