"""Usage accumulation and cost (§4.6/§4.7), and the audio arithmetic behind truncation and the
push-to-talk guard (§3.6 F, §4.4)."""

from __future__ import annotations

import base64

import pytest

from desktop_app.realtime.audio_ledger import AudioLedger, b64_decoded_len, truncation_end_ms
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.models import model_info
from desktop_app.realtime.usage import Usage

from . import frames as f


def test_usage_splits_text_audio_and_cached_tokens_from_the_capture():
    u = Usage.from_response(f.USAGE)
    assert (u.input_text, u.input_audio, u.cached_text, u.cached_audio, u.output_text, u.output_audio) == (
        59, 73, 0, 64, 41, 147)
    assert (u.input_tokens, u.output_tokens, u.total_tokens, u.responses) == (132, 188, 320, 1)


def test_cost_prices_uncached_cached_and_output_tokens_separately():
    u = Usage.from_response(f.USAGE)
    p = model_info("gpt-realtime-2.1").price
    expected = (59 * p.text_in + (73 - 64) * p.audio_in + 64 * p.audio_cached
                + 41 * p.text_out + 147 * p.audio_out) / 1_000_000
    assert u.cost("gpt-realtime-2.1") == pytest.approx(expected)
    assert u.cost("gpt-realtime-2.1") == pytest.approx(0.0109416)  # 236 + 288 + 25.6 + 984 + 9408 micro-dollars


def test_cost_of_an_unknown_model_is_none_not_a_guess():
    assert Usage.from_response(f.USAGE).cost("some-other-model") is None


def test_cached_tokens_without_a_split_count_as_text_first():
    u = Usage.from_response({"input_tokens": 100, "output_tokens": 0, "input_token_details": {
        "text_tokens": 30, "audio_tokens": 70, "cached_tokens": 50}})
    assert (u.cached_text, u.cached_audio) == (30, 20)


def test_missing_or_null_usage_counts_the_response_with_zero_tokens():
    assert Usage.from_response(None) == Usage(responses=1)
    assert Usage.from_response({"input_tokens": "x"}) == Usage(responses=1)


def test_usage_accumulates_over_responses_including_cancelled_ones():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.response_created("resp_1"), f.response_done("resp_1"),
           f.response_created("resp_2"), f.response_done("resp_2", "cancelled", reason="turn_detected"))
    one = Usage.from_response(f.USAGE)
    assert conn.usage == one + one
    assert conn.last_usage == one
    assert conn.cost() == pytest.approx(2 * one.cost("gpt-realtime-2.1"))


def test_transcription_usage_is_counted_apart_from_model_tokens():
    assert Usage.from_transcription({"type": "duration", "seconds": 3}) == Usage(transcription_seconds=3.0)
    tokens = Usage.from_transcription(f.transcription_completed("i", "x")["usage"])
    assert (tokens.transcription_input_tokens, tokens.transcription_output_tokens, tokens.total_tokens) == (20, 6, 0)


@pytest.mark.parametrize("played,received,expected", [
    (400, 1000, 400), (1000, 400, 400), (0, 500, 0), (-20, 500, 0), (700, 700, 700),
])
def test_truncation_end_is_the_smaller_of_played_and_received(played, received, expected):
    assert truncation_end_ms(played, received) == expected


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 47, 48, 4800, 4801])
def test_b64_length_arithmetic_matches_decoding(size):
    text = base64.b64encode(b"\x01" * size).decode()
    assert b64_decoded_len(text) == size


def test_received_ms_per_item_uses_the_output_format_rate():
    ledger = AudioLedger()
    ledger.add_output("a", f.pcm_b64(120), 48)
    ledger.add_output("a", f.pcm_b64(80), 48)
    ledger.add_output("g", f.pcm_b64(50, 8), 8)
    assert (ledger.received_ms("a"), ledger.received_ms("g"), ledger.received_ms("none")) == (200, 50, 0)


def test_g711_session_counts_8_bytes_per_ms_for_received_and_appended_audio():
    session = f.session_obj()
    session["audio"]["input"]["format"] = {"type": "audio/pcmu"}
    session["audio"]["output"]["format"] = {"type": "audio/pcma"}
    conn = RealtimeConnection()
    f.feed(conn, f.ev("session.created", session=session), f.response_created("resp_1"),
           f.audio_delta("resp_1", "item_A", ms=250, bytes_per_ms=8))
    conn.append_audio(b"\xff" * 800)
    assert (conn.received_ms("item_A"), conn.appended_ms_since_commit) == (250, 100)


def test_deleted_item_forgets_its_received_audio():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.response_created("resp_1"), f.audio_delta("resp_1", "item_A", 100),
           f.ev("conversation.item.deleted", item_id="item_A"))
    assert conn.received_ms("item_A") == 0
