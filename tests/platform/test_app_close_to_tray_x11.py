"""Closing the window the way a window manager does (WM_DELETE_WINDOW) under Xvfb, with the app users
run: with a system tray present, the window goes to the tray and Parley keeps running (the notice is
said once, and a second launch brings the window back); without a tray, closing quits."""

from __future__ import annotations

import subprocess
import sys

from tests.platform.xvfb import ROOT, Proc, xvfb  # noqa: F401 (fixture)


def parley_window(xvfb) -> str:  # noqa: ANN001, F811
    return xvfb.xdotool("search", "--sync", "--onlyvisible", "--name", "^Parley$").split()[0]


def visible_parley(xvfb) -> bool:  # noqa: ANN001, F811
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Parley$"], env=xvfb.env(),
                           capture_output=True, text=True, timeout=10)
    return bool(found.stdout.strip())


def test_with_a_tray_closing_hides_and_the_app_keeps_running(xvfb, tmp_path):  # noqa: F811
    env = xvfb.env(PARLEY_HOME=str(tmp_path))
    tray = Proc.python(env, "tests/platform/x11_client.py", "tray")
    app = None
    try:
        tray.expect("tray")
        app = Proc.python(env, "-m", "desktop_app", "--log-level", "INFO", "--quit-after", "60")
        app.expect("window shown", 60)
        window = parley_window(xvfb)
        subprocess.run([sys.executable, "tests/platform/x11_client.py", "close", window], env=env, check=True,
                       timeout=30, cwd=ROOT)
        app.expect("window closed to the tray", 10)
        assert app.proc.poll() is None  # still running
        assert not visible_parley(xvfb)  # hidden, not closed
        second = subprocess.run([sys.executable, "-m", "desktop_app", "--log-level", "INFO"], env=env,
                                capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert second.returncode == 0 and "its window was raised" in second.stderr
        app.expect("a second launch asked for the window", 10)
        assert parley_window(xvfb)  # shown again
        settings = (tmp_path / "config" / "settings.ini").read_text()
        assert "close_to_tray_told=true" in settings
    finally:
        if app is not None:
            app.stop()
        tray.stop()


def test_without_a_tray_closing_quits(xvfb, tmp_path):  # noqa: F811
    env = xvfb.env(PARLEY_HOME=str(tmp_path))
    app = Proc.python(env, "-m", "desktop_app", "--log-level", "INFO", "--quit-after", "60")
    try:
        app.expect("window shown", 60)
        subprocess.run([sys.executable, "tests/platform/x11_client.py", "close", parley_window(xvfb)], env=env,
                       check=True, timeout=30, cwd=ROOT)
        app.expect("shut down cleanly", 20)
        assert app.proc.wait(20) == 0
    finally:
        app.stop()
