"""The protocol core imports nothing outside the standard library (architecture.md §1)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import desktop_app.realtime as package

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(f"desktop_app.realtime.{m.name}" for m in pkgutil.iter_modules(package.__path__))

PROBE = textwrap.dedent(
    """
    import importlib, sys
    sys.path.insert(0, {root!r})
    before = set(sys.modules)
    for name in {modules!r}:
        importlib.import_module(name)
    tops = {{m.split(".")[0] for m in set(sys.modules) - before}}
    print(",".join(sorted(t for t in tops if t not in sys.stdlib_module_names and t != "desktop_app")))
    """
)


def _run_probe(*flags: str) -> subprocess.CompletedProcess[str]:
    code = PROBE.format(root=str(ROOT), modules=MODULES)
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_every_realtime_module_is_probed():
    assert {"desktop_app.realtime.connection", "desktop_app.realtime.session_config",
            "desktop_app.realtime.parse"} <= set(MODULES)


def test_realtime_modules_load_no_non_stdlib_top_level_module():
    result = _run_probe()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"non-stdlib imports: {result.stdout.strip()}"


def test_realtime_modules_import_without_site_packages():
    # -S drops site-packages entirely: any third-party import, even a lazy one at module level,
    # fails here with ImportError.
    result = _run_probe("-S")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
