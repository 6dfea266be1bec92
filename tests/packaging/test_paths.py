"""desktop_app.paths: the platform's directories, PARLEY_HOME, and the app logging into them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import paths

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def xdg(monkeypatch, tmp_path):
    """Point the XDG base directories at a temporary home; no PARLEY_HOME."""
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    dirs = {name: tmp_path / name.lower() for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}
    for name, value in dirs.items():
        monkeypatch.setenv(name, str(value))
    return dirs


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG layout is Linux's")
def test_linux_places_follow_the_xdg_base_directories(xdg):
    assert paths.config_dir() == xdg["XDG_CONFIG_HOME"] / "Parley"
    assert paths.data_dir() == xdg["XDG_DATA_HOME"] / "Parley"
    assert paths.log_dir() == xdg["XDG_STATE_HOME"] / "Parley" / "logs"
    assert paths.log_file() == xdg["XDG_STATE_HOME"] / "Parley" / "logs" / "parley.log"
    assert paths.tools_dir() == xdg["XDG_CONFIG_HOME"] / "Parley" / "tools"


def test_macos_logs_go_to_library_logs(monkeypatch):
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert paths.log_dir().parts[-3:] == ("Library", "Logs", "Parley")


def test_windows_logs_live_beside_the_data(monkeypatch):
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    monkeypatch.setattr(sys, "platform", "win32")
    assert paths.log_dir() == paths.data_dir() / "logs"


def test_parley_home_puts_everything_under_it(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path))
    places = paths.describe()
    for name in ("config", "data", "logs", "tools"):
        assert places[name].is_relative_to(tmp_path), name
    assert len({paths.config_dir(), paths.data_dir(), paths.log_dir()}) == 3


def test_nothing_is_created_until_asked(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    paths.describe()
    assert not (tmp_path / "home").exists()
    created = paths.ensure_dir(paths.tools_dir())
    assert created.is_dir()
    if os.name == "posix":
        assert created.stat().st_mode & 0o077 == 0


def test_resources_come_from_the_source_tree_or_the_bundle(monkeypatch, tmp_path):
    assert paths.resources_dir() == REPO / "resources"
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == tmp_path / "resources"


def test_paths_need_no_qapplication_and_match_across_processes(monkeypatch):
    """A fresh interpreter (no QApplication, different argv[0]) computes the same places."""
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    env = dict(os.environ)
    code = (
        "import sys; sys.argv[0] = 'some-other-name';"
        "from desktop_app import paths; from PySide6.QtCore import QCoreApplication;"
        "print(paths.config_dir(), paths.data_dir(), paths.log_file(), paths.tools_dir(), sep='\\n');"
        "assert QCoreApplication.instance() is None"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    here = [str(paths.config_dir()), str(paths.data_dir()), str(paths.log_file()), str(paths.tools_dir())]
    assert out.stdout.split("\n")[:4] == here


def test_app_writes_its_log_file_into_the_log_dir(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PARLEY_HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--quit-after", "0"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert out.returncode == 0, out.stderr
    log = (tmp_path / "logs" / "parley.log").read_text(encoding="utf-8")
    assert "window shown" in log
