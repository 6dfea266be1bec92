"""End to end: `parley --headless --tools …` against the embedded local server, spoken.

Synthesised questions go in as the microphone; the local server's brain calls Parley's tools the way a
model would; the CLI (a real subprocess, with its own PARLEY_HOME: settings, tools file, notes) runs them
under the policy and the server speaks an answer built from the outputs. From the event log: every frame
valid against the SDK's unions, exactly one ``function_call_output`` per ``call_id``, and the follow-up
``response.create`` only after the ``response.done`` that carried the calls.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from desktop_app.local_server.server import LocalServer
from desktop_app.settings.store import SettingsStore
from tests.e2e.test_headless import check_event_log, headless, seconds
from tests.helpers.speech import read_wav, speech_wav, write_wav

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A private PARLEY_HOME for the CLI (and for this process while the test sets it up)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("PARLEY_HOME", str(folder))
    return folder


def sent(events: list[dict], kind: str) -> list[dict]:
    return [e["event"] for e in events if e["dir"] == "sent" and e["event"]["type"] == kind]


def received(events: list[dict], kind: str) -> list[dict]:
    return [e["event"] for e in events if e["dir"] == "received" and e["event"]["type"] == kind]


def calls_of(events: list[dict]) -> list[dict]:
    return [e["item"] for e in received(events, "response.output_item.done") if e["item"]["type"] == "function_call"]


def outputs_of(events: list[dict]) -> list[dict]:
    return [e["item"] for e in sent(events, "conversation.item.create") if e["item"]["type"] == "function_call_output"]


def check_tool_protocol(events: list[dict]) -> None:
    """One output per call, each after its response's done; the follow-up create after that done."""
    calls, outputs = calls_of(events), outputs_of(events)
    assert Counter(o["call_id"] for o in outputs) == Counter(c["call_id"] for c in calls), (calls, outputs)
    order = [(e["dir"], e["event"]) for e in events]
    for call in calls:
        done = next(i for i, (d, ev) in enumerate(order) if d == "received" and ev["type"] == "response.done"
                    and any(item.get("call_id") == call["call_id"] for item in ev["response"]["output"]))
        answered = next(i for i, (d, ev) in enumerate(order) if d == "sent" and ev["type"] == "conversation.item.create"
                        and ev["item"].get("call_id") == call["call_id"])
        assert done < answered
    creates = [i for i, (d, ev) in enumerate(order) if d == "sent" and ev["type"] == "response.create"]
    dones = [i for i, (d, ev) in enumerate(order) if d == "received" and ev["type"] == "response.done"]
    for create in creates:  # never while a response is in progress
        started = [i for i, (d, ev) in enumerate(order[:create]) if d == "received" and ev["type"] == "response.created"]
        assert len([i for i in dones if i < create]) >= len(started), "response.create while a response was active"
    assert not received(events, "error"), received(events, "error")


def answer(transcript: dict) -> str:
    return " ".join(t["text"] for t in transcript["turns"] if t["role"] == "assistant")


async def test_a_spoken_note_asks_and_the_policy_allows_it_then_the_answer_is_spoken(tmp_path, home):
    async with LocalServer(port=0) as srv:
        code, stderr, transcript, events = await headless(
            tmp_path, srv.url, speech_wav("Note that I need milk."), "--tools", "allow")
    assert code == 0, stderr
    check_event_log(events)
    check_tool_protocol(events)
    [call] = calls_of(events)
    assert (call["name"], json.loads(call["arguments"])["text"].lower().rstrip(".")) == ("append_note", "i need milk")
    [output] = outputs_of(events)
    assert json.loads(output["output"])["saved"] is True
    assert "i need milk" in (home / "data" / "notes" / "notes.md").read_text().lower()
    assert "I saved that in your notes." in answer(transcript)
    assert [(t["name"], t["status"]) for t in transcript["tools"]] == [("append_note", "done")]
    assert seconds(tmp_path / "answer.wav") > 1.0  # the answer really played
    tools_sent = sent(events, "session.update")[0]["session"]["tools"]
    assert "append_note" in [t["name"] for t in tools_sent] and "read_clipboard" not in [t["name"] for t in tools_sent]


