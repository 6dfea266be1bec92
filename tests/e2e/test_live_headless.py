"""End to end over GPT-Live: ``parley --headless --url ws://…/v1/live/sessions --model gpt-live-1`` as a
real subprocess against the embedded server (real speech both ways; a barge-in; a built-in tool
delegated with ``--tools allow``), and a delegated tool call through the controller, the ToolBox and
the server's Responses backend. Every frame sent and received is
validated against the ``openai`` SDK's ``openai.types.live`` unions."""

from __future__ import annotations

import asyncio
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
from tests.e2e.test_headless import KEY, headless, seconds, spoken_over_the_answer
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


async def test_talking_over_a_gpt_live_answer_stops_it_at_the_client_and_sends_nothing(tmp_path: Path):
    """``parley --headless`` over GPT-Live with an input whose speech goes on over the assistant's story.

    The input is a file (a ``FilePort``): there is no echo guard and no local onset detector, so the
    client learns that the user talks from the server's input transcript. The server's model here goes on
    for 15 s after it is talked over (``live_barge_ms``; a model decides when it stops, live-protocol.md §4b).
    With the default 250 ms it stops, and its reply ends, before the transcript of the interruption arrives
    (the local recogniser answers 1.5–6 s after the words): the barge-in would be the model's alone and prove
    nothing about the client. So the client's own barge-in shows: it stops playing the story on the user's
    words while the server still sends it — the transcript keeps the heard part apart (what the server said
    after that was never played) — and it sends nothing about it (Live has no truncate or cancel; only the
    Interrupt button appends "stop speaking"). (The local server answers the interruption only when its model
    stops within the default time: with a longer one the answer is queued behind the story and the stop
    drops it, so no answer is asserted here.)
    Every frame both ways is checked against the SDK's ``openai.types.live`` unions."""
    wav = spoken_over_the_answer(tmp_path, "Tell me a long story.", "What time is it?", after_s=10.0)
    async with LocalServer(port=0, live_barge_ms=15_000) as srv:
        await asyncio.to_thread(srv.pool.warm_up)
        code, stderr, transcript, events = await headless(tmp_path, srv.live_url, wav, "--model", "gpt-live-1",
                                                          "--api-key", KEY, timeout=90)
    turns = transcript["turns"]
    try:
        assert code == 0, stderr
        check_live_event_log(events)
        messages = [t for t in turns if t["role"] in ("user", "assistant")]
        assert [t["role"] for t in messages][:3] == ["user", "assistant", "user"], messages
        story, question = messages[1], messages[2]
        assert "lighthouse" in story["text"] and "time" in question["text"].lower()
        # The client cut the story where it stopped playing it: what was heard is a proper prefix of what
        # the server said, cut between words (the server went on for seconds after the cut).
        assert story["truncated"], story
        heard, text = story["heard"], story["text"]
        assert heard.strip() and text.startswith(heard) and len(heard) < len(text), story
        assert heard.split() + text[len(heard):].split() == text.split()
        assert not question["truncated"]
        # Nothing was sent about it: Live has no truncate or cancel, and no one pressed Interrupt.
        sent = [e["event"]["type"] for e in events if e["dir"] == "sent"]
        assert set(sent) <= {"session.start", "session.input_audio.append", "response.item.create",
                             "response.create", "session.close"}, sorted(set(sent))
        assert sent[0] == "session.start" and sent[-1] == "session.close"
    except AssertionError as failure:
        lines = [f"{e['t'] - events[0]['t']:7.2f} {e['dir']:8} {e['event']['type']}" for e in events
                 if e["event"]["type"] not in ("session.input_audio.append", "session.output_audio.delta")]
        raise AssertionError(f"{failure}\n{json.dumps(turns, indent=1)}\n" + "\n".join(lines)) from None


async def test_headless_over_gpt_live_delegates_a_built_in_tool_and_speaks_its_result(tmp_path: Path):
    """``parley --headless --tools allow`` over Live: the app's built-in tools go to the server as the
    delegation's Responses tools, the backend's call is run by the app's tool runner, its output goes
    back as a ``response.item.create`` and the voice speaks it; every frame SDK-valid."""
    async with LocalServer(port=0) as srv:
        code, stderr, transcript, events = await headless(tmp_path, srv.live_url, speech_wav("What time is it?"),
                                                          "--model", "gpt-live-1", "--api-key", KEY, "--tools", "allow")
    assert code == 0, stderr
    check_live_event_log(events)
    assert [(t["name"], t["status"]) for t in transcript["tools"]] == [("current_time", "done")]
    answers = [t["text"] for t in transcript["turns"] if t["role"] == "assistant"]
    assert answers and any(ch.isdigit() for ch in " ".join(answers)), answers  # the time, spoken
    sent = [e["event"] for e in events if e["dir"] == "sent" and e["event"]["type"] != "session.input_audio.append"]
    types = [f["type"] for f in sent]
    assert types[0] == "session.start" and "response.item.create" in types
    assert types.index("response.create") > types.index("response.item.create")
    delegated = sent[0]["session"]["delegation"]["responses"]["tools"]
    assert "current_time" in [t["name"] for t in delegated]
    assert seconds(tmp_path / "answer.wav") > 0.8
