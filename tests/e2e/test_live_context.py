"""End to end over GPT-Live against the embedded server, real speech both ways: the user says something, the
session is replaced (the planned refresh before its time limit), and in the new session the demo's brain
answers "what did I say before?" from ``session.start.session.input`` — without it the answer is "nothing yet".
Every frame both ways is validated against the ``openai`` SDK's ``openai.types.live`` unions."""

from __future__ import annotations

import json

import pytest

from desktop_app.controller.controller import Controller
from desktop_app.controller.dialects import dialect_for
from desktop_app.controller.ports import FilePort
from desktop_app.controller.states import Conn
from desktop_app.local_server.server import LocalServer
from desktop_app.realtime.session_config import SessionConfig
from tests.helpers.speech import read_wav, speech_wav
from tests.helpers.wait import wait_until
from tests.live.oracle import validate_live_client_event, validate_live_server_event

pytestmark = pytest.mark.slow


async def test_a_refreshed_gpt_live_session_remembers_what_the_user_said():
    frames: list[tuple[str, dict]] = []

    def observe(direction: str, text: str) -> None:
        frames.append((direction, json.loads(text)))

    def starts() -> list[dict]:
        return [f for d, f in frames if d == "sent" and f["type"] == "session.start"]

    async with LocalServer(port=0, seed=6) as srv:
        port = FilePort(speech_wav("My favourite colour is green."))

        async def target() -> tuple[str, dict[str, str]]:
            return srv.live_url, {}

        config = SessionConfig(model="gpt-live-1")
        ctl = Controller(target=target, audio=port, config=config, frame_observer=observe, max_retries=2,
                         make_core=dialect_for(config.model))
        await ctl.connect()
        await wait_until(lambda: any(e.role == "user" and "green" in e.text.lower() for e in ctl.transcript())
                         and any(e.role == "assistant" and e.final for e in ctl.transcript()), 60,
                         "the first turn and its answer")
        await wait_until(lambda: ctl.settled, 30, "the answer to finish playing")
        assert ctl.connection.recycle_now()
        await wait_until(lambda: len(starts()) == 2 and ctl.view.connection is Conn.CONNECTED, 20, "a new session")
        seeded = starts()[1]["session"]["input"]
        assert seeded[0]["role"] == "user" and "green" in seeded[0]["content"][0]["text"].lower()
        assert seeded[1]["role"] == "assistant" and seeded[1]["content"][0]["type"] == "output_text"
        question, _ = read_wav(speech_wav("What did I say before?"))
        port.say(question.tobytes())
        await wait_until(lambda: any(e.role == "assistant" and e.final and "you said" in e.text.lower()
                                     for e in ctl.transcript()), 60, "the answer to the question")
        await ctl.close()
    answer = next(e.text for e in ctl.transcript() if e.role == "assistant" and "you said" in e.text.lower())
    assert "green" in answer.lower(), answer  # without the seeded context: "You said: nothing yet."
    users = [e.text for e in ctl.transcript() if e.role == "user"]
    assert len(users) == 2, users  # the first line is shown once, not again from the new session
    for direction, frame in frames:
        (validate_live_client_event if direction == "sent" else validate_live_server_event)(frame)
