"""Conversation state: item order follows previous_item_id ("root", known, unknown, null), items
from client, input audio and responses are told apart, and deletion/truncation are recorded."""

from __future__ import annotations

import pytest

from desktop_app.realtime import commands
from desktop_app.realtime.connection import RealtimeConnection

from . import frames as f


def ids_after(*events) -> tuple[str, ...]:
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), *events)
    return conn.conversation.ids


def txt(item_id: str) -> dict:
    return f.user_text_item(item_id, item_id)


@pytest.mark.parametrize("events,expected", [
    ([f.item_added(txt("a")), f.item_added(txt("b"), "a"), f.item_added(txt("c"), "b")], ("a", "b", "c")),
    ([f.item_added(txt("a")), f.item_added(txt("b"), "a"), f.item_added(txt("c"), "root")], ("c", "a", "b")),
    ([f.item_added(txt("a")), f.item_added(txt("b"), "a"), f.item_added(txt("c"), "a")], ("a", "c", "b")),
    ([f.item_added(txt("a")), f.item_added(txt("b"), "item_gone")], ("a", "b")),
    ([f.item_added(txt("a")), f.item_added(txt("b"), None)], ("a", "b")),
    ([f.item_added(txt("a")), f.item_added(txt("b"), "a"), f.item_done(txt("b"), "root")], ("a", "b")),
    ([f.item_added(txt("a")), f.item_added(txt("b"), "a"),
      f.ev("conversation.item.deleted", item_id="a"), f.item_added(txt("c"), "root")], ("c", "b")),
], ids=["chain", "root goes first", "after a known id", "unknown predecessor appends",
        "null appends", "an item keeps its first position", "delete then root"])
def test_item_order_honours_previous_item_id(events, expected):
    assert ids_after(*events) == expected


def test_items_are_told_apart_by_origin():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.item_added(txt("typed")), f.committed("spoken", "typed"),
           f.item_added(f.user_audio_item("spoken"), "typed"),
           f.item_added(f.assistant_item("said"), "spoken"))
    assert [(i.id, i.origin) for i in conn.conversation.items] == [
        ("typed", "client"), ("spoken", "input_audio"), ("said", "response")]


def test_failed_transcription_is_recorded_without_losing_the_item():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.committed("u"), f.transcription_delta("u", "Hel"),
           f.ev("conversation.item.input_audio_transcription.failed", item_id="u", content_index=0,
                error={"type": "transcription_error", "code": "audio_unintelligible", "message": "unclear audio"}))
    item = conn.conversation.get("u")
    assert (item.transcript, item.transcript_final, item.transcript_error) == ("Hel", False, "unclear audio")


def test_late_interim_delta_does_not_overwrite_a_final_transcript():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.committed("u"), f.transcription_completed("u", "Final."),
           f.transcription_delta("u", " late"))
    assert conn.conversation.get("u").transcript == "Final."


def test_item_done_with_null_transcript_keeps_the_asr_transcript():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.committed("u"), f.transcription_completed("u", "Words."),
           f.item_done(f.user_audio_item("u")))
    item = conn.conversation.get("u")
    assert (item.transcript, item.done, item.status) == ("Words.", True, "completed")


def test_deleted_item_leaves_the_conversation():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.item_added(txt("a")), f.item_added(txt("b"), "a"),
           f.ev("conversation.item.deleted", item_id="a"))
    assert conn.conversation.ids == ("b",) and conn.conversation.get("a") is None
    assert len(conn.conversation) == 1


def test_legacy_item_created_event_is_handled_like_added():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.ev("conversation.item.created", item=txt("a"), previous_item_id=None))
    assert [(i.id, i.text, i.done) for i in conn.conversation.items] == [("a", "a", True)]


def test_retrieved_item_updates_content_but_not_position():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.item_added(txt("a")), f.item_added(f.assistant_item("b"), "a"),
           f.ev("conversation.item.retrieved", item=f.assistant_item("b", "completed", transcript="Told you.")))
    assert conn.conversation.ids == ("a", "b")
    assert conn.conversation.get("b").transcript == "Told you."


def test_snapshots_handed_out_do_not_change_afterwards():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.response_created("r"), f.output_item_added("r", f.assistant_item("x")),
           f.item_added(f.assistant_item("x")), f.transcript_delta("r", "x", "One"))
    snapshot = conn.conversation.items
    f.feed(conn, f.transcript_delta("r", "x", " two"))
    assert snapshot[0].transcript == "One"
    assert conn.conversation.get("x").transcript == "One two"


def test_replay_items_carry_user_and_assistant_words_as_text_for_a_new_session():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.committed("u"), f.transcription_completed("u", "Hi."),
           f.item_added(f.user_audio_item("u")),
           f.item_done(f.assistant_item("a", "completed", transcript="Hello!"), "u"),
           f.item_done(f.function_call_item("fc", "call_1", "tool", "{}", "completed"), "a"))
    assert conn.conversation.replay_items() == [commands.user_text_item("Hi."),
                                                commands.assistant_text_item("Hello!")]
