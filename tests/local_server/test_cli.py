"""``parley serve`` and ``python -m desktop_app.local_server``: URL printed, Ctrl+C shuts down cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from desktop_app.local_server.cli import build_parser
from tests.local_server.client import Client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def spawn(*args: str, module: str = "desktop_app.local_server") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


async def read_url(proc: subprocess.Popen) -> str:
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
    assert line.startswith("Parley local Realtime server: ws://127.0.0.1:"), line
    return line.split(": ", 1)[1].strip()


@pytest.mark.parametrize("module, prefix", [("desktop_app.local_server", ()), ("desktop_app", ("serve",))])
async def test_serve_prints_the_url_and_ctrl_c_closes_sessions_and_exits_0(module, prefix):
    proc = spawn(*prefix, "--port", "0", "--tts", "tone", "--asr", "none", module=module)
    try:
        url = await read_url(proc)
        client = await Client.open(url)
        await client.wait_for("session.created")
        proc.send_signal(signal.SIGINT)
        code, _ = await client.wait_closed(15)
        assert code == 1001
        assert await asyncio.wait_for(asyncio.to_thread(proc.wait), 30) == 0
        assert "Stopped." in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_an_api_key_from_the_environment_is_required():
    env = dict(os.environ, PARLEY_SERVER_API_KEY="sk-env-key-0123456789")
    proc = subprocess.Popen([sys.executable, "-m", "desktop_app.local_server", "--port", "0", "--tts", "tone",
                             "--asr", "none"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = await read_url(proc)
        client = await Client.open(url)
        assert (await client.wait_for("error"))["error"]["code"] is None
        assert (await client.wait_closed())[0] == 3000
        client = await Client.open(url, {"Authorization": "Bearer sk-env-key-0123456789"})
        await client.wait_for("session.created")
        await client.close()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(asyncio.to_thread(proc.wait), 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0", "--no-auth"], "non-loopback address needs an API key"),
    (["--faults", "explode"], "unknown fault 'explode'"),
])
def test_unsafe_or_bad_options_exit_2_with_one_sentence(args, message):
    proc = spawn(*args, "--port", "0")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and message in err


def test_the_parser_knows_every_documented_option():
    args = build_parser().parse_args(["--host", "127.0.0.1", "--port", "9", "--api-key", "k", "--faults", "seed=1",
                                      "--session-limit", "5", "--allow-origin", "http://x", "--pace", "0",
                                      "--audio-budget", "60"])
    assert (args.port, args.api_key, args.faults, args.session_limit, args.allow_origin) == (9, "k", "seed=1", 5.0, ["http://x"])
    assert args.audio_budget == 60.0 and build_parser().parse_args([]).audio_budget == 900.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--api-key", "k", "--no-auth"])
