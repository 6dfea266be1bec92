"""The local server's shape (issue 17): small modules, no mixins, no import circles, documented, and
from the rest of the app only what docs/architecture.md allows it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "desktop_app" / "local_server"
# The core's model list; the codecs (G.711, resampling); logging setup and the one log summariser.
ALLOWED_OUTSIDE = {"desktop_app.realtime.models", "desktop_app.audio.codecs", "desktop_app.log", "desktop_app.logtext",
                   "desktop_app.ice", "desktop_app.rtp_audio"}  # what WebRTC calls share with the client


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def imported(tree: ast.Module) -> set[str]:
    """Every ``desktop_app`` module a module imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("desktop_app"):
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("desktop_app"))
    return names


def test_no_module_is_over_400_lines():
    long = {p.name: n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}


def test_every_module_and_public_class_has_a_docstring():
    missing = []
    for name, tree in modules().items():
        if ast.get_docstring(tree) is None:
            missing.append(name)
        missing += [f"{name}.{node.name}" for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                    and not node.name.startswith("_") and ast.get_docstring(node) is None]
    assert missing == []


def test_no_mixins_a_class_has_at_most_one_base():
    mixed = [f"{name}.{node.name}" for name, tree in modules().items() for node in ast.walk(tree)
             if isinstance(node, ast.ClassDef) and (len(node.bases) > 1 or node.name.endswith("Mixin"))]
    assert mixed == []


def test_the_package_has_no_import_circle():
    found = modules()
    graph = {name: {dep for dep in imported(tree) if dep in found and dep != name} for name, tree in found.items()}
    circles = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                circles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_from_the_rest_of_the_app_it_imports_only_what_the_architecture_allows():
    outside = set()
    for tree in modules().values():
        outside |= {m for m in imported(tree) if not m.startswith("desktop_app.local_server")}
    # ``from desktop_app.log import get_logger`` also names ``desktop_app.log.get_logger``: keep modules.
    outside = {m for m in outside if not any(m.startswith(a + ".") for a in ALLOWED_OUTSIDE)}
    assert outside <= ALLOWED_OUTSIDE
