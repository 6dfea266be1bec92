"""End to end over GPT-Live: ``parley --headless --url ws://…/v1/live/sessions --model gpt-live-1`` as a
real subprocess against the embedded server (real speech both ways), and a delegated tool call through
the controller, the ToolBox and the server's Responses backend. Every frame sent and received is
validated against the ``openai`` SDK's ``openai.types.live`` unions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop_app.controller.controller import Controller
from desktop_app.controller.dialects import dialect_for
from desktop_app.controller.ports import FilePort
from desktop_app.local_server.server import LocalServer
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.tools import ToolBox, ToolRegistry, ToolSpec
from desktop_app.tools.spec import CallContext
from tests.e2e.test_headless import KEY, headless, seconds
from tests.helpers.speech import speech_wav
from tests.helpers.wait import wait_until
from tests.live.oracle import validate_live_client_event, validate_live_server_event

pytestmark = pytest.mark.slow

TIME_TOOL = {"type": "function", "name": "get_time", "description": "The current local time.",
             "parameters": {"type": "object", "properties": {}}}


def check_live_event_log(events: list[dict]) -> None:
    assert events, "the event log is empty"
    for line in events:
        if line["dir"] == "sent":
            validate_live_client_event(line["event"])
        else:
            validate_live_server_event(line["event"])


async def test_headless_over_gpt_live_answers_with_both_transcripts_and_bills_seconds(tmp_path: Path):
    question = speech_wav("What is two plus three?")
    async with LocalServer(port=0) as srv:
        code, stderr, transcript, events = await headless(tmp_path, srv.live_url, question, "--model", "gpt-live-1",
                                                          "--api-key", KEY)
    assert code == 0, stderr
    turns = [(t["role"], t["text"]) for t in transcript["turns"]]
    assert [r for r, _ in turns] == ["user", "assistant"], turns
    assert "plus" in turns[0][1].lower() and "five" in turns[1][1].lower()
    assert transcript["usage"]["seconds"] > 0 and transcript["usage"]["cost_usd"] > 0
    assert seconds(tmp_path / "answer.wav") > 0.8
    check_live_event_log(events)
    sent = [e["event"]["type"] for e in events if e["dir"] == "sent"]
    assert sent[0] == "session.start" and sent[-1] == "session.close"
    assert not {"input_audio_buffer.commit", "response.create", "conversation.item.truncate"} & set(sent)
    received = [e["event"]["type"] for e in events if e["dir"] == "received"]
    assert received[0] == "session.started" and received[-1] == "session.closed"
    assert KEY not in (tmp_path / "events.jsonl").read_text()


async def test_a_delegated_tool_call_over_gpt_live_is_run_by_the_tool_runner_and_spoken():
    calls: list[dict] = []
    frames: list[tuple[str, dict]] = []

    async def run(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        calls.append(dict(args))
        return {"time": "twelve o'clock"}

    box = ToolBox(ToolRegistry([ToolSpec(name="get_time", description=TIME_TOOL["description"],
                                         parameters=TIME_TOOL["parameters"], run=run)]))

    def observe(direction: str, text: str) -> None:
        frames.append((direction, json.loads(text)))

    async with LocalServer(port=0) as srv:
        port = FilePort(speech_wav("What time is it?"))

        async def target() -> tuple[str, dict[str, str]]:
            return srv.live_url, {}

        config = replace(SessionConfig(model="gpt-live-1"), tools=(TIME_TOOL,))
        ctl = Controller(target=target, audio=port, config=config, tools=box, frame_observer=observe,
                         max_retries=0, make_core=dialect_for(config.model))
        await ctl.connect()
        await wait_until(lambda: any(e.role == "assistant" and "twelve" in e.text for e in ctl.transcript()), 60,
                         "the voice to speak the tool's result")
        await ctl.close()
    assert calls == [{}]
    tool = next(e for e in ctl.transcript() if e.role == "tool")
    assert tool.tool_name == "get_time" and tool.tool_status == "done"
    for direction, frame in frames:
        (validate_live_client_event if direction == "sent" else validate_live_server_event)(frame)
    sent = [f["type"] for d, f in frames if d == "sent" and f["type"] != "session.input_audio.append"]
    assert sent[:1] == ["session.start"] and "response.item.create" in sent
    assert sent.index("response.create") > sent.index("response.item.create")
    start = next(f for d, f in frames if f["type"] == "session.start")
    assert start["session"]["delegation"]["responses"]["tools"] == [TIME_TOOL]
