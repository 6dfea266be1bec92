"""The server logs to ``parley.server`` with websockets' prefixes, never whole base64 audio or keys."""

from __future__ import annotations

import logging

from desktop_app.local_server import LocalServer
from tests.local_server.client import Client, user_text

KEY = "sk-logged-never-0123456789"


async def test_log_lines_use_prefixes_and_elide_audio_and_keys(caplog):
    caplog.set_level(logging.DEBUG, logger="parley.server")
    async with LocalServer(port=0, pace=0, tts="espeak", asr="none", api_key=KEY) as srv:
        async with await Client.open(srv.url, {"Authorization": f"Bearer {KEY}"}) as client:
            await client.send(user_text("hello"))
            await client.send({"type": "response.create"})
            await client.response()
            await client.send({"type": "response.cancel"})
            await client.wait_for("error")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("parley.server")]
    body = [line.split("] ", 1)[1] for line in lines if line.startswith("[")]
    assert {line[0] for line in body} <= {">", "<", "=", "!"}
    assert any(line.startswith("> ") and "response.output_audio.delta" in line and "b64 chars" in line for line in body)
    assert any(line.startswith("< ") and "response.create" in line for line in body)
    assert any(line.startswith("! response_cancel_not_active") for line in body)
    assert any(line.startswith("= session open") for line in body)
    assert max(len(line) for line in lines) < 400
    assert all(KEY not in line for line in lines)
