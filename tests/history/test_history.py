"""Conversation history: saving as a conversation runs, reading back with the heard/unheard split,
full-text search, rename, delete, exports, continue, audio with its cap, and daily spending."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading

import pytest

from desktop_app.history import db
from desktop_app.history.export import replay_items, to_json, to_markdown
from desktop_app.observe.spend import SpendGovernor, SpendLimits
from desktop_app.observe.turns import TurnRecord
from desktop_app.observe.usage_meter import UsageMeter
from desktop_app.realtime import commands
from tests.history.conftest import Entry, open_history
from tests.realtime import frames as F

CONVERSATION = [
    Entry("u1", "user", "What's the capital of France?"),
    Entry("a1", "assistant", "The capital of France is Paris, a city famous for its café culture.",
          truncated=True, heard="The capital of France is Paris,"),
    Entry("t1", "tool", "", tool_name="get_weather", tool_status="done"),
    Entry("u2", "user", "The capital of France is Paris", echo=True),
    Entry("u3", "user", "And how big is it?"),
    Entry("a2", "assistant", "About two million people live in the city itself."),
]


async def test_a_conversation_round_trips_with_its_heard_and_unheard_parts(tmp_path):
    history = await open_history(tmp_path / "h.sqlite3")
    rec = history.begin(model="gpt-realtime-2.1", voice="marin", endpoint="OpenAI")
    rec.transcript(CONVERSATION[:1])
    rec.transcript(CONVERSATION)
    rec.tool_call("t1", "get_weather", '{"city": "Paris"}', '{"temp_c": 18}', "done")
    rec.turn(TurnRecord(1, 1000.0, 420.0, 60.0, 2400.0, None, False))
    rec.turn(TurnRecord(2, 1010.0, 380.0, 55.0, None, 140.0, True))
    meter = UsageMeter("gpt-realtime-2.1")
    meter.add_response(F.response_done("r1")["response"])
    rec.usage(meter.snapshot())
    rec.finish(CONVERSATION)
    await history.flush()

    (summary,) = await history.conversations()
    assert summary.id == rec.id and summary.title == "What's the capital of France?"
    assert (summary.model, summary.voice, summary.entries) == ("gpt-realtime-2.1", "marin", 6)
    assert summary.cost_usd == pytest.approx(10941.6 / 1e6) and summary.ended_at is not None
    saved = await history.load(rec.id)
    assert [e.item_id for e in saved.entries] == ["u1", "a1", "t1", "u2", "u3", "a2"]
    answer = saved.entries[1]
    assert answer.heard_text == "The capital of France is Paris,"
    assert answer.unheard_text == " a city famous for its café culture."
    tool = saved.entries[2]
    assert (tool.tool_name, tool.tool_arguments, tool.tool_output) == ("get_weather", '{"city": "Paris"}',
                                                                       '{"temp_c": 18}')
    assert saved.entries[3].echo
    assert [(t.index, t.speech_to_first_byte_ms, t.interrupted) for t in saved.turns] == [(1, 420.0, False),
                                                                                           (2, 380.0, True)]
    assert saved.usage["tokens"]["cached_audio"] == 64 and saved.usage["price_known"]
    await history.close()


async def test_interim_lines_wait_for_the_end_and_an_empty_conversation_leaves_nothing(tmp_path):
    history = await open_history(tmp_path / "h.sqlite3")
    silent = history.begin()
    silent.transcript([])
    silent.finish([])
    rec = history.begin()
    interim = [Entry("u1", "user", "Hello the", final=False)]
    rec.transcript(interim)
    await history.flush()
    assert await history.conversations() == []  # words arriving one by one are not written
    rec.finish([Entry("u1", "user", "Hello there, how", final=False)])
    await history.flush()
    (summary,) = await history.conversations()
    saved = await history.load(summary.id)
    assert [(e.text, e.final) for e in saved.entries] == [("Hello there, how", False)]
    await history.close()


async def test_a_line_saved_again_is_updated_in_place(tmp_path):
    history = await open_history(tmp_path / "h.sqlite3")
    rec = history.begin()
    rec.transcript([Entry("u1", "user", "hello"), Entry("a1", "assistant", "Hi! How can I help you today?")])
    rec.transcript([Entry("u1", "user", "hello"),
                    Entry("a1", "assistant", "Hi! How can I help you today?", truncated=True, heard="Hi!")])
    await history.flush()
    saved = await history.load(rec.id)
    assert [(e.item_id, e.heard) for e in saved.entries] == [("u1", None), ("a1", "Hi!")]
    assert [h.item_id for h in await history.search("help", 10)] == ["a1"]  # indexed once, not twice
    await history.close()


async def save(history, title_text: str, *lines: Entry):
    rec = history.begin()
    rec.transcript([Entry("u0", "user", title_text), *lines])
    rec.finish()
    await history.flush()
    return rec.id


async def test_full_text_search_finds_words_prefixes_and_accents_but_not_echo(tmp_path):
    history = await open_history(tmp_path / "h.sqlite3")
    paris = await save(history, "Tell me about Paris", Entry("a", "assistant", "Paris has many cafés."),
                       Entry("e", "user", "zebra zebra zebra zebra", echo=True))
    rome = await save(history, "And Rome?", Entry("a", "assistant", "Rome was not built in a day."))
    hits = await history.search("cafes", 10)  # accents folded
    assert [(h.conversation_id, h.item_id) for h in hits] == [(paris, "a")]
    assert "[cafés]" in hits[0].snippet
    assert [h.conversation_id for h in await history.search("buil", 10)] == [rome]  # prefix of the last word
    assert await history.search("zebra", 10) == []  # echo is not what anyone said
    assert {h.conversation_id for h in await history.search("paris", 10)} == {paris}
    for nasty in ('"', "AND (", "NEAR(", "*", "x OR", "ä'ö\\", "%_"):
        assert isinstance(await history.search(nasty, 10), list)
    await history.close()


async def test_search_by_title_and_the_tools_synchronous_search(tmp_path):
    history = await open_history(tmp_path / "h.sqlite3")
    trip = await save(history, "Plan a trip", Entry("a", "assistant", "Sure, where to?"))
    await history.rename(trip, "Holiday in Lisbon")
    hits = await history.search("lisbon", 5)
    assert [(h.conversation_id, h.item_id) for h in hits] == [(trip, None)]
    searcher = history.searcher()
    found: list = []
    worker = threading.Thread(target=lambda: found.extend(searcher.search("where", 5)))  # a tool's thread
    worker.start()
    worker.join()
    assert [(f["conversation_id"], f["role"], f["title"]) for f in found] == [(trip, "assistant",
                                                                               "Holiday in Lisbon")]
    assert "[where]" in found[0]["text"] and len(found[0]["date"]) == 16
    assert searcher.search("", 5) == [] and searcher.search("where", 0) == []
    await history.close()


async def test_delete_removes_every_trace(tmp_path):
    history = await open_history(tmp_path / "h.sqlite3")
    keep = await save(history, "keep this one")
    gone = await save(history, "delete this secret plan")
    assert await history.delete(gone)
    assert [c.id for c in await history.conversations()] == [keep]
    assert await history.search("secret", 10) == [] and await history.load(gone) is None
    assert not await history.delete(gone)
    with sqlite3.connect(tmp_path / "h.sqlite3") as raw:
        assert raw.execute("SELECT count(*) FROM entries").fetchone()[0] == 1
    await history.close()


async def test_listeners_hear_when_the_list_changes(tmp_path):
    history = await open_history(tmp_path / "h.sqlite3")
    changes = []
    unsubscribe = history.subscribe(lambda: changes.append(1))
    conv = await save(history, "hello")
    await asyncio.sleep(0)  # the worker's call_soon_threadsafe lands
    seen = len(changes)
    assert seen >= 1
    await history.rename(conv, "greeting")
    assert len(changes) == seen + 1
    unsubscribe()
    await history.delete(conv)
    assert len(changes) == seen + 1
    await history.close()


def saved_conversation():
    from desktop_app.history.records import ConversationSummary, SavedConversation, SavedEntry

    entries = tuple(SavedEntry(e.item_id, e.role, e.text, e.final, e.truncated, e.heard, e.tool_name,
                               e.tool_status, e.echo) for e in CONVERSATION)
    return SavedConversation(ConversationSummary("c1", "", 1_700_000_000.0, 1_700_000_600.0,
                                                 "gpt-realtime-2.1", "marin", len(entries), 0.42), entries)


def test_continue_replays_what_was_heard_as_the_reconnect_does():
    items = replay_items(saved_conversation())
    assert items == [commands.user_text_item("What's the capital of France?"),
                     commands.assistant_text_item("The capital of France is Paris,"),
                     commands.user_text_item("And how big is it?"),
                     commands.assistant_text_item("About two million people live in the city itself.")]


def test_markdown_and_json_exports_show_the_split_and_are_redacted():
    from dataclasses import replace

    conv = saved_conversation()
    leaky = replace(conv, entries=(*conv.entries, replace(conv.entries[0], item_id="u9",
                                                          text="my key is sk-proj-abcdefghijklmnop")))
    md = to_markdown(leaky)
    assert md.startswith("# Conversation of ")
    assert "**Assistant:** The capital of France is Paris, ~~a city famous for its café culture.~~" in md
    assert "*(interrupted)*" in md and "`get_weather` (done)" in md and "$0.42" in md and "10 min" in md
    assert "sk-proj" not in md and "[REDACTED]" in md
    doc = json.loads(to_json(leaky))
    assert (doc["format"], doc["version"]) == ("parley-conversation", 1)
    answer = doc["entries"][1]
    assert (answer["heard"], answer["unheard"]) == ("The capital of France is Paris,",
                                                    " a city famous for its café culture.")
    assert doc["entries"][2]["tool"]["name"] == "get_weather" and doc["entries"][0]["tool"] is None
    assert "sk-proj" not in json.dumps(doc)


async def test_export_and_continue_through_the_history(tmp_path):
    history = await open_history(tmp_path / "h.sqlite3")
    rec = history.begin()
    rec.transcript(CONVERSATION)
    await history.flush()
    assert await history.export(rec.id, tmp_path / "c.md", "markdown")
    assert await history.export(rec.id, tmp_path / "c.json", "json")
    assert "~~a city famous" in (tmp_path / "c.md").read_text()
    assert json.loads((tmp_path / "c.json").read_text())["conversation"]["id"] == rec.id
    assert not await history.export("nope", tmp_path / "x.md", "markdown")
    assert await history.replay_items(rec.id) == replay_items(await history.load(rec.id))
    follow_up = history.begin(continued_from=rec.id)
    follow_up.transcript([Entry("n1", "user", "What did I ask before?")])
    await history.flush()
    assert (await history.load(follow_up.id)).summary.continued_from == rec.id
    await history.close()


async def test_audio_is_kept_only_when_recording_is_on_and_stops_at_the_cap(tmp_path):
    notices = []
    history = await open_history(tmp_path / "h.sqlite3", on_notice=notices.append, audio_cap_bytes=1_500_000)
    off = history.begin()
    off.transcript([Entry("u", "user", "no recording")])
    off.audio("u", "user", b"\x01\x00" * 24000)
    on = history.begin(record_audio=True)
    on.transcript([Entry("u", "user", "recording")])
    second = b"\x02\x00" * 24000  # 1 s of 24 kHz PCM16
    for _ in range(12):  # 12 s: one 10 s piece is written as it fills, the rest at the end
        on.audio("u", "user", second)
    on.audio("a", "assistant", second)
    on.finish()
    await history.flush()
    assert await history.audio(off.id) == []
    pieces = await history.audio(on.id)
    assert [(i, r, len(p)) for i, r, _, p in pieces] == [("u", "user", 480_000), ("u", "user", 96_000),
                                                         ("a", "assistant", 48_000)]
    assert history.audio_bytes == 624_000
    more = history.begin(record_audio=True)
    more.transcript([Entry("u", "user", "long")])
    for _ in range(30):
        more.audio("u", "user", second)
    more.finish()
    await history.flush()
    assert sum(len(p) for *_, p in await history.audio(more.id)) == 864_000  # stopped below the cap
    assert len(notices) == 1 and "Recording stopped" in notices[0]
    assert await history.delete(on.id) and history.audio_bytes == 864_000
    await history.close()
    reopened = await open_history(tmp_path / "h.sqlite3")
    assert reopened.audio_bytes == 864_000  # the cap counts what is already stored
    await reopened.close()


async def test_day_spending_is_kept_across_restarts_for_the_governor(tmp_path):
    history = await open_history(tmp_path / "h.sqlite3")
    gov = SpendGovernor(SpendLimits(session_usd=None, day_usd=1.0), ledger=history, today=lambda: "2026-12-06")
    gov.add(0.25)
    gov.add(0.5)
    await history.close()
    history = await open_history(tmp_path / "h.sqlite3")
    spent = await history.day_spend("2026-12-06")
    assert spent == pytest.approx(0.75) and await history.day_spend("2026-12-07") == 0.0
    again = SpendGovernor(SpendLimits(session_usd=None, day_usd=1.0), ledger=history, day_spent=spent,
                          today=lambda: "2026-12-06")
    assert again.add(0.05).level.value == "warning"
    await history.close()


async def test_a_failing_write_is_reported_once_and_the_rest_goes_on(tmp_path):
    notices = []
    history = await open_history(tmp_path / "h.sqlite3", on_notice=notices.append)
    with sqlite3.connect(tmp_path / "h.sqlite3") as raw:
        raw.execute("DROP TABLE spend")
    rec = history.begin()
    history.add_spend("2026-12-06", 0.1)
    history.add_spend("2026-12-06", 0.2)
    rec.transcript([Entry("u1", "user", "still saved")])
    await history.flush()
    await asyncio.sleep(0)
    assert len(notices) == 1 and "could not save" in notices[0] and "spending" in notices[0]
    assert [e.text for e in (await history.load(rec.id)).entries] == ["still saved"]
    await history.close()


def test_auto_titles_cut_at_a_word():
    assert db.auto_title("  short   question ") == "short question"
    long = db.auto_title("word " * 30)
    assert long.endswith("…") and len(long) <= 61 and not long[:-1].endswith(" ")
