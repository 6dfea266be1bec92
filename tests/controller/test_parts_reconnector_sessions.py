"""The Reconnector from one session to the next (issue #17), on the in-memory harness of
``test_parts_reconnector.py`` (no controller, no socket; the real Realtime and GPT-Live cores). Tables:
the session's deadline, judged on the local clock; when a planned refresh happens (between turns,
within the margin, never for a young session); what the next session is given (the kept items
replayed hidden, the missing answer asked for, or the earlier turns seeded into a Live session's start)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from desktop_app.controller.reconnector import MIN_SESSION_AGE_S, RECYCLE_MARGIN_S, SESSION_LIMIT_S
from desktop_app.controller.states import Conn
from desktop_app.live.connection import LiveConnection
from desktop_app.realtime.session_config import SessionConfig
from tests.controller.test_parts_reconnector import (
    NOW, Delays, MemoryTransport, Opener, open_session, reconnector, until,
)
from tests.live import frames as LF


# --- the session's time limit: judged on the local clock ---------------------------------------

@pytest.mark.parametrize("expires_at,deadline", [
    (NOW + 1800, NOW + 1800),  # plausible: the server's
    (NOW - 10, NOW + SESSION_LIMIT_S),  # in the past: the clocks disagree
    (NOW + 3 * SESSION_LIMIT_S, NOW + SESSION_LIMIT_S),  # beyond two hours: implausible
    (None, NOW + SESSION_LIMIT_S),
    ("soon", NOW + SESSION_LIMIT_S),
])
async def test_the_session_deadline_is_the_servers_only_when_plausible(expires_at, deadline):
    opener = Opener()
    rec, _ = reconnector(opener)
    await open_session(rec, opener, expires_at)
    assert rec._view.state.session_expires_at == deadline


REFRESH = [
    # seconds after the session started, between turns? → refresh now?
    (SESSION_LIMIT_S - RECYCLE_MARGIN_S - 1, True, False),  # not yet within the margin
    (SESSION_LIMIT_S - RECYCLE_MARGIN_S, True, True),
    (SESSION_LIMIT_S - RECYCLE_MARGIN_S, False, False),  # mid-turn: waits for the turn to end
    (SESSION_LIMIT_S + 60, True, True),
]


@pytest.mark.parametrize("age,between_turns,refresh", REFRESH)
async def test_a_planned_refresh_happens_between_turns_within_the_margin(age, between_turns, refresh):
    opener = Opener()
    rec, published = reconnector(opener)
    first = await open_session(rec, opener)
    rec.backoff = Delays(3600.0)  # waiting any delay would time the test out
    assert rec.maybe_recycle(between_turns=between_turns, now=NOW + age) is refresh
    if not refresh:
        assert not rec.recycle_pending and first.close_code is None
        return
    assert rec.maybe_recycle(between_turns=True, now=NOW + age) is False  # once
    await open_session(rec, opener)  # a fresh session at once
    assert first.close_code == 1000 and opener.attempts == 2  # the old one closed politely
    assert not rec.recycle_pending
    assert "refreshing session" in [v.connection_detail for v in published]


async def test_no_session_younger_than_a_minute_is_refreshed_whatever_the_clocks_say():
    opener = Opener()
    rec, _ = reconnector(opener)
    await open_session(rec, opener, NOW + RECYCLE_MARGIN_S + 1)  # the server says it ends in 2 minutes
    assert rec.maybe_recycle(between_turns=True, now=NOW + MIN_SESSION_AGE_S - 1) is False
    assert rec.maybe_recycle(between_turns=True, now=NOW + MIN_SESSION_AGE_S) is True


async def test_no_refresh_without_retries():
    opener = Opener()
    rec, _ = reconnector(opener, max_retries=0)
    await open_session(rec, opener)
    assert rec.maybe_recycle(between_turns=True, now=NOW + SESSION_LIMIT_S) is False


# --- what the next session is given -------------------------------------------------------------

EARLIER = [
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What is two plus three?"}]},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Two plus"}]},
]


def created_items(transport: MemoryTransport) -> list[dict[str, Any]]:
    return [f["item"] for f in transport.sent if f["type"] == "conversation.item.create"]


@pytest.mark.parametrize("unanswered", [False, True])
async def test_a_realtime_session_gets_the_kept_items_replayed_hidden_and_the_missing_answer_asked_for(unanswered):
    opener = Opener()
    rec, _ = reconnector(opener)
    first = await open_session(rec, opener)
    assert created_items(first) == []
    rec.keep(EARLIER, unanswered=unanswered)
    first.hang_up(1006)
    rec.connected.clear()
    second = await open_session(rec, opener)
    await until(lambda: len(created_items(second)) == 2)
    replayed = created_items(second)
    assert [{k: v for k, v in i.items() if k != "id"} for i in replayed] == EARLIER  # in order, unchanged
    assert {i["id"] for i in replayed} == rec.replayed_ids and all(i.startswith("item_rp") for i in rec.replayed_ids)
    await rec.close()
    assert ("response.create" in [f["type"] for f in second.sent]) is unanswered


async def test_a_replay_happens_once_and_forgetting_the_conversation_drops_it():
    opener = Opener()
    rec, _ = reconnector(opener)
    first = await open_session(rec, opener)
    rec.keep(EARLIER)
    first.hang_up(1006)
    rec.connected.clear()
    second = await open_session(rec, opener)
    rec.keep([])  # the second connection said nothing new
    rec.forget_conversation()  # the user started a new conversation
    second.hang_up(1006)
    rec.connected.clear()
    third = await open_session(rec, opener)
    await rec.close()
    assert len(created_items(second)) == 2 and created_items(third) == [] and rec.replayed_ids == set()


def live_start(transport: MemoryTransport) -> dict[str, Any]:
    [start] = [f for f in transport.sent if f["type"] == "session.start"]
    return start


def seeded(transport: MemoryTransport) -> list[tuple[str, str]]:
    return [(m["role"], m["content"][0]["text"]) for m in live_start(transport)["session"].get("input", [])]


NEW = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "And times four?"}]}]


async def test_a_context_seed_dialect_gets_the_earlier_turns_in_its_start_and_carries_them_on():
    opener = Opener(live=True)
    rec, _ = reconnector(opener, make_core=LiveConnection, config=SessionConfig(model="gpt-live-1"))
    rec.keep(EARLIER)
    await rec.connect()
    await until(lambda: len(opener.transports) == 1 and opener.transports[0].sent)
    first = opener.transports[0]
    assert seeded(first) == [("user", "What is two plus three?"), ("assistant", "Two plus")]
    first.push(LF.started(client_event_id=live_start(first)["event_id"]))
    await asyncio.wait_for(rec.connected.wait(), 5)
    assert created_items(first) == [] and rec.replayed_ids == set()  # a Live session cannot be edited
    rec.keep(NEW, unanswered=True)  # what the first session added; it ended before the answer
    rec.connected.clear()
    first.hang_up(1006)
    await until(lambda: len(opener.transports) == 2 and opener.transports[1].sent)
    second = opener.transports[1]
    # what the first session started with is not among its items, so it is carried on
    assert seeded(second) == [("user", "What is two plus three?"), ("assistant", "Two plus"),
                              ("user", "And times four?")]
    second.push(LF.started(client_event_id=live_start(second)["event_id"]))
    await until(lambda: any(f["type"] == "session.instructions.append" for f in second.sent))  # "answer it now"
    closing = asyncio.ensure_future(rec.close())  # a Live session is asked to end, and answers
    await until(lambda: any(f["type"] == "session.close" for f in second.sent))
    second.push(LF.ev("session.closed", reason="close_requested", usage={"seconds": 2}, session=LF.snapshot()))
    second.hang_up(1000)
    await closing
    assert opener.attempts == 2 and rec._view.state.connection is Conn.CLOSED
