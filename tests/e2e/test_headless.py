"""End to end: `parley --headless` against the embedded local server, with real synthesized speech.

The CLI runs as a real subprocess (its files and exit codes are the contract); the server runs on the
test's loop. Every frame the client sent is validated against the `openai` SDK's strict client union,
every frame it received against the server union.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import wave
from pathlib import Path

import pytest

from desktop_app.local_server.server import LocalServer
from tests.helpers.wait import wait_until
from tests.helpers.speech import read_wav, speech_wav
from tests.realtime.oracle import validate_client_event, validate_server_event

pytestmark = pytest.mark.slow
KEY = "sk-e2e-test-key-abcdefghijklmnopqrstuvwx"


async def headless(tmp: Path, url: str, wav: Path, *extra: str, timeout: float = 60) -> tuple[int, str, dict, list]:
    out = {name: tmp / name for name in ("answer.wav", "transcript.json", "events.jsonl")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "desktop_app", "--headless", "--url", url, "--input", str(wav),
        "--output", str(out["answer.wav"]), "--transcript", str(out["transcript.json"]),
        "--events", str(out["events.jsonl"]), "--timeout", str(timeout), *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout + 30)
    transcript = json.loads(out["transcript.json"].read_text())
    events = [json.loads(line) for line in out["events.jsonl"].read_text().splitlines()]
    return proc.returncode, stderr.decode(), transcript, events


def check_event_log(events: list[dict]) -> None:
    assert events, "the event log is empty"
    for line in events:
        assert set(line) == {"t", "dir", "event"}
        if line["dir"] == "sent":
            validate_client_event(line["event"])
        else:
            validate_server_event(line["event"])


def seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        return wav.getnframes() / 24000


@pytest.mark.parametrize("mode", ["vad", "ptt"])
async def test_spoken_question_gets_a_spoken_answer_with_both_transcripts(tmp_path, mode):
    question = speech_wav("What is two plus three?")
    async with LocalServer(port=0) as srv:
        code, stderr, transcript, events = await headless(tmp_path, srv.url, question, "--mode", mode)
    assert code == 0, stderr
    roles = [(t["role"], t["text"]) for t in transcript["turns"]]
    assert [r for r, _ in roles] == ["user", "assistant"], roles
    assert "plus" in roles[0][1].lower()
    assert "five" in roles[1][1].lower()
    assert transcript["usage"]["responses"] == 1 and transcript["usage"]["total_tokens"] > 0
    assert seconds(tmp_path / "answer.wav") > 0.8  # "Two plus three is five." really played
    check_event_log(events)
    sent = [e["event"]["type"] for e in events if e["dir"] == "sent"]
    if mode == "ptt":
        assert sent.count("input_audio_buffer.commit") == 1 and "response.create" in sent
    else:
        assert "input_audio_buffer.commit" not in sent  # the server's VAD commits
    assert KEY not in (tmp_path / "events.jsonl").read_text()


async def test_a_dropped_connection_mid_answer_exits_4_and_keeps_what_was_received(tmp_path):
    question = speech_wav("Tell me a long story.")
    async with LocalServer(port=0, faults="drop_mid_audio=5") as srv:
        code, stderr, transcript, events = await headless(tmp_path, srv.url, question)
    assert code == 4, stderr
    assert stderr.strip().count("\n") == 0 and stderr.startswith("parley: ")
    turns = transcript["turns"]
    assert turns and turns[0]["role"] == "user"
    assert any(t["role"] == "assistant" and t["text"] for t in turns), turns  # partial answer kept
    check_event_log(events)


async def test_a_refused_key_exits_3_with_one_clear_line(tmp_path):
    async with LocalServer(port=0, api_key="sk-the-right-key-0123456789abcdef") as srv:
        code, stderr, transcript, _ = await headless(
            tmp_path, srv.url, speech_wav("Hello."), "--api-key", KEY, timeout=20)
    assert code == 3, stderr
    assert "API key" in stderr and KEY not in stderr
    assert transcript["turns"] == []


def test_missing_input_is_a_usage_error(tmp_path):
    import subprocess

    out = subprocess.run([sys.executable, "-m", "desktop_app", "--headless", "--url", "ws://127.0.0.1:9/v1/realtime",
                          "--input", str(tmp_path / "nope.wav")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "not found" in out.stderr


async def test_barge_in_truncates_at_the_played_position_within_10_ms():
    """A second question while the story plays: playback stops, truncate = samples really played."""
    from desktop_app.controller.controller import Controller
    from desktop_app.controller.ports import FilePort
    from desktop_app.realtime.session_config import ServerVad, SessionConfig, Transcription

    story, rate = read_wav(speech_wav("Tell me a long story."))
    second, _ = read_wav(speech_wav("What time is it?"))
    sent: list[dict] = []

    def observe(direction: str, text: str) -> None:
        if direction == "sent":
            sent.append(json.loads(text))

    async with LocalServer(port=0) as srv:
        port = FilePort((story, rate))

        async def target():
            return srv.url, {}

        ctl = Controller(target=target, audio=port, frame_observer=observe, max_retries=0,
                         config=SessionConfig(turn_detection=ServerVad(silence_duration_ms=500),
                                              transcription=Transcription()))
        await ctl.connect()
        story_item = None

        def story_playing_long_enough() -> bool:
            nonlocal story_item
            story_item = next((e.item_id for e in ctl.transcript() if e.role == "assistant"), None)
            return story_item is not None and port.queue.report(story_item).played_ms >= 1500

        await wait_until(story_playing_long_enough, 60, "the story to play for 1.5 s")
        port.say(second.tobytes())  # the user interrupts
        await wait_until(lambda: any(f["type"] == "conversation.item.truncate" for f in sent), 30,
                         "the client to truncate the interrupted story")
        await wait_until(lambda: not port.is_playing, 5, "playback to stop")
        truncate = next(f for f in sent if f["type"] == "conversation.item.truncate")
        report = port.queue.report(story_item)
        await wait_until(lambda: ctl.responses_finished >= 1 and len(ctl.transcript()) >= 4, 60,
                         "the answer to the interruption")
        await ctl.close()
    assert truncate["item_id"] == story_item
    assert report.played_ms >= 1500
    assert abs(truncate["audio_end_ms"] - report.played_ms) <= 10, (truncate, report)
    assert report.received_ms > report.played_ms  # the rest was never heard
    story_entry = next(e for e in ctl.transcript() if e.item_id == story_item)
    assert story_entry.truncated and story_entry.heard is not None
    assert story_entry.text.startswith(story_entry.heard) and len(story_entry.heard) < len(story_entry.text)
    assert "time" in ctl.transcript()[2].text.lower()  # the interruption itself was heard


async def _headless_configured(tmp_path, home, *extra):
    # No real keyring is touched: the null backend stores nothing (as on a machine without one).
    env = dict(os.environ, PARLEY_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.pop("OPENAI_API_KEY", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "desktop_app", "--headless", "--input", str(speech_wav("What is two plus three?")),
        "--transcript", str(tmp_path / "t.json"), *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    _, stderr = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, stderr.decode()


async def test_without_url_the_configured_offline_demo_is_used_like_the_gui(tmp_path):
    home = tmp_path / "home"
    script = ("from desktop_app.settings.store import SettingsStore; "
              "SettingsStore().update(active_profile='Local server')")
    await (await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env=dict(os.environ, PARLEY_HOME=str(home)))).wait()
    code, stderr = await _headless_configured(tmp_path, home, "--mode", "ptt")
    assert code == 0, stderr
    turns = json.loads((tmp_path / "t.json").read_text())["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant"] and "five" in turns[1]["text"].lower()


async def test_without_url_or_key_the_openai_profile_exits_3_naming_the_missing_key(tmp_path):
    code, stderr = await _headless_configured(tmp_path, tmp_path / "fresh-home")
    assert code == 3, stderr
    assert stderr.startswith("parley: ") and "API key" in stderr and stderr.count("\n") == 1
