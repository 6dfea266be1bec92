"""The entry points start, report their version and exit cleanly."""

from __future__ import annotations

import os
import subprocess
import sys

from desktop_app import __version__
from desktop_app.app import main


def test_version_flag_prints_version_and_exits_zero(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"parley {__version__}"


def test_module_entry_point_reports_version():
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"parley {__version__}"


def test_gui_starts_and_quits_cleanly_offscreen():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--quit-after", "0.3"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "window shown" in out.stderr
    assert "shut down cleanly" in out.stderr
    assert "Traceback" not in out.stderr
