"""Cost maths against hand-computed usage (cached tokens included), rate limits, and the spend
governor's warning, stop, OK and day totals."""

from __future__ import annotations

import pytest

from desktop_app.observe.spend import Level, SpendGovernor, SpendLimits
from desktop_app.observe.usage_meter import UsageMeter, transcription_cost
from desktop_app.realtime.models import transcription_price
from desktop_app.realtime.usage import Usage
from tests.realtime import frames as F

# The GA capture's usage (realtime-protocol.md §4.6): text in 59, audio in 73 of which 64 cached
# audio, text out 41, audio out 147.
#   gpt-realtime-2.1 ($/1M: text 4 / cached 0.40 / out 24; audio 32 / cached 0.40 / out 64):
#   59×4 + 0×0.40 + (73−64)×32 + 64×0.40 + 41×24 + 147×64 = 236 + 288 + 25.6 + 984 + 9408 = 10941.6
FULL_2_CAPTURE_USD = 10941.6 / 1e6
#   gpt-realtime-2.1-mini (text 0.60 / 0.06 / 2.40; audio 10 / 0.30 / 20):
#   59×0.60 + 9×10 + 64×0.30 + 41×2.40 + 147×20 = 35.4 + 90 + 19.2 + 98.4 + 2940 = 3183.0
MINI_CAPTURE_USD = 3183.0 / 1e6


def response(rid: str, usage: dict | None = None, status: str = "completed") -> dict:
    return F.response_done(rid, status, usage=usage or F.USAGE)["response"]


def test_a_response_is_priced_by_hand_with_its_cached_audio_tokens():
    meter = UsageMeter("gpt-realtime-2.1")
    cost = meter.add_response(response("resp_1"))
    assert cost.cost_usd == pytest.approx(FULL_2_CAPTURE_USD, abs=1e-12)
    assert (cost.usage.input_text, cost.usage.input_audio, cost.usage.cached_audio,
            cost.usage.output_text, cost.usage.output_audio) == (59, 73, 64, 41, 147)
    assert (cost.response_id, cost.status, cost.model) == ("resp_1", "completed", "gpt-realtime-2.1")


def test_cached_tokens_without_a_split_count_against_text_first():
    # text 100, audio 200, 150 cached with no details → 100 cached text + 50 cached audio.
    # gpt-realtime-1.5: 0×4 + 100×0.40 + 150×32 + 50×0.40 + 10×16 = 40 + 4800 + 20 + 160 = 5020
    usage = {"input_tokens": 300, "output_tokens": 10,
             "input_token_details": {"text_tokens": 100, "audio_tokens": 200, "cached_tokens": 150},
             "output_token_details": {"text_tokens": 10, "audio_tokens": 0}}
    meter = UsageMeter("gpt-realtime-1.5")
    assert meter.add_response(response("r", usage)).cost_usd == pytest.approx(5020 / 1e6, abs=1e-12)


def test_each_response_is_priced_with_the_model_it_ran_on():
    meter = UsageMeter("gpt-realtime-2.1")
    meter.add_response(response("r1"))
    meter.set_models("gpt-realtime-2.1-mini")
    meter.add_response(response("r2"))
    snap = meter.snapshot()
    assert snap.realtime_usd == pytest.approx(FULL_2_CAPTURE_USD + MINI_CAPTURE_USD, abs=1e-12)
    assert snap.session.responses == 2 and snap.session.output_audio == 294 and snap.session.cached_tokens == 128
    assert [r.model for r in snap.responses] == ["gpt-realtime-2.1", "gpt-realtime-2.1-mini"]
    assert snap.price_known


def test_an_unknown_model_is_counted_but_flagged_price_unknown():
    meter = UsageMeter("some-future-model")
    assert meter.add_response(response("r")).cost_usd is None
    snap = meter.snapshot()
    assert snap.realtime_unpriced and not snap.price_known and snap.session.total_tokens == 320
    assert snap.realtime_usd == 0.0


def test_transcription_is_priced_with_the_asr_models_own_rate():
    meter = UsageMeter("gpt-realtime-2.1", "gpt-4o-mini-transcribe")
    # tokens: 20 in × $1.25/1M + 6 out × $5/1M = 25 + 30 = 55 µ$
    usage = F.transcription_completed("item_U", "hello")["usage"]
    assert meter.add_transcription(usage) == pytest.approx(55 / 1e6, abs=1e-12)
    meter.set_models(transcription_model="whisper-1")
    # duration: 90 s = 1.5 min × $0.006 = $0.009
    assert meter.add_transcription({"type": "duration", "seconds": 90}) == pytest.approx(0.009)
    snap = meter.snapshot()
    assert snap.transcription_usd == pytest.approx(55 / 1e6 + 0.009)
    assert snap.session.transcription_input_tokens == 20 and snap.session.transcription_seconds == 90
    assert snap.price_known