async def test_ask_deny_refuses_the_call_and_the_assistant_says_so(tmp_path, home):
    async with LocalServer(port=0) as srv:
        code, stderr, transcript, events = await headless(
            tmp_path, srv.url, speech_wav("Note that I need milk."), "--tools", "ask-deny")
    assert code == 0, stderr
    check_tool_protocol(events)
    [output] = outputs_of(events)
    assert json.loads(output["output"])["error"]["type"] == "denied"
    assert not (home / "data" / "notes" / "notes.md").exists()
    assert "because you did not allow it" in answer(transcript)
    assert transcript["tools"][0]["status"] == "denied"


async def test_two_requests_run_as_two_calls_answered_in_order(tmp_path, home):
    question = speech_wav("What time is it in Tokyo, and what is 17 times 23?")
    async with LocalServer(port=0) as srv:
        code, stderr, transcript, events = await headless(tmp_path, srv.url, question, "--tools", "ask-deny")
    assert code == 0, stderr
    check_event_log(events)
    check_tool_protocol(events)
    calls = calls_of(events)
    assert [c["name"] for c in calls] == ["current_time", "calculate"]
    assert [o["call_id"] for o in outputs_of(events)] == [c["call_id"] for c in calls]  # in call order
    assert sent(events, "response.create") and len(received(events, "response.done")) == 2
    said = answer(transcript)
    assert "in Tokyo" in said and "three hundred and ninety one" in said
    assert [t["status"] for t in transcript["tools"]] == ["done", "done"]


def joined(path: Path, *parts: Path, gap_s: float) -> Path:
    """The WAVs one after another with ``gap_s`` of silence between them."""
    audio = []
    for i, part in enumerate(parts):
        pcm, rate = read_wav(part)
        audio.append(pcm)
        if i < len(parts) - 1:
            audio.append(np.zeros(int(rate * gap_s), np.int16))
    return write_wav(path, np.concatenate(audio), 24000)


async def test_talking_during_a_long_tool_cancels_it_and_its_call_is_answered_cancelled(tmp_path, home):
    (home / "config" / "tools").mkdir(parents=True)
    (home / "config" / "tools" / "tools.toml").write_text(textwrap.dedent("""\
        [[tool]]
        name = "world_time"
        type = "command"
        description = "The time in a city from a slow far-away clock."
        argv = ["sleep", "40"]
        side_effects = false
        timeout = 60
        [tool.params.timezone]
        type = "string"
        description = "City"
        required = false
    """))
    SettingsStore().update(tools_disabled=("current_time",))  # so the brain picks the slow one
    question = joined(tmp_path / "both.wav", speech_wav("What time is it in Tokyo?"), speech_wav("Hello there."),
                      gap_s=3.0)
    async with LocalServer(port=0) as srv:
        code, stderr, transcript, events = await headless(tmp_path, srv.url, question, "--tools", "allow")
    assert code == 0, stderr
    check_event_log(events)
    check_tool_protocol(events)
    [call] = calls_of(events)
    [output] = outputs_of(events)
    assert call["name"] == "world_time" and json.loads(output["output"])["error"]["type"] == "cancelled"
    speech = [i for i, e in enumerate(events) if e["event"]["type"] == "input_audio_buffer.speech_started"]
    answered = next(i for i, e in enumerate(events) if e["dir"] == "sent"
                    and e["event"]["type"] == "conversation.item.create")
    assert speech[1] < answered  # cancelled because the user spoke, not because it ended
    assert transcript["tools"][0]["status"] == "cancelled"
    assert "Hello" in answer(transcript)  # the new turn is answered
