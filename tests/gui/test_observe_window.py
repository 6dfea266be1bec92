"""Issue #19 through the real window (``ui/bootstrap`` composition) against the scripted peer: the
event log dock, the spending stop, the turn timings and pings in the monitor, and the history
(clearing keeps the old conversation; continue replays it)."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.controller.states import Conn, Mic
from desktop_app.history.service import History
from desktop_app.settings.profiles import CustomProfile
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until
from tests.realtime import frames as F

pytestmark = pytest.mark.gui

KEY = "sk-observe-window-test-0123456789abcdef"


def usage(audio_out_tokens: int) -> dict:
    """A response's usage: ``audio_out_tokens`` of audio out (gpt-realtime: $64 per 1M)."""
    return {"total_tokens": audio_out_tokens, "input_tokens": 0, "output_tokens": audio_out_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0, "cached_tokens": 0,
                                    "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0}},
            "output_token_details": {"text_tokens": 0, "audio_tokens": audio_out_tokens}}


def use_peer_profile(gui: Gui, peer: ScriptedPeer) -> None:
    """A paid endpoint (not the free offline demo) that is the scripted peer."""
    profile = CustomProfile(name="Peer", url=peer.url)
    gui.store.update(profiles=(*gui.store.settings.profiles, profile), active_profile="Peer")
    gui.keys.set_key(profile, KEY)
    gui.window.show_settings()


def appends_after(peer: ScriptedPeer, index: int) -> int:
    return sum(f["type"] == "input_audio_buffer.append" for f in peer.all_frames[index:])


async def test_the_event_log_dock_is_hidden_costs_nothing_and_opens_from_the_menu_and_shortcut(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        observe = gui.window.observe
        dock, view = observe.event_log, observe.event_log.view
        assert not dock.isVisible() and not observe.monitor_dock.isVisible() and not observe.history_dock.isVisible()
        await gui.connect()
        await peer.send(F.rate_limits())
        await wait_until(lambda: observe.conversations.observatory.events.last_seq >= 3)
        assert not view.polling and view.model.rows == []  # nothing was done for the widget per event

        gui.window.activateWindow()  # shortcuts belong to the active window
        await wait_until(gui.window.isActiveWindow)
        QTest.keyClick(gui.window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        await wait_until(lambda: dock.isVisible())
        assert view.polling
        types = [r.type for r in view.model.rows]
        assert types[0] == "session.created"
        assert {"session.update", "session.updated", "rate_limits.updated"} <= set(types)
        menu = next(a.menu() for a in gui.window.menuBar().actions() if a.text() == "&View")
        entry = next(a for a in menu.actions() if a.text().startswith("Event log"))
        assert entry.isChecked() and "Ctrl+Shift+E" in entry.text()
        entry.trigger()  # the menu entry hides it again
        await wait_until(lambda: not dock.isVisible())
        assert not view.polling and not entry.isChecked()
        entry.trigger()
        await wait_until(lambda: dock.isVisible())


async def test_the_spending_limit_stops_the_microphone_until_the_user_agrees(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "hands_free",
                                                                      "spend_limit_session_usd": 1.0}) as gui:
        use_peer_profile(gui, peer)
        await gui.connect()
        await peer.next("input_audio_buffer.append", skip=())  # hands-free: the microphone streams
        # $0.832 of $1.00: a warning, nothing stops.
        await peer.send(F.response_created("resp_1"), F.response_done("resp_1", usage=usage(13_000)))
        await wait_until(lambda: gui.view.notice is not None and gui.view.notice.cause == "spend")
        assert "limit of $1.00 is close" in gui.view.notice.sentence and gui.view.mic is Mic.HANDS_FREE
        await peer.next("input_audio_buffer.append", skip=())
        # $1.664: the microphone stops at once and the window asks.
        await peer.send(F.response_created("resp_2"), F.response_done("resp_2", usage=usage(13_000)))
        await wait_until(lambda: gui.window.observe.spend_dialog is not None)
        # The stop clears the input buffer; frames are sent in order, so whatever the microphone sent
        # before the stop arrives before this clear, and nothing may follow it.
        clear = await peer.next("input_audio_buffer.clear")
        stopped_at = next(i for i, f in enumerate(peer.all_frames) if f is clear) + 1
        dialog = gui.window.observe.spend_dialog
        assert gui.view.mic is Mic.MUTED and dialog.isVisible() and gui.view.notice.action == "spend"
        await gui.rendered()
        assert "reached" in gui.window.banner.sentence.text()
        gui.window.talk.mute.click()  # unmuting does not get around the stop
        await gui.rendered()
        assert gui.view.mic is Mic.MUTED
        # A hands-free session left alone spends nothing: an answer the server starts is cancelled.
        await peer.send(F.response_created("resp_3"))
        await peer.next("response.cancel", skip=("input_audio_buffer.append", "input_audio_buffer.clear"))
        await asyncio.sleep(0.5)  # 25 microphone frames' time: none of them may be sent
        assert appends_after(peer, stopped_at) == 0
        dialog.continue_button.click()  # the user's OK: another 25 % of the limit
        await wait_until(lambda: gui.view.mic is Mic.HANDS_FREE)
        await peer.next("input_audio_buffer.append", skip=("input_audio_buffer.clear", "response.cancel"))
        assert appends_after(peer, stopped_at) >= 1
        status = gui.window.observe.conversations.observatory.spend.status
        assert status.level.value == "warning" and status.session_stop_at == pytest.approx(1.664 + 0.25)


async def test_a_turn_through_the_window_shows_its_timings_and_the_connection_in_the_monitor(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "hands_free"}) as gui:
        await gui.connect()
        obs = gui.window.observe.conversations.observatory
        await peer.send(F.speech_started("item_U1"), F.speech_stopped("item_U1"), F.committed("item_U1"))
        answer = F.assistant_item("item_A1")
        await peer.send(F.response_created("resp_1"), F.output_item_added("resp_1", answer), F.item_added(answer),
                        F.part_added("resp_1", "item_A1"), F.audio_delta("resp_1", "item_A1", 300))
        await wait_until(lambda: obs.turns.current is not None
                         and obs.turns.current.first_byte_to_playback_ms is not None)
        await peer.send(F.audio_done("resp_1", "item_A1"), F.response_done("resp_1"))
        await wait_until(lambda: obs.turns.current.total_ms is not None)
        turn = obs.turns.current
        assert turn.speech_to_first_byte_ms is not None and 0 <= turn.speech_to_first_byte_ms < 2000
        assert 0 <= turn.first_byte_to_playback_ms < 1000
        history = [c.state for c in obs.monitor.snapshot().history]
        assert history[:2] == ["connecting", "connected"]
        assert obs.monitor.snapshot().time_left_s is not None

        gui.window.observe.toggle(gui.window.observe.monitor_dock)
        panel = gui.window.observe.monitor
        await wait_until(lambda: panel.isVisible() and panel.values["first_byte"].text() != "—")
        assert panel.state.text().lower().startswith("connected")


