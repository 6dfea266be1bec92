"""The window against the real embedded server: synthesized speech as the microphone, server-side
recognition, VAD and synthesis in real time — held push-to-talk and hands-free."""

from __future__ import annotations

import asyncio
import re

import pytest
from PySide6.QtCore import Qt

from desktop_app.controller.states import Conn
from desktop_app.local_server import LocalServer
from desktop_app.local_server.brain import number_words
from tests.gui.harness import Gui, wait_until
from tests.helpers.speech import speech_wav

pytestmark = [pytest.mark.gui, pytest.mark.slow]

ANSWER = "Two plus three is five."
#: The speech path alone: the calculator tool would add a turn of its own (tests/gui/test_tools_e2e.py).
NO_CALCULATOR = {"tools_disabled": ("calculate",)}


def local_server() -> LocalServer:
    return LocalServer(port=0, pace=1.0, asr="whisper", tts="auto", seed=5)


async def warm(server: LocalServer) -> None:
    await asyncio.to_thread(server.pool.warm_up)  # models load once per process


def said(gui: Gui) -> list[tuple[str, str]]:
    return [(e.role, e.text) for e in gui.window.transcript.entries() if e.final]


def words(text: str) -> set[str]:
    """Lower-case words with digits spelled out ("2 plus 3" → two, plus, three)."""
    spelled = re.sub(r"\d+", lambda m: " " + number_words(int(m.group())) + " ", text.lower())
    return set(re.findall(r"[a-z']+", spelled))


def question_heard(gui: Gui) -> bool:
    """The user's bubble holds the recognised question (Whisper's wording varies a little)."""
    return any(e.role == "user" and e.final and {"two", "plus", "three"} <= words(e.text)
               for e in gui.window.transcript.entries())


async def test_push_to_talk_against_the_local_server_transcribes_and_answers(qloop, qtbot, tmp_path):
    server = local_server()
    wav = speech_wav("What is two plus three?")
    async with Gui(tmp_path, None, server=server, wav=wav, settings={"turn_mode": "push_to_talk", **NO_CALCULATOR}) as gui:
        await warm(server)  # before connecting: the microphone WAV starts with the session
        gui.window.bar.connect_button.click()
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED, 10)
        talk = gui.window.talk.talk
        qtbot.mousePress(talk, Qt.MouseButton.LeftButton)
        await gui.rendered()
        assert gui.window.indicators.phase == "You are speaking"
        await asyncio.wait_for(gui.port.input_done, 10)
        qtbot.mouseRelease(talk, Qt.MouseButton.LeftButton)
        await wait_until(lambda: ("assistant", ANSWER) in said(gui) and question_heard(gui), 30)
        await wait_until(lambda: gui.window.indicators.phase == "Hold to talk", 15)
        assert gui.phases[gui.phases.index("You are speaking"):] == [
            "You are speaking", "Thinking…", "Assistant is speaking", "Hold to talk"]
        assert gui.port.played_blocks > 20  # the answer really "played" (≥ 400 ms)


async def test_hands_free_against_the_local_server_follows_its_vad(qloop, qtbot, tmp_path):
    server = local_server()
    wav = speech_wav("What is two plus three?")
    async with Gui(tmp_path, None, server=server, wav=wav, settings={"turn_mode": "hands_free", **NO_CALCULATOR}) as gui:
        await warm(server)
        gui.window.bar.connect_button.click()
        await wait_until(lambda: ("assistant", ANSWER) in said(gui) and question_heard(gui), 30)
        await wait_until(lambda: gui.window.indicators.phase == "Listening", 15)
        assert gui.phases[gui.phases.index("You are speaking"):] == [
            "You are speaking", "Thinking…", "Assistant is speaking", "Listening"]
        assert any(v.user_speaking for v in gui.views)  # driven by the server's speech_started
        assert gui.session.can_preview_voices  # the demo's synthesizer can speak any voice
        sample = await gui.session.voice_sample("cedar")
        assert sample is not None and len(sample) > 24000  # more than half a second of speech
        assert not gui.window.session_panel.preview.isEnabled()  # but this test machine has no speaker