def test_transcription_prices_for_snapshots_and_unknown_models():
    assert transcription_price("gpt-4o-mini-transcribe-2025-12-15") == transcription_price("gpt-4o-mini-transcribe")
    assert transcription_price("gpt-transcribe") is None
    assert transcription_cost(Usage(transcription_input_tokens=10), "gpt-transcribe") is None
    assert transcription_cost(Usage(transcription_seconds=60), "gpt-realtime-whisper") == pytest.approx(0.017)
    assert transcription_cost(Usage(transcription_input_tokens=5), "whisper-1") is None  # billed per minute only
    assert transcription_cost(Usage(), None) == 0.0
    meter = UsageMeter("gpt-realtime-2.1", "gpt-transcribe")
    assert meter.add_transcription({"type": "tokens", "input_tokens": 10, "output_tokens": 2}) is None
    assert meter.snapshot().transcription_unpriced


def test_rate_limits_are_kept_by_name_with_their_reset_time():
    now = [1000.0]
    meter = UsageMeter("gpt-realtime-2.1", clock=lambda: now[0])
    meter.update_rate_limits([{"name": "requests", "limit": 100, "remaining": 99, "reset_seconds": 0.6},
                              {"name": "tokens", "limit": 40000, "remaining": 30000, "reset_seconds": 12.5},
                              {"name": 7}, "junk", {"name": "x", "limit": "lots"}])
    now[0] = 1010.0
    meter.update_rate_limits([{"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5}])
    limits = {r.name: r for r in meter.snapshot().rate_limits}
    assert sorted(limits) == ["requests", "tokens"]
    assert limits["tokens"].remaining == 39000 and limits["tokens"].resets_at == pytest.approx(1011.5)
    assert limits["requests"].resets_at == pytest.approx(1000.6)
    assert limits["tokens"].used_fraction == pytest.approx(0.025)
    meter.update_rate_limits([])  # Azure's empty list changes nothing
    assert len(meter.snapshot().rate_limits) == 2


class Ledger:
    def __init__(self) -> None:
        self.added: list[tuple[str, float]] = []

    def add_spend(self, day: str, usd: float) -> None:
        self.added.append((day, usd))


def test_the_governor_warns_at_80_percent_and_stops_at_100():
    changes = []
    gov = SpendGovernor(SpendLimits(session_usd=1.0, day_usd=None), on_change=changes.append)
    assert gov.add(0.5).level is Level.OK
    assert gov.add(0.29).level is Level.OK
    status = gov.add(0.02)
    assert status.level is Level.WARNING and status.reason == "session"
    assert "close" in status.sentence and "$0.81" in status.sentence
    assert gov.add(0.1).level is Level.WARNING
    status = gov.add(0.1)
    assert status.level is Level.STOP and gov.stopped
    assert "reached" in status.sentence and "microphone" in status.sentence
    assert [c.level for c in changes] == [Level.WARNING, Level.STOP]  # once per change of level


def test_the_users_ok_grants_a_quarter_of_the_limit_then_stops_again():
    gov = SpendGovernor(SpendLimits(session_usd=2.0, day_usd=None))
    gov.add(2.1)
    assert gov.stopped and gov.status.grant_usd == pytest.approx(0.5)
    status = gov.acknowledge()
    assert status.level is Level.WARNING and status.session_stop_at == pytest.approx(2.6)
    assert gov.add(0.4).level is Level.WARNING
    assert gov.add(0.11).level is Level.STOP  # never unbounded: the next stop comes
    assert gov.acknowledge().session_stop_at == pytest.approx(3.11)


def test_the_day_limit_counts_what_was_spent_earlier_today_and_persists_each_part():
    ledger = Ledger()
    day = ["2026-12-06"]
    gov = SpendGovernor(SpendLimits(session_usd=None, day_usd=10.0), ledger=ledger, day_spent=7.5,
                        today=lambda: day[0])
    assert gov.add(0.6).level is Level.WARNING  # 8.1 of 10
    status = gov.add(2.0)
    assert status.level is Level.STOP and status.reason == "day" and "today's" in status.sentence
    assert ledger.added == [("2026-12-06", 0.6), ("2026-12-06", 2.0)]
    day[0] = "2026-12-07"  # midnight: a new day starts from zero
    assert gov.add(0.1).level is Level.OK and gov.status.day_usd == pytest.approx(0.1)
    assert ledger.added[-1] == ("2026-12-07", 0.1)


def test_the_tighter_limit_decides_and_a_new_conversation_resets_only_the_session():
    gov = SpendGovernor(SpendLimits(session_usd=1.0, day_usd=3.0))
    gov.add(0.9)
    assert gov.status.level is Level.WARNING and gov.status.reason == "session"
    gov.new_conversation()
    assert gov.status.level is Level.OK and gov.status.day_usd == pytest.approx(0.9)
    gov.add(0.95)
    gov.new_conversation()
    gov.add(0.9)
    assert gov.status.level is Level.WARNING and gov.status.reason == "day"  # 2.75 of 3 vs 0.9 of 1
    gov.add(0.3)
    assert gov.status.level is Level.STOP and gov.status.reason == "session"  # both reached


def test_raising_a_limit_lifts_a_stop_and_no_limit_never_stops():
    gov = SpendGovernor(SpendLimits(session_usd=1.0, day_usd=None))
    gov.add(1.0)
    assert gov.stopped
    assert gov.set_limits(SpendLimits(session_usd=5.0, day_usd=None)).level is Level.OK
    unlimited = SpendGovernor(SpendLimits(session_usd=None, day_usd=None))
    assert unlimited.add(1e6).level is Level.OK
    assert unlimited.acknowledge().level is Level.OK