async def test_clearing_keeps_the_old_conversation_and_continue_replays_it(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        gui.window.talk.text.setText("Remember the word fig.")
        gui.window.talk.send.click()
        await peer.next("conversation.item.create")
        await peer.next("response.create")
        user = F.user_text_item("item_U1", "Remember the word fig.")
        answer = F.assistant_item("item_A1", "completed", transcript="Fig, noted.")
        await peer.send(F.item_added(user), F.item_done(user), F.response_created("resp_1"),
                        F.item_added(answer), F.item_done(answer), F.response_done("resp_1", output=[answer]))
        await wait_until(lambda: len(gui.view.transcript) == 2)
        box = gui.window.dialogs.ask_new_conversation()
        box.button(box.StandardButton.Yes).click()
        await wait_until(lambda: gui.view.transcript == ())
        await peer.connected(2)
        await peer.send(F.session_created())
        await gui.accept_update()
        history: History = gui.window.observe.conversations.history
        await history.flush()
        (saved,) = await history.conversations()
        loaded = await history.load(saved.id)
        assert [(e.role, e.text) for e in loaded.entries] == [("user", "Remember the word fig."),
                                                              ("assistant", "Fig, noted.")]
        assert saved.title == "Remember the word fig." and saved.ended_at is not None

        sidebar = gui.window.observe.history
        gui.window.observe.toggle(gui.window.observe.history_dock)
        sidebar.search.setText("fig")
        await wait_until(lambda: sidebar.tree.topLevelItemCount() == 1)
        assert sidebar.select(saved.id)
        sidebar.continue_button.click()
        await peer.connected(3)  # the cleared conversation's session closes; a new one starts
        await peer.send(F.session_created())
        await gui.accept_update()
        replayed = [await peer.next("conversation.item.create") for _ in range(2)]
        assert [r["item"]["content"][0]["text"] for r in replayed] == ["Remember the word fig.", "Fig, noted."]
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED)
        await gui.rendered()
        assert "Remember the word fig." in gui.window.transcript.copy_text()
        assert gui.view.transcript[0].item_id == "item_U1"  # the saved line, shown again


