"""GPT-Live through the real window: the Tools tab and the banner say why MCP servers are not sent (and the
session.start proves it); against the embedded server, the Interrupt button silences a long answer — the model
is asked to stop, the next answer plays in full — and the usage panel shows the billed seconds; a saved Live
conversation continued from the history starts its new session with what was said ("what did I say before?")."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.controller.states import Conn
from desktop_app.live.connection import LIVE_TRAITS
from desktop_app.local_server import LocalServer
from desktop_app.local_server.brain import STORY
from desktop_app.settings.tools import McpServerConfig
from desktop_app.tools import ToolRegistry
from desktop_app.tools.assembly import MCP_NOT_IN_DIALECT
from desktop_app.ui.theme import LIGHT
from desktop_app.ui.widgets import dialect_notes
from desktop_app.ui.widgets.tools_tab import ToolsTab
from tests.gui.harness import Gui, wait_until
from tests.gui.test_local_server_e2e import warm
from tests.helpers.speech import read_wav, speech_wav
from tests.live import frames as L
from tests.live.peer import LivePeer

pytestmark = pytest.mark.gui
LIVE = {"turn_mode": "hands_free", "model": "gpt-live-1"}


def local_server() -> LocalServer:
    return LocalServer(port=0, pace=1.0, asr="whisper", tts="auto", seed=5)


def lines(gui: Gui) -> list[tuple[str, str]]:
    return [(e.role, e.text) for e in gui.view.transcript if e.final]


async def test_the_window_says_why_mcp_servers_are_not_sent_to_gpt_live(qloop, qtbot, tmp_path):
    docs = McpServerConfig(label="docs", url="https://mcp.example.com/mcp")
    async with LivePeer() as peer, Gui(tmp_path, peer, settings={**LIVE, "mcp_servers": (docs,)}) as gui:
        await gui.rendered()
        note = gui.window.tools.tab.mcp_dialect_note
        assert note.text() == dialect_notes.MCP and not note.isHidden()
        assert gui.view.notice is not None and gui.view.notice.sentence == MCP_NOT_IN_DIALECT
        gui.window.bar.connect_button.click()
        start = await peer.next("session.start")
        assert "mcp" not in json.dumps(start["session"]) and "mcp.example.com" not in json.dumps(start)
        await peer.send(L.started(client_event_id=start["event_id"]))
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED)
        gui.window.tools.tab.rebuild()  # the tab laid out again (a tools change) keeps saying it
        assert gui.window.tools.tab.mcp_dialect_note.text() == dialect_notes.MCP


def test_the_tools_tab_keeps_its_mcp_note_when_laid_out_again(qtbot, tmp_path):
    tab = ToolsTab(LIGHT, ToolRegistry(), tools_file=tmp_path / "tools.toml")
    qtbot.addWidget(tab)
    assert tab.mcp_dialect_note.isHidden()  # Realtime: nothing to say
    tab.show_dialect_note(dialect_notes.mcp(LIVE_TRAITS))
    tab.rebuild()  # a tools change lays the tab out again
    assert tab.mcp_dialect_note.text() == dialect_notes.MCP and not tab.mcp_dialect_note.isHidden()
    tab.show_dialect_note(None)
    assert tab.mcp_dialect_note.isHidden()


@pytest.mark.slow
async def test_the_interrupt_button_stops_gpt_live_and_the_next_answer_plays(qloop, qtbot, tmp_path):
    server = local_server()
    async with Gui(tmp_path, None, server=server, wav=speech_wav("Tell me a long story."), settings=LIVE) as gui:
        await warm(server)
        gui.window.bar.connect_button.click()
        await wait_until(lambda: any(r == "assistant" and "lighthouse" in t for r, t in
                                     ((e.role, e.text) for e in gui.view.transcript)), 60)
        await wait_until(lambda: gui.view.assistant_speaking, 10)
        gui.window.talk.interrupt.click()
        await wait_until(lambda: not gui.view.assistant_speaking, 10)  # silenced here (at once: tests/live)
        # The model was asked to stop: the story ends well short, and what played is what counts as heard.
        await wait_until(lambda: any(e.role == "assistant" and "lighthouse" in e.text and e.final
                                     for e in gui.view.transcript), 20)
        told = next(e for e in gui.view.transcript if e.role == "assistant" and "lighthouse" in e.text)
        assert len(told.text) < len(STORY) / 2, told.text
        assert told.truncated and told.heard is not None and len(told.heard) <= len(told.text)
        played = gui.port.played_blocks
        question, _ = read_wav(speech_wav("What is two plus three?"))
        gui.port.say(question.tobytes())
        await wait_until(lambda: any(r == "assistant" and "five" in t.lower() for r, t in lines(gui)), 60)
        await wait_until(lambda: gui.window.indicators.phase == "Listening", 15)
        assert gui.port.played_blocks - played > 20  # the next answer really played
        await wait_until(lambda: gui.view.usage_seconds > 0, 30)  # the server reports usage every 15 s
        panel = gui.window.observe.usage
        panel.refresh()
        assert panel.cells[("Session time", "session")].text() == dialect_notes.billed_time(gui.view.usage_seconds)
        assert "billed by the second" in panel.model_line.text()
        assert panel.cells[("Cost", "session")].text() == "free (offline demo)"


@pytest.mark.slow
async def test_a_saved_gpt_live_conversation_is_continued_with_its_context(qloop, qtbot, tmp_path):
    server = local_server()
    async with Gui(tmp_path, None, server=server, wav=speech_wav("My favourite colour is green."),
                   settings=LIVE) as gui:
        await warm(server)
        gui.window.bar.connect_button.click()
        await wait_until(lambda: any(r == "user" and "green" in t.lower() for r, t in lines(gui))
                         and any(r == "assistant" for r, _ in lines(gui)), 60)
    server = local_server()
    async with Gui(tmp_path, None, server=server, wav=speech_wav("What did I say before?"), settings=LIVE) as gui:
        observe = gui.window.observe
        gui.window.activateWindow()
        await wait_until(gui.window.isActiveWindow)
        QTest.keyClick(gui.window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        sidebar = observe.history
        await wait_until(lambda: observe.history_dock.isVisible() and sidebar.tree.topLevelItemCount() == 1, 10)
        sidebar.search.setText("green")
        await wait_until(lambda: "1 conversation found" in sidebar.status.text(), 10)
        sidebar.tree.setCurrentItem(sidebar.tree.topLevelItem(0))
        sidebar.continue_button.click()
        await wait_until(lambda: any(r == "user" and "green" in t.lower() for r, t in lines(gui)), 10)
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED, 20)
        await wait_until(lambda: any(r == "assistant" and t.startswith("You said") for r, t in lines(gui)), 60)
        answer = next(t for r, t in lines(gui) if r == "assistant" and t.startswith("You said"))
        assert "green" in answer.lower(), answer  # without the seeded context: "You said: nothing yet."
