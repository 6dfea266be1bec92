"""The GPT-Live core imports only the standard library and the Realtime core's shared vocabulary."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import desktop_app.live as package

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(f"desktop_app.live.{m.name}" for m in pkgutil.iter_modules(package.__path__))

PROBE = textwrap.dedent(
    """
    import importlib, sys
    sys.path.insert(0, {root!r})
    before = set(sys.modules)
    for name in {modules!r}:
        importlib.import_module(name)
    new = set(sys.modules) - before
    tops = {{m.split(".")[0] for m in new}}
    ours = {{m.split(".")[1] for m in new if m.startswith("desktop_app.") and m.count(".") >= 1}}
    print(",".join(sorted(t for t in tops if t not in sys.stdlib_module_names and t != "desktop_app")))
    print(",".join(sorted(ours)))
    """
)


def test_the_live_core_imports_only_the_standard_library_and_realtime():
    code = PROBE.format(root=str(ROOT), modules=MODULES)
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60, check=True)
    third_party, ours = out.stdout.splitlines()
    assert third_party == ""
    assert set(ours.split(",")) <= {"live", "realtime", "log", "logtext"}