async def test_every_export_from_the_window_is_redacted(qloop, qtbot, tmp_path, monkeypatch):
    """The key (a shape no pattern knows: only the key store's registration can redact it) is pasted
    into the conversation by mistake; no export the window offers may contain it."""
    import json
    import zipfile

    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QFileDialog

    key = "zz" + "7" * 40
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        profile = CustomProfile(name="Peer", url=peer.url)
        gui.store.update(profiles=(*gui.store.settings.profiles, profile), active_profile="Peer")
        gui.keys.set_key(profile, key)
        await gui.connect()
        gui.window.talk.text.setText(f"my key is {key}")
        gui.window.talk.send.click()
        sent = await peer.next("conversation.item.create")
        await peer.next("response.create")
        user = F.user_text_item("item_U1", sent["item"]["content"][0]["text"])
        answer = F.assistant_item("item_A1", "completed", transcript=f"Please do not share {key}.")
        await peer.send(F.item_added(user), F.item_done(user), F.response_created("resp_1"),
                        F.item_added(answer), F.item_done(answer), F.response_done("resp_1", output=[answer]),
                        F.error("invalid_request_error", f"Something about {key}"))
        await wait_until(lambda: len(gui.view.transcript) == 2)
        observe = gui.window.observe
        out = {name: tmp_path / name for name in ("events.jsonl", "diagnostics.zip", "talk.md", "talk.json")}

        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out["events.jsonl"]), ""))
        observe.toggle(observe.event_log)
        observe.event_log.view.export.click()
        await wait_until(lambda: out["events.jsonl"].exists() and "Exported" in observe.event_log.view.status.text())
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out["diagnostics.zip"]), ""))
        observe.toggle(observe.monitor_dock)
        observe.monitor.copy_button.click()
        copied = QGuiApplication.clipboard().text()
        observe.monitor.save_button.click()
        await wait_until(lambda: out["diagnostics.zip"].exists())
        history = observe.conversations.history
        await history.flush()
        (saved,) = await history.conversations()
        await observe.history.export(saved.id, out["talk.md"])
        await observe.history.export(saved.id, out["talk.json"])
        await wait_until(lambda: out["talk.json"].exists())

        events = out["events.jsonl"].read_text()
        with zipfile.ZipFile(out["diagnostics.zip"]) as bundle:
            zipped = {name: bundle.read(name).decode() for name in bundle.namelist()}
        texts = {"events": events, "clipboard": copied, "markdown": out["talk.md"].read_text(),
                 "json": out["talk.json"].read_text(), **zipped}
        assert len(texts) >= 6 and "events.jsonl" in zipped
        for name, text in texts.items():
            assert key not in text, name
        assert "[REDACTED]" in events and "[REDACTED]" in texts["markdown"] and "[REDACTED]" in copied
        assert any(json.loads(line)["event"]["type"] == "conversation.item.create" for line in events.splitlines())


async def test_with_recording_on_the_history_keeps_what_was_said_and_heard(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "hands_free",
                                                                      "history_record_audio": True}) as gui:
        await gui.connect()
        start = len(peer.all_frames)
        await wait_until(lambda: appends_after(peer, start) >= 60)  # 1.2 s of the microphone
        await peer.send(F.speech_started("item_U1", ms=100), F.speech_stopped("item_U1", ms=1100),
                        F.committed("item_U1"), F.transcription_completed("item_U1", "Hello there."))
        answer = F.assistant_item("item_A1", "completed", transcript="Hi.")
        await peer.send(F.response_created("resp_1"), F.item_added(answer), F.audio_delta("resp_1", "item_A1", 300),
                        F.audio_done("resp_1", "item_A1"), F.item_done(answer), F.response_done("resp_1", output=[answer]))
        await wait_until(lambda: len([e for e in gui.view.transcript if e.final]) == 2)
    # Closing the app saves the answer's audio too (no later turn made it final before).
    reopened = History(tmp_path / "history.sqlite3")
    await reopened.open()
    try:
        (saved,) = await reopened.conversations()
        pieces = {(item, role): (rate, len(pcm)) for item, role, rate, pcm in await reopened.audio(saved.id)}
        assert pieces == {("item_U1", "user"): (24000, 1000 * 48), ("item_A1", "assistant"): (24000, 300 * 48)}
        assert saved.audio_bytes == (1000 + 300) * 48
    finally:
        await reopened.close()


async def test_raising_the_limit_lifts_the_stop_and_ending_disconnects(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "hands_free",
                                                                      "spend_limit_session_usd": 0.5}) as gui:
        use_peer_profile(gui, peer)
        await gui.connect()
        await peer.send(F.response_created("resp_1"), F.response_done("resp_1", usage=usage(13_000)))
        await wait_until(lambda: gui.window.observe.spend_dialog is not None)
        assert gui.view.mic is Mic.MUTED
        gui.window.observe.usage.session_limit.setValue(5.0)  # the user raises the limit instead
        await wait_until(lambda: gui.view.mic is Mic.HANDS_FREE and gui.window.observe.spend_dialog is None)
        assert gui.store.settings.spend_limit_session_usd == 5.0 and gui.view.notice is None
        await peer.send(F.response_created("resp_2"), F.response_done("resp_2", usage=usage(80_000)))
        await wait_until(lambda: gui.window.observe.spend_dialog is not None)
        gui.window.observe.spend_dialog.end_button.click()  # "End conversation"
        await wait_until(lambda: gui.view.connection is Conn.CLOSED)
        assert gui.view.mic is Mic.MUTED  # still stopped: a new connect asks again
