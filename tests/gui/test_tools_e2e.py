"""Tools through the real window (``ui/bootstrap.build_window``) against the embedded local server,
spoken: synthesised questions are the microphone, the server's brain calls Parley's tools the way a
model would, the window asks in its permission dialog, runs the calls and the server speaks the answer.

The window talks to the server through a recording relay, so every test checks the protocol from the
frames: each valid against the SDK's strict unions, exactly one ``function_call_output`` per
``call_id``, and no ``response.create`` while a response is in progress.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from desktop_app.controller.states import Conn
from desktop_app.local_server import LocalServer
from desktop_app.settings.store import SettingsStore
from desktop_app.settings.tools import McpServerConfig, ToolPrefs
from tests.e2e.test_headless_tools import check_tool_protocol
from tests.gui.harness import Gui, wait_until
from tests.helpers.mcp_server import McpTestServer
from tests.helpers.relay import RecordingRelay
from tests.helpers.speech import read_wav, speech_wav
from tests.realtime.oracle import validate_client_event, validate_server_event

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A private PARLEY_HOME: the notes file, the tools file and the tool secrets are this test's."""
    folder = tmp_path / "home"
    monkeypatch.setenv("PARLEY_HOME", str(folder))
    return folder


def relay() -> RecordingRelay:
    return RecordingRelay(LocalServer(port=0, pace=1.0, asr="whisper", tts="auto", seed=7))


async def warm(server: RecordingRelay) -> None:
    await asyncio.to_thread(server.pool.warm_up)  # models load once per process


def tools_shown(gui: Gui) -> list[tuple[str, str]]:
    return [(e.tool_name or "", e.tool_status or "") for e in gui.window.transcript.entries() if e.role == "tool"]


def answers(gui: Gui) -> str:
    return " ".join(e.text for e in gui.window.transcript.entries() if e.role == "assistant" and e.final)


def check_frames(events: list[dict]) -> None:
    for line in events:
        (validate_client_event if line["dir"] == "sent" else validate_server_event)(line["event"])
    check_tool_protocol(events)


def outputs(events: list[dict]) -> dict[str, dict]:
    items = [e["event"]["item"] for e in events if e["dir"] == "sent" and e["event"]["type"] == "conversation.item.create"
             and e["event"]["item"]["type"] == "function_call_output"]
    assert len({i["call_id"] for i in items}) == len(items)
    return {i["call_id"]: json.loads(i["output"]) for i in items}


def what_happened(gui: Gui, server: RecordingRelay) -> str:
    """The transcript, the turn phases and the server's event types so far: why a wait failed."""
    said = [(e.role, e.text, e.tool_status) for e in gui.window.transcript.entries()]
    kinds = Counter(f"{e['dir']} {e['event']['type']}" for e in server.events)
    return f"transcript {said}; phases {gui.phases[-8:]}; connection {gui.view.connection}; events {dict(kinds)}"


async def open_prompt(gui: Gui, server: RecordingRelay):  # noqa: ANN201
    await wait_until(lambda: gui.window.tools.approver.current is not None, 40, lambda: what_happened(gui, server))
    return gui.window.tools.approver.current


async def test_a_spoken_note_asks_first_runs_when_allowed_and_the_answer_is_spoken(qloop, qtbot, tmp_path, home):
    server = relay()  # the window's session starts and stops it
    async with Gui(tmp_path, None, server=server, wav=speech_wav("Note that I need milk."),
                   settings={"turn_mode": "hands_free"}) as gui:
        await warm(server)
        gui.window.bar.connect_button.click()
        dialog = await open_prompt(gui, server)
        assert dialog.request.tool == "append_note" and dialog.isVisible()
        assert json.loads(dialog.arguments.toPlainText())["text"].lower().rstrip(".") == "i need milk"
        await wait_until(lambda: gui.window.indicators.phase == "Waiting for your permission…")
        assert tools_shown(gui) == [("append_note", "approval")]
        assert any("waiting for your permission" in text for text in gui.window.tools.strip.texts())
        dialog.once_button.click()
        await wait_until(lambda: "I saved that in your notes." in answers(gui), 40)
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED and gui.window.indicators.phase == "Listening", 20)
        assert tools_shown(gui) == [("append_note", "done")]
        assert "i need milk" in (home / "data" / "notes" / "notes.md").read_text().lower()
        assert "Waiting for your permission…" in gui.phases and not gui.window.tools.strip.isVisible()
        [result] = outputs(server.events).values()
        assert result["saved"] is True
    check_frames(server.events)


