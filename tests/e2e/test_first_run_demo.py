"""The first start, as a new user has it: ``make run`` on a fresh home (no settings, no key), the
first-run panel, "Try the offline demo", a spoken question, a spoken answer — then quit.

The window is the one ``bootstrap.run`` builds (``build_engine`` + ``build_window`` with the app's
default settings store in ``PARLEY_HOME``, its history, and the default demo server: a fresh
:class:`~desktop_app.local_server.LocalServer` the session starts when the demo is chosen). Only the
keyring is an in-memory one (empty: no key), and the room is the private PipeWire session's laptop
(tests/audio/test_aec_loopback.py's :class:`EchoRoom`: the speaker heard by the microphone 30 ms
later at −3 dB, the user's synthesized voice into the microphone). What the speaker played is
recorded apart from the app (``parec`` on the sink's monitor) and recognised offline: the answer
must be heard in the room, not only counted by the app. A failure carries the audio probe's timeline.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.controller.states import Conn
from desktop_app.local_server.brain import number_words
from desktop_app.local_server.speech import asr
from desktop_app.settings.profiles import LocalProfile
from desktop_app.settings.store import SettingsStore, default_settings_path
from tests.audio.test_aec_loopback import EchoRoom
from tests.helpers.app_window import AppWindow, memory_keys
from tests.helpers.speaker import SpeakerRecording
from tests.helpers.speech import read_wav, speech_wav
from tests.helpers.wait import wait_until

pytestmark = [pytest.mark.audio, pytest.mark.gui, pytest.mark.slow, pytest.mark.timeout(240)]

QUESTION = "What is two plus three?"


def words(text: str) -> set[str]:
    """Lower-case words with digits spelled out ("2 plus 3 is 5" → two, plus, three, is, five)."""
    spelled = re.sub(r"\d+", lambda m: " " + number_words(int(m.group())) + " ", text.lower())
    return set(re.findall(r"[a-z']+", spelled))


async def refused(port: int) -> bool:
    """True when nothing listens on ``port`` of this computer any more."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


async def test_a_first_start_without_a_key_holds_a_spoken_conversation_with_the_offline_demo(
        pipewire_session, qloop, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("PARLEY_HOME", str(home))  # a fresh home: no settings, no history
    question, rate = read_wav(await asyncio.to_thread(speech_wav, QUESTION, voice="shimmer"))
    with EchoRoom(pipewire_session, delay_ms=30.0, gain=0.7) as room:
        async with AppWindow(keys=memory_keys()) as app:  # the app's own settings file, history and demo server
            window, session, engine = app.window, app.session, app.engine
            assert not default_settings_path().exists() and str(default_settings_path()).startswith(str(home))
            # the first-run panel: no key, not the demo yet, nothing started
            await app.rendered()
            assert session.needs_key() and not isinstance(session.profile, LocalProfile)
            assert window.stack.currentWidget() is window.first_run and window.first_run.demo_button.isVisible()
            assert session.server is None and engine.capture is None and engine.playback is None
            with app.timeline_on_failure():
                with SpeakerRecording(tmp_path / "speaker.raw") as speaker:
                    qtbot.mouseClick(window.first_run.demo_button, Qt.MouseButton.LeftButton)
                    await wait_until(lambda: session.view.connection is Conn.CONNECTED, 60, "the demo to connect")
                    app.probe.start()
                    assert window.stack.currentWidget() is window.conversation
                    assert isinstance(session.profile, LocalProfile) and session.server is not None
                    assert engine.audio_mode == "speakers" and engine.capture is not None  # the default: laptop
                    app.probe.user_speaks(QUESTION, len(question) / rate)
                    room.talk(question.astype("float32") / 32768.0, rate)
                    ctl = session.controller

                    def answered() -> bool:
                        return any(e.role == "assistant" and e.final and "five" in words(e.text)
                                   for e in ctl.transcript()) and ctl.settled

                    # the models load in the background once the demo starts (the first run has them cold)
                    await wait_until(answered, 120, "the spoken answer")
                answer = next(e for e in ctl.transcript() if e.role == "assistant" and "five" in words(e.text))
                assert any(e.role == "user" and {"two", "plus", "three"} <= words(e.text) for e in ctl.transcript())
                played_s = engine.queue.report(answer.item_id).played_ms / 1000
                assert played_s >= 1.0 and not answer.truncated  # "… is five." whole, never cut by its echo
                assert app.wire.sent("conversation.item.truncate") == [] and app.wire.sent("response.cancel") == []
                # the room heard it: the speaker's own output, recognised offline, says the answer
                audible = speaker.audible_s(-45.0)
                assert audible >= 0.5 * played_s, (audible, played_s)
                said = await asyncio.to_thread(asr.transcribe, speaker.pcm(), "auto")
                assert "five" in words(said), said
                print(f"\nfirst run: {answer.text!r} played {played_s:.1f} s; the room heard {audible:.1f} s: {said!r}; "
                      f"tools: {[(e.tool_name, e.tool_status) for e in ctl.transcript() if e.role == 'tool']}; "
                      f"audio probe: {app.probe.summary()}")
                await app.rendered()
                bubble = window.transcript.bubble(answer.item_id)
                assert bubble is not None and bubble.entry is not None and "five" in words(bubble.entry.text)
            server_port = int(re.search(r":(\d+)/", session.server.url).group(1))  # type: ignore[union-attr]
        with app.timeline_on_failure():  # the window closed as a person closes it: all it started has stopped
            assert session.server is None and await refused(server_port)
            assert engine.capture is None and engine.playback is None
            # the choice is remembered: the next start opens the demo at once (bootstrap.run)
            assert isinstance(SettingsStore().settings.profile(), LocalProfile)
