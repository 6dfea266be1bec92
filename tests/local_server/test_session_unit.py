"""The session state machine without a socket: frames in, actions out."""

from __future__ import annotations

import json
import logging
import time

import pytest

from desktop_app.local_server.faults import parse_faults
from desktop_app.local_server.options import Options
from desktop_app.local_server.session import Session
from desktop_app.local_server.speech import SpeechPool


def make_session(options: Options | None = None, faults: str = "") -> tuple[Session, list[tuple]]:
    out: list[tuple] = []
    session = Session(model="gpt-realtime", kind="realtime", options=options or Options(tts="tone", asr="none"),
                      pool=SpeechPool(1, "none", "tone"), writer=out.append, faults=parse_faults(faults).for_session(),
                      log=logging.getLogger("parley.server.test"))
    return session, out


def sent(out: list[tuple]) -> list[dict]:
    return [json.loads(action[1]) for action in out if action[0] == "text"]


async def test_a_handler_that_breaks_costs_one_server_error_not_the_session():
    session, out = make_session()

    def broken():
        raise KeyError("boom")

    session.input.clear = broken  # type: ignore[method-assign]  # the part the clear handler calls
    session.receive(json.dumps({"type": "input_audio_buffer.clear", "event_id": "c1"}))
    error = sent(out)[-1]["error"]
    assert error["type"] == "server_error" and error["event_id"] == "c1" and "boom" in error["message"]
    session.receive(json.dumps({"type": "input_audio_buffer.commit"}))
    assert sent(out)[-1]["error"]["code"] == "input_audio_buffer_commit_empty"
    session.close()


async def test_nothing_is_sent_after_close():
    session, out = make_session()
    session.close()
    session.receive(json.dumps({"type": "input_audio_buffer.clear"}))
    assert out == []


@pytest.mark.parametrize("limit_s, faults, lifetime_s", [
    (3600.0, "", 3600), (90.0, "", 90), (90.0, "expire_after=30", 30), (20.0, "expire_after=30", 20)])
async def test_expires_at_advertises_the_limit_the_session_really_has(limit_s, faults, lifetime_s):
    before = time.time()
    session, out = make_session(Options(tts="tone", asr="none", session_limit_s=limit_s), faults)
    session.open()
    after = time.time()
    assert int(before + lifetime_s) <= sent(out)[0]["session"]["expires_at"] <= int(after + lifetime_s)
    assert session.limit_s == lifetime_s
    session._expire()
    assert f"maximum duration of {lifetime_s / 60:g} minutes" in sent(out)[-1]["error"]["message"]
