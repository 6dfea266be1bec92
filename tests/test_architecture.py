"""The layer rules of docs/architecture.md, checked on the source (AST), so a break fails CI.

* Capabilities are declared, never probed: no ``hasattr(x, …)`` and no ``getattr(x, "name", default)``
  in ``desktop_app/`` (reflection over one's own dataclass fields and a short list of standard-library
  idioms are allowed, each with its reason below).
* ``ui/`` and ``headless/`` never reach through the controller (``.link``, ``.conn``, ``.mic`` or
  private attributes of other objects).
* No import circles between modules of ``desktop_app``; no mixins; no module over 400 lines; a
  package never imports upward (``realtime`` and ``transport`` know nothing of the controller or UI).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "desktop_app"
SOURCES = sorted(PACKAGE.rglob("*.py"))

#: ``getattr`` with a default that is not capability probing, with the reason.
ALLOWED_GETATTR = {
    ("paths.py", "_MEIPASS"): "PyInstaller's bootloader sets sys._MEIPASS only inside a bundle",
    ("selfcheck.py", "frozen"): "sys.frozen exists only inside a bundle",
    ("selfcheck.py", "__version__"): "third-party modules may not carry a version",
    ("selfcheck.py", "backends"): "keyring's chainer backend has members, others do not (reporting only)",
    ("settings/secrets.py", "backends"): "keyring's chainer backend has members, others do not",
    ("transport/socket.py", "errno"): "only OSError subclasses carry errno",
    ("settings/ephemeral.py", "reason"): "urllib's URLError carries a reason, other errors do not",
    ("log.py", "_parley"): "marks Parley's own handlers among whatever the root logger has",
    ("selfcheck.py", "_parley"): "marks Parley's own handlers among whatever the root logger has",
    ("ui/bootstrap.py", "quit_after"): "an argparse namespace built by a caller that may not define it",
    ("selfcheck.py", "log_level"): "an argparse namespace built by a caller that may not define it",
    ("local_server/speech/__init__.py", "frozen"): "sys.frozen exists only inside a bundle",
    ("audio/device_watch.py", "frozen"): "sys.frozen exists only inside a bundle",
    ("local_server/speech/__init__.py", "_broken"): "concurrent.futures marks a dead pool only in a private field",
}
#: Attribute names the UI and headless mode must not use on the controller (or its session).
REACH_THROUGH = {"link", "conn", "mic"}
#: Names under which the UI and headless mode hold the controller.
CONTROLLERS = {"controller", "ctl"}


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_no_capability_probing_with_hasattr_or_getattr_defaults():
    found = []
    for path in SOURCES:
        for node in ast.walk(_tree(path)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id == "hasattr":
                found.append(f"{_rel(path)}:{node.lineno} hasattr")
            elif node.func.id == "getattr" and len(node.args) == 3 and isinstance(node.args[1], ast.Constant):
                # A literal name with a fallback asks "does it have X?"; a variable name is field
                # reflection over a declared dataclass, which is fine.
                name = node.args[1].value
                if (_rel(path), name) not in ALLOWED_GETATTR:
                    found.append(f"{_rel(path)}:{node.lineno} getattr(…, {name!r}, default)")
    assert not found, "declare the capability in a Protocol instead of probing it:\n" + "\n".join(found)


@pytest.mark.parametrize("layer", ["ui", "headless"])
def test_ui_and_headless_do_not_reach_through_the_controller(layer: str):
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            held = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
            private = node.attr.startswith("_") and not node.attr.startswith("__")
            if node.attr in ("link", "conn") or (held in CONTROLLERS and (node.attr in REACH_THROUGH or private)):
                found.append(f"{_rel(path)}:{node.lineno} {held}.{node.attr}")
    assert not found, f"{layer}/ must use the controller's and session's own methods:\n" + "\n".join(found)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """desktop_app modules imported at module level (not inside functions or TYPE_CHECKING)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in _tree(path).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if isinstance(node, ast.Try | ast.If) else [node]:
            if isinstance(sub, ast.Import):
                out.update(a.name for a in sub.names if a.name.startswith("desktop_app"))
            elif isinstance(sub, ast.ImportFrom):
                base = sub.module or ""
                if sub.level:
                    anchor = package.split(".")[: len(package.split(".")) - sub.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                if base.startswith("desktop_app"):
                    out.add(base)
                    out.update(f"{base}.{a.name}" for a in sub.names)
    return out


def test_no_import_circles_between_modules():
    # Package __init__ modules only re-export: edges into them are not dependencies between concepts.
    modules = {_module_name(p): p for p in SOURCES if p.name != "__init__.py"}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path) if m in modules and m != name}
    # Tarjan's strongly connected components: any component with two or more modules is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    assert not circles, f"import circles: {circles}"


def test_no_mixins():
    found = []
    for path in SOURCES:
        tree = _tree(path)
        if "mixin" in (ast.get_docstring(tree) or "").lower():
            found.append(f"{_rel(path)}: the module says it is a mixin")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and (
                    node.name.endswith("Mixin") or "mixin" in (ast.get_docstring(node) or "").lower()):
                found.append(f"{_rel(path)}:{node.lineno} class {node.name}")
            if isinstance(node, ast.FunctionDef) and node.args.args:
                first = node.args.args[0]
                if first.arg == "self" and first.annotation is not None:  # ``self: Controller`` = a mixin
                    found.append(f"{_rel(path)}:{node.lineno} {node.name}(self: {ast.unparse(first.annotation)})")
    assert not found, "compose objects instead of sharing private state through mixins:\n" + "\n".join(found)


MAX_LINES = 400


def test_no_module_over_400_lines():
    long = [f"{_rel(p)}: {n}" for p in SOURCES if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


#: What each package may import from desktop_app (top may import below, never the reverse).
LAYERS = {
    # log and logtext are standard-library-only helpers every layer may use (a test checks realtime/).
    "realtime": {"log", "logtext"},
    "live": {"log", "logtext", "realtime"},  # the second dialect speaks the Realtime core's shared vocabulary
    # ice, rtp_audio: what both ends of a WebRTC call share (ICE candidate scope, track PCM with lost
    # packets concealed); tasks: the task helper.
    "transport": {"errors", "log", "logtext", "tasks", "ice", "rtp_audio", "transport"},
    "audio": {"errors", "log", "audio", "tasks"},
    "settings": {"errors", "log", "settings", "realtime", "paths"},
    # tools: the ToolBox runs the model's calls (no Qt; the prompt and the desktop are injected).
    "controller": {"errors", "log", "logtext", "tasks", "controller", "realtime", "live", "transport", "audio",
                   "settings", "tools"},
    "tools": {"errors", "log", "logtext", "realtime", "paths", "settings"},
    "local_server": {"errors", "log", "logtext", "realtime", "paths", "audio", "ice", "rtp_audio"},  # audio: codecs only
}


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_packages_never_import_upward(package: str):
    allowed = LAYERS[package] | {package}
    found = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[1] if name.count(".") >= 1 else ""
            top = top.removesuffix(".py")
            if top and top not in allowed and top not in ("__init__", "__version__"):
                found.append(f"{_rel(path)} imports {name}")
    assert not found, "\n".join(found)
