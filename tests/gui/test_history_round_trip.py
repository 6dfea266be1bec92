"""The history round trip through the real window against the real embedded server, with
synthesised speech as the microphone: talk → close the app → open it again → search → continue →
the demo's brain answers "what did I say before?" from the replayed context."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.controller.states import Conn
from desktop_app.history.service import History
from desktop_app.local_server import LocalServer
from tests.gui.harness import Gui, wait_until
from tests.helpers.speech import speech_wav

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def local_server() -> LocalServer:
    return LocalServer(port=0, pace=1.0, asr="whisper", tts="auto", seed=5)


def lines(gui: Gui) -> list[tuple[str, str]]:
    return [(e.role, e.text) for e in gui.view.transcript if e.final]


def said_green(gui: Gui) -> bool:
    return any(role == "user" and "green" in text.lower() for role, text in lines(gui))


async def test_a_conversation_is_saved_found_and_continued_with_its_context(qloop, qtbot, tmp_path):
    # 1. Talk, hands-free, then close the app.
    server = local_server()
    async with Gui(tmp_path, None, server=server, wav=speech_wav("My favourite colour is green."),
                   settings={"turn_mode": "hands_free"}) as gui:
        await gui.rendered()
        await asyncio.to_thread(server.pool.warm_up)  # models load once per process
        gui.window.bar.connect_button.click()
        await wait_until(lambda: said_green(gui) and any(r == "assistant" for r, _ in lines(gui)), 40)
        first_answer = next(t for r, t in lines(gui) if r == "assistant")
    # 2. Open the app again: the conversation is in the history; search for it and continue it.
    server = local_server()
    async with Gui(tmp_path, None, server=server, wav=speech_wav("What did I say before?"),
                   settings={"turn_mode": "hands_free"}) as gui:
        observe = gui.window.observe
        gui.window.activateWindow()  # shortcuts belong to the active window
        await wait_until(gui.window.isActiveWindow)
        QTest.keyClick(gui.window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        sidebar = observe.history
        await wait_until(lambda: observe.history_dock.isVisible() and sidebar.tree.topLevelItemCount() == 1, 10)
        sidebar.search.setText("green")
        await wait_until(lambda: "1 conversation found" in sidebar.status.text(), 10)
        hit = sidebar.tree.topLevelItem(0)
        assert "green" in hit.child(0).text(0).lower()  # the matched line, with its words marked
        sidebar.tree.setCurrentItem(hit)
        assert gui.view.transcript == ()
        sidebar.continue_button.click()
        # The saved lines come back into the window at once, and into the model's context.
        await wait_until(lambda: said_green(gui), 10)
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED, 20)
        await wait_until(lambda: any(r == "assistant" and t.startswith("You said") for r, t in lines(gui)), 40)
        answer = next(t for r, t in lines(gui) if r == "assistant" and t.startswith("You said"))
        assert "green" in answer.lower(), answer  # without the context the demo says "You said: nothing yet"
        assert lines(gui)[1] == ("assistant", first_answer)
    # 3. Both conversations are saved; the second says which one it continues and holds only its own lines.
    history = History(tmp_path / "history.sqlite3")
    await history.open()
    try:
        newest, oldest = await history.conversations()
        assert newest.continued_from == oldest.id
        continued = await history.load(newest.id)
        texts = [e.text for e in continued.entries]
        assert not any("green" in t.lower() and e.role == "user" for t, e in zip(texts, continued.entries))
        assert any("you said" in t.lower() and "green" in t.lower() for t in texts)
        assert continued.turns and continued.turns[0].speech_to_first_byte_ms is not None
        assert continued.usage.get("tokens", {}).get("responses", 0) >= 1
    finally:
        await history.close()