async def test_two_requests_run_two_calls_at_once_and_one_answer_comes_from_both(qloop, qtbot, tmp_path, home):
    question = speech_wav("What time is it in Tokyo, and what is 17 times 23?")
    server = relay()  # the window's session starts and stops it
    async with Gui(tmp_path, None, server=server, wav=question,
                   settings={"turn_mode": "hands_free"}) as gui:
        await warm(server)
        gui.window.bar.connect_button.click()
        await wait_until(lambda: "three hundred and ninety one" in answers(gui), 60)
        assert tools_shown(gui) == [("current_time", "done"), ("calculate", "done")]
        assert "in Tokyo" in answers(gui)
        results = list(outputs(server.events).values())
        assert results[0]["timezone"] == "Asia/Tokyo" and results[1]["result"] == 391
    check_frames(server.events)


async def test_talking_while_the_prompt_waits_cancels_the_call(qloop, qtbot, tmp_path, home):
    QGuiApplication.clipboard().setText("buy stamps")
    server = relay()  # the window's session starts and stops it
    async with Gui(tmp_path, None, server=server, wav=speech_wav("What's on my clipboard?"),
                   settings={"turn_mode": "hands_free"}) as gui:
        await warm(server)
        gui.window.bar.connect_button.click()
        dialog = await open_prompt(gui, server)
        assert dialog.request.tool == "read_clipboard"
        closed: list[int] = []
        dialog.finished.connect(closed.append)
        pcm, _ = read_wav(speech_wav("Hello there."))
        gui.port.say(pcm.tobytes())  # the user talks over the open prompt
        instead = lambda: what_happened(gui, server)  # noqa: E731
        await wait_until(lambda: closed == [0] and gui.window.tools.approver.current is None, 30, instead)
        await wait_until(lambda: tools_shown(gui) == [("read_clipboard", "cancelled")], 20, instead)
        await wait_until(lambda: "Hello" in answers(gui), 40, instead)  # the new turn is answered
        [result] = outputs(server.events).values()
        assert result["error"]["type"] == "cancelled"
        assert "buy stamps" not in json.dumps(server.events)  # the clipboard was never read
    check_frames(server.events)


async def test_an_mcp_server_lists_asks_and_answers_through_the_window(qloop, qtbot, tmp_path, home):
    async with McpTestServer() as mcp:
        server_config = McpServerConfig(label="weather", url=mcp.url, allowed_tools=("weather_forecast",))
        server = relay()  # the window's session starts and stops it
        async with Gui(tmp_path, None, server=server, wav=speech_wav("What is the weather like in Paris?"),
                       settings={"turn_mode": "hands_free", "mcp_servers": (server_config,)}) as gui:
            await warm(server)
            gui.window.bar.connect_button.click()
            dialog = await open_prompt(gui, server)
            request = dialog.request
            assert (request.kind, request.server_label, request.tool) == ("mcp", "weather", "weather_forecast")
            assert json.loads(dialog.arguments.toPlainText()) == {"city": "Paris"}
            box = gui.window.tools.box
            assert box.mcp.by_server["weather"].tools[0][0] == "weather_forecast"
            dialog.always_button.click()
            await wait_until(lambda: "Sunny and 21 degrees in Paris" in answers(gui), 40)
            assert tools_shown(gui) == [("weather · weather_forecast", "done")]
            assert mcp.calls == [{"name": "weather_forecast", "arguments": {"city": "Paris"}}] and mcp.problems == []
            stored = ToolPrefs.from_settings(SettingsStore(tmp_path / "settings.ini").settings).mcp_servers[0]
            assert stored.trusted_tools == ("weather_forecast",)  # "Always" is remembered
        kinds = Counter(e["event"]["type"] for e in server.events)
        assert kinds["mcp_list_tools.completed"] == 1 and kinds["response.mcp_call.completed"] == 1
        approvals = [e["event"]["item"] for e in server.events if e["dir"] == "sent"
                     and e["event"]["type"] == "conversation.item.create"]
        assert [(a["type"], a["approve"]) for a in approvals] == [("mcp_approval_response", True)]
        check_frames(server.events)
