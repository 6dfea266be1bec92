"""One Parley per user: a second launch raises the running window and exits; a lock left by a
killed instance does not stop the next one; a stranger without the token is ignored."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.platform.single_instance import SingleInstance
from tests.platform.xvfb import Proc

ROOT = Path(__file__).resolve().parents[2]


def app_env(home: Path) -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", PARLEY_HOME=str(home), PYTHONPATH=str(ROOT))


def launch(home: Path, *args: str) -> Proc:
    return Proc.python(app_env(home), "-m", "desktop_app", "--log-level", "INFO", *args)


def test_a_second_launch_raises_the_running_window_and_exits(tmp_path):
    first = launch(tmp_path, "--quit-after", "60")
    try:
        first.expect("single instance: listening", 60)
        first.expect("window shown", 10)
        second = subprocess.run([sys.executable, "-m", "desktop_app", "--log-level", "INFO"], env=app_env(tmp_path),
                                capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert second.returncode == 0, second.stderr
        assert "already running: its window was raised" in second.stderr
        assert "window shown" not in second.stderr  # it built no window of its own
        first.expect("a second launch asked for the window", 10)
        assert first.proc.poll() is None  # the first one runs on
    finally:
        first.proc.send_signal(signal.SIGTERM)
        first.expect("shut down cleanly", 30)
        first.stop()
    assert not (tmp_path / "config" / "instance.json").exists()


def test_a_killed_instance_leaves_no_lock_that_matters(tmp_path):
    first = launch(tmp_path, "--quit-after", "60")
    try:
        first.expect("single instance: listening", 60)
    finally:
        first.proc.kill()
        first.proc.wait(10)
    assert (tmp_path / "config" / "instance.lock").exists()  # left behind by the killed process
    again = subprocess.run([sys.executable, "-m", "desktop_app", "--log-level", "INFO", "--quit-after", "0.3"],
                           env=app_env(tmp_path), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert again.returncode == 0, again.stderr
    assert "window shown" in again.stderr and "shut down cleanly" in again.stderr


@pytest.mark.usefixtures("qapp")
async def test_only_the_token_opens_the_door(tmp_path):
    raised: list[int] = []
    instance = SingleInstance(tmp_path)
    assert instance.acquire()
    await instance.serve(lambda: raised.append(1))
    try:
        info = json.loads((tmp_path / "instance.json").read_text())
        assert oct((tmp_path / "instance.json").stat().st_mode & 0o777) == "0o600"
        reader, writer = await asyncio.open_connection("127.0.0.1", info["port"])
        writer.write(b"wrong-token raise\n")
        await writer.drain()
        assert await reader.readline() == b""  # closed without an answer
        writer.close()
        assert raised == []
        other = SingleInstance(tmp_path)
        assert not other.acquire()
        assert await asyncio.to_thread(other.raise_running, 5.0)
        assert raised == [1]
    finally:
        await instance.close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", info["port"])) != 0  # the door is shut
