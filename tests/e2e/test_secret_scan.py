"""A whole session with a known fake key, then a scan of everything Parley wrote: no key anywhere."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import pytest

from desktop_app.local_server.server import LocalServer
from tests.helpers.speech import speech_wav

pytestmark = pytest.mark.slow
KEY = "sk-proj-SCANME0123456789abcdefghijklmnopqrstuv"


async def test_the_key_appears_in_no_file_log_or_output(tmp_path, caplog):
    home = tmp_path / "home"
    outputs = tmp_path / "out"
    outputs.mkdir()
    # the most that can be logged: websockets' own records (the handshake's headers) and every frame
    env = dict(os.environ, PARLEY_HOME=str(home), PARLEY_LOG_FRAMES="1")
    with caplog.at_level(logging.DEBUG):
        async with LocalServer(port=0, api_key=KEY) as srv:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "desktop_app", "--headless", "--log-level", "DEBUG",
                "--url", srv.url, "--api-key", KEY, "--input", str(speech_wav("What is two plus three?")),
                "--output", str(outputs / "a.wav"), "--transcript", str(outputs / "t.json"),
                "--events", str(outputs / "e.jsonl"), "--mode", "ptt",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            )
            stdout, stderr = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    written = [p for p in list(home.rglob("*")) + list(outputs.rglob("*")) if p.is_file()]
    assert any(p.suffix == ".log" or ".log" in p.name for p in written), "the run wrote no log file"
    assert len(stderr) > 1000, "DEBUG logging should have produced plenty of console output"
    needles = [KEY.encode(), KEY[8:].encode()]  # also no tail of it without the prefix
    for path in written:
        data = path.read_bytes()
        assert not any(n in data for n in needles), f"the key leaked into {path}"
    for stream in (stdout, stderr):
        assert not any(n in stream for n in needles)
    assert KEY not in caplog.text  # the server's own logs (it ran in this process)
    assert "Authorization: Bearer [REDACTED]" in stderr.decode() or "[REDACTED]" in stderr.decode()
