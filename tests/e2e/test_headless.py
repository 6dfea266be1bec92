"""End to end: `parley --headless` against the embedded local server, with real synthesized speech.

The CLI runs as a real subprocess (its files and exit codes are the contract); the server runs on the
test's loop. Every frame the client sent is validated against the `openai` SDK's strict client union,
every frame it received against the server union.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from desktop_app.local_server.server import LocalServer
from tests.helpers.speech import read_wav, speech_wav, write_wav
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


def spoken_over_the_answer(tmp: Path, question: str, interruption: str, after_s: float) -> Path:
    """One input WAV: ``question``, then silence, then ``interruption`` ``after_s`` seconds after the
    question ends — a person who asked for a story and talks over it while it plays."""
    first, rate = read_wav(speech_wav(question))
    second, _ = read_wav(speech_wav(interruption))
    pcm = np.concatenate([first, np.zeros(int(after_s * rate), np.int16), second])
    return write_wav(tmp / "spoken-over.wav", pcm, rate)


def audio_ms(events: list[dict], item_id: str) -> float:
    """Milliseconds of ``item_id``'s audio the client received (pcm16 at 24 kHz), from the event log."""
    return sum(len(base64.b64decode(e["event"]["delta"])) / 48 for e in events
               if e["dir"] == "received" and e["event"]["type"] == "response.output_audio.delta"
               and e["event"]["item_id"] == item_id)


def timeline(events: list[dict]) -> str:
    """The event log as a failure message can show it: every frame but audio, with its time from the
    first, and each item's audio deltas as one line (how much, from when to when)."""
    if not events:
        return "(no events)"
    t0, lines, audio = events[0]["t"], [], {}
    for line in events:
        event, at = line["event"], line["t"] - t0
        kind = event.get("type", "")
        if kind in ("input_audio_buffer.append", "response.output_audio.delta"):
            if kind == "response.output_audio.delta":
                first, _, ms = audio.get(event["item_id"], (at, at, 0.0))
                audio[event["item_id"]] = (first, at, ms + len(base64.b64decode(event["delta"])) / 48)
            continue
        detail = {k: v for k, v in event.items() if k in ("item_id", "audio_start_ms", "audio_end_ms", "transcript")}
        if kind == "response.done":
            detail["status"] = event["response"]["status"]
        lines.append(f"{at:7.2f} {line['dir']:8} {kind} {detail or ''}")
    lines += [f"audio of {item}: {ms:.0f} ms received {a:.2f}–{b:.2f} s" for item, (a, b, ms) in audio.items()]
    return "\n".join(lines)


async def test_talking_over_the_answer_truncates_it_at_what_was_played(tmp_path):
    """``parley --headless`` with an input whose speech goes on over the assistant's story: the story
    stops, the client truncates it at what was played (the event log: truncate sent, truncated
    confirmed), the transcript keeps the heard part apart, and the interruption gets its answer.

    The input is fixed, so the story must be playing when the interruption comes: it starts 10 s after
    the question, the server's speech models are loaded before the run (loading them on the first
    question took ~9 s on a loaded machine), and the story (~45 s of speech) then starts within ~2 s,
    so it has played for seconds and has most of its length to go. The server sends audio at twice
    real time, as the real service sends it ahead (paced at 1.0 the client holds only ~40–130 ms it has
    not played, and a late chunk leaves nothing unheard at the cut); the answer is still being made
    when the user talks over it."""
    wav = spoken_over_the_answer(tmp_path, "Tell me a long story.", "What time is it?", after_s=10.0)
    async with LocalServer(port=0, pace=2.0) as srv:
        await asyncio.to_thread(srv.pool.warm_up)
        code, stderr, transcript, events = await headless(tmp_path, srv.url, wav, timeout=90)
    try:
        talked_over(code, stderr, transcript, events, tmp_path / "answer.wav")
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{json.dumps(transcript['turns'], indent=1)}\n{timeline(events)}") from None


def talked_over(code: int, stderr: str, transcript: dict, events: list[dict], played: Path) -> None:
    assert code == 0, stderr
    check_event_log(events)
    turns = transcript["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"], turns
    story, question, answer = turns[1], turns[2], turns[3]
    # the event log: the client truncated the story once, after the server heard the user start
    # (a file microphone has no local detector: the server's VAD is the only path here)
    kinds = [(e["dir"], e["event"]["type"]) for e in events]
    truncates = [e["event"] for e in events if e["dir"] == "sent" and e["event"]["type"] == "conversation.item.truncate"]
    assert [t["item_id"] for t in truncates] == [story["item_id"]], truncates
    cut = truncates[0]["audio_end_ms"]
    started = [k for k, kind in enumerate(kinds) if kind == ("received", "input_audio_buffer.speech_started")]
    assert len(started) == 2 and started[1] < kinds.index(("sent", "conversation.item.truncate"))
    truncated = [e["event"] for e in events if e["event"]["type"] == "conversation.item.truncated"]
    assert [(t["item_id"], t["audio_end_ms"]) for t in truncated] == [(story["item_id"], cut)]
    received = audio_ms(events, story["item_id"])
    done = [e["event"]["response"]["status"] for e in events if e["event"]["type"] == "response.done"]
    assert done == ["cancelled", "completed"], done  # the story was still being made: the server's VAD cut it
    assert 1000 <= cut < received - 1000, (cut, received)  # seconds of it played, seconds of it never were
    # the transcript: the story marked interrupted, what was heard a proper prefix of what was said
    assert story["truncated"] and not answer["truncated"] and not question["truncated"]
    heard, text = story["heard"], story["text"]
    assert heard.strip() and text.startswith(heard) and len(heard) < len(text), story
    assert heard.split() + text[len(heard):].split() == text.split()  # cut between words
    assert answer["heard"] == answer["text"] and "time" in question["text"].lower() and "computer" in answer["text"]
    # the played audio holds the heard part of the story and the whole answer (a speaker that ran dry
    # between sentences adds silence, never takes any away)
    assert 1000 * seconds(played) >= cut + audio_ms(events, answer["item_id"]) - 40
    stopped = next(e["t"] for e in events if e["event"]["type"] == "input_audio_buffer.speech_stopped")
    first = next(e["t"] for e in events if e["event"]["type"] == "response.output_audio.delta")
    print(f"\nheadless barge-in: the story's first audio {first - stopped:.1f} s after the question ended; "
          f"cut at {cut} ms of {received:.0f} ms received")


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
