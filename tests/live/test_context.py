"""The earlier conversation as ``session.start.session.input`` (live-protocol.md §1 "Limits", §2): text messages
in Live's shape (the SDK's ``InitialItem`` union checks each), the newest that fit 128 messages and 8,192
tokens, an unbroken run; the stop and answer-now appends; the Realtime core declares and refuses both commands."""

from __future__ import annotations

import pytest

from desktop_app.live import context
from desktop_app.live.connection import LiveConnection
from desktop_app.realtime.commands import assistant_text_item, system_text_item, user_image_item, user_text_item
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.errors import LocalUsageError, UnsupportedCommand
from desktop_app.realtime.session_config import SessionConfig
from tests.live.frames import feed, sent, started


def texts(messages: list[dict]) -> list[tuple[str, str, str]]:
    return [(m["role"], m["content"][0]["type"], m["content"][0]["text"]) for m in messages]


def test_the_replay_items_become_one_part_messages_in_lives_roles():
    items = [user_text_item("What is the capital of France?"), assistant_text_item("Paris."),
             system_text_item("Answer in French from now on."),
             {"type": "function_call", "call_id": "c1", "name": "get_time", "arguments": "{}"},
             user_image_item("data:image/png;base64,AAAA", text="What is this?"),
             user_image_item("data:image/png;base64,AAAA"),  # a picture alone: nothing Live can take
             {"type": "message", "role": "assistant", "content": [{"type": "output_audio", "transcript": " Oui. "}]},
             user_text_item("   ")]
    assert texts(context.input_messages(items)) == [
        ("user", "input_text", "What is the capital of France?"), ("assistant", "output_text", "Paris."),
        ("developer", "input_text", "Answer in French from now on."), ("user", "input_text", "What is this?"),
        ("assistant", "output_text", "Oui.")]


def test_at_most_128_messages_the_newest():
    items = [user_text_item(f"line {n}") for n in range(200)]
    kept = context.input_messages(items)
    assert len(kept) == context.MAX_INPUT_MESSAGES == 128
    assert texts(kept)[0][2] == "line 72" and texts(kept)[-1][2] == "line 199"


def test_the_token_budget_keeps_the_newest_unbroken_run():
    long = "word " * 2000  # 10,000 bytes: ~3,338 tokens on the long-side estimate
    items = [user_text_item("the oldest"), assistant_text_item(long), user_text_item(long),
             assistant_text_item(long), user_text_item("the newest")]
    kept = context.input_messages(items)
    assert [t[2][:10] for t in texts(kept)] == [long[:10], long[:10], "the newest"]
    assert sum(context.estimate_tokens(t[2]) for t in texts(kept)) <= context.MAX_INPUT_TOKENS
    # "the oldest" would fit, but an older message is never kept over a newer one that did not.
    assert "the oldest" not in [t[2] for t in texts(kept)]


def test_a_newest_message_too_long_on_its_own_keeps_its_end():
    huge = "start " + "x" * 40_000 + " the question?"
    kept = context.input_messages([user_text_item("earlier"), user_text_item(huge)])
    assert len(kept) == 1
    text = kept[0]["content"][0]["text"]
    assert text.startswith("…") and text.endswith("the question?")
    assert context.estimate_tokens(text) <= context.MAX_INPUT_TOKENS


def test_the_estimate_errs_long_for_english_and_counts_bytes_for_other_scripts():
    assert context.estimate_tokens("a" * 400) >= 100 + context.MESSAGE_TOKENS  # English: ~4 characters a token
    assert context.estimate_tokens("日本語" * 100) >= 300  # three bytes a character: one token each at least


def test_a_seeded_core_starts_with_the_input_and_asks_for_a_missing_answer_once_started():
    conn = LiveConnection()
    kept = conn.seed_context([user_text_item("My colour is green."), assistant_text_item("Noted."),
                              user_text_item("And what is yours?")], answer=True)
    assert kept == 3
    conn.update_session(SessionConfig(model="gpt-live-1"))
    (start,) = sent(conn)  # the SDK's client union validates session.input
    assert texts(start["session"]["input"]) == [("user", "input_text", "My colour is green."),
                                                ("assistant", "output_text", "Noted."),
                                                ("user", "input_text", "And what is yours?")]
    feed(conn, started(start["event_id"]))
    (append,) = sent(conn)
    assert append["type"] == "session.instructions.append" and append["content"] == context.ANSWER_NOW
    assert append["delegation_id"] is None
    with pytest.raises(LocalUsageError):
        conn.seed_context([user_text_item("too late")])


def test_answer_is_asked_for_only_when_the_seed_ends_with_the_users_words():
    conn = LiveConnection()
    conn.seed_context([user_text_item("Hello"), assistant_text_item("Hi there.")], answer=True)
    conn.update_session(SessionConfig(model="gpt-live-1"))
    (start,) = sent(conn)
    feed(conn, started(start["event_id"]))
    assert sent(conn) == []


def test_without_a_seed_session_start_has_no_input():
    conn = LiveConnection()
    assert conn.seed_context([]) == 0
    conn.update_session(SessionConfig(model="gpt-live-1"))
    (start,) = sent(conn)
    assert "input" not in start["session"]


def test_ask_to_stop_appends_an_instruction():
    conn = LiveConnection()
    conn.update_session(SessionConfig(model="gpt-live-1"))
    (start,) = sent(conn)
    feed(conn, started(start["event_id"]))
    conn.ask_to_stop()
    (append,) = sent(conn)
    assert append["type"] == "session.instructions.append" and append["content"] == context.STOP_SPEAKING


def test_the_realtime_core_declares_neither_and_refuses_both():
    core = RealtimeConnection()
    traits = core.traits
    assert traits.context_replay and not traits.context_seed and not traits.stop_instruction and traits.mcp_tools
    live = LiveConnection.traits
    assert live.context_seed and live.stop_instruction and not live.context_replay and not live.mcp_tools
    with pytest.raises(UnsupportedCommand):
        core.seed_context([user_text_item("hi")])
    with pytest.raises(UnsupportedCommand):
        core.ask_to_stop()
