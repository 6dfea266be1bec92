"""GPT-Live in the observability package, from a scripted usage stream through the frame observer: cumulative
``usage.seconds`` per session priced per second (never summed; a new session counts from zero), the backend's
responses counted once and flagged unpriced, an unknown Live model "price unknown", the spend governor stopping a
session left running, and Live's audio elided in the event log with its duration."""

from __future__ import annotations

import json

import pytest

from desktop_app.observe.frames import AudioFormats, summarize
from desktop_app.observe.observatory import Observatory
from desktop_app.observe.spend import Level, SpendLimits, SpendStatus
from tests.live import frames as L

PER_SECOND = 0.05 / 60  # gpt-live-1: $0.05 a minute, billed by the second


def feed(obs: Observatory, *events: dict, direction: str = "received") -> None:
    for event in events:
        obs.frame_observer(direction, json.dumps(event))


def usage(seconds: float) -> dict:
    return L.ev("session.usage.updated", usage={"seconds": seconds})


def test_cumulative_seconds_are_priced_per_second_and_a_new_session_counts_from_zero():
    obs = Observatory(model="gpt-realtime-2.1", limits=SpendLimits(None, None))
    feed(obs, L.started(), usage(15), usage(30), usage(30), usage(29))  # repeats and stale reports add nothing
    snap = obs.usage.snapshot()
    assert snap.per_second and snap.model == "gpt-live-1" and snap.session.live_seconds == 30
    assert snap.realtime_usd == pytest.approx(30 * PER_SECOND) and snap.price_known
    feed(obs, L.ev("session.closed", reason="expired", usage={"seconds": 42}, session=L.snapshot()))
    feed(obs, L.started(), usage(10))  # the next session's own count
    snap = obs.usage.snapshot()
    assert snap.session.live_seconds == 52 and snap.total_usd == pytest.approx(52 * PER_SECOND)
    assert obs.spend.status.session_usd == pytest.approx(52 * PER_SECOND)
    assert snap.transcription_model is None and snap.transcription_usd == 0  # transcription is in the price
    obs.new_conversation()
    assert obs.usage.snapshot().session.live_seconds == 0 and not obs.usage.snapshot().per_second


def test_an_unknown_live_model_is_counted_in_seconds_and_says_price_unknown():
    obs = Observatory(model="gpt-live-1")
    feed(obs, L.started(model="gpt-live-9"), usage(20))
    snap = obs.usage.snapshot()
    assert snap.session.live_seconds == 20 and snap.realtime_usd == 0 and not snap.price_known
    assert obs.spend.status.session_usd == 0


def test_backend_responses_are_counted_once_and_flagged_unpriced():
    obs = Observatory(model="gpt-live-1")
    done = L.nested("item_d1", {"type": "response.completed", "sequence_number": 2,
                                "response": L.backend_response("resp_b1", "completed", L.USAGE)})
    created = L.nested("item_d1", {"type": "response.created", "sequence_number": 0,
                                   "response": L.backend_response("resp_b1")})
    feed(obs, L.started(), created, done, done)
    snap = obs.usage.snapshot()
    assert snap.session.responses == 1 and snap.session.input_text == 120 and snap.session.output_text == 30
    assert snap.session.cached_text == 20
    assert [(r.response_id, r.model, r.cost_usd) for r in snap.responses] == [("resp_b1", "gpt-5.4-mini", None)]
    assert snap.backend_unpriced and not snap.price_known


def test_a_live_session_left_running_reaches_the_stop():
    changes: list[SpendStatus] = []
    # $0.01 at $0.05 a minute is 12 seconds; the warning comes at 80 % (9.6 s).
    obs = Observatory(model="gpt-live-1", limits=SpendLimits(session_usd=0.01, day_usd=None), on_spend=changes.append)
    feed(obs, L.started(), usage(5))
    assert obs.spend.status.level is Level.OK
    feed(obs, usage(10))
    assert [c.level for c in changes] == [Level.WARNING]
    feed(obs, usage(15))
    assert [c.level for c in changes] == [Level.WARNING, Level.STOP] and obs.spend.stopped
    assert "limit of $0.01 is reached" in changes[-1].sentence


def test_the_offline_demo_counts_seconds_but_spends_nothing():
    obs = Observatory(model="gpt-live-1", limits=SpendLimits(session_usd=0.01, day_usd=None))
    obs.billed = False
    feed(obs, L.started(), usage(600))
    assert obs.usage.snapshot().session.live_seconds == 600 and obs.spend.status.session_usd == 0
    assert not obs.spend.stopped


def test_live_audio_is_elided_in_the_event_log_with_its_duration():
    formats = AudioFormats()
    start = {"type": "session.start", "session": {"model": "gpt-live-1",
                                                  "audio": {"format": {"type": "audio/pcm", "rate": 16000}}}}
    summarize(json.dumps(start), formats)
    append = {"type": "session.input_audio.append", "audio": L.silence_b64(100)}  # 4,800 bytes
    sent = summarize(json.dumps(append), formats)
    assert sent.event is not None and sent.event["audio"] == "<audio 4800 bytes, 150 ms>"  # 16 kHz: 32 bytes a ms
    assert sent.audio_ms == 150 and len(sent.event_json) < 100
    received = summarize(json.dumps(L.audio(L.silence_b64(100))), formats)
    assert received.audio_bytes == 4800 and received.audio_ms == 150
    obs = Observatory(model="gpt-live-1")
    feed(obs, L.started(), L.audio(L.voice_b64(100)))
    assert obs.monitor.snapshot().received.audio_s == pytest.approx(0.1)  # the voice counts as audio received


async def test_a_live_conversations_seconds_and_cost_are_saved_in_the_history(tmp_path):
    import dataclasses

    from desktop_app.controller.controller import Controller
    from desktop_app.controller.dialects import dialect_for
    from desktop_app.controller.states import Conn
    from desktop_app.history.export import to_markdown
    from desktop_app.history.service import History
    from desktop_app.realtime.session_config import SessionConfig
    from desktop_app.settings.profiles import CustomProfile
    from desktop_app.settings.schema import Settings
    from desktop_app.ui.conversation_log import ConversationLog
    from tests.controller.peer import FakeAudio
    from tests.helpers.wait import wait_until
    from tests.live.peer import LivePeer

    paid = CustomProfile(name="Paid", url="wss://example.invalid/v1/live/sessions")
    settings = dataclasses.replace(Settings(), profiles=(*Settings().profiles, paid), active_profile="Paid",
                                   model="gpt-live-1")
    history = History(tmp_path / "history.sqlite3")
    obs = Observatory(model="gpt-live-1", limits=SpendLimits(None, None), ledger=history)
    log = ConversationLog(obs, history)
    await log.open()
    async with LivePeer() as peer:
        async def target() -> tuple[str, dict[str, str]]:
            return peer.url, {}

        ctl = Controller(target=target, audio=FakeAudio(), config=SessionConfig(model="gpt-live-1"),
                         make_core=dialect_for("gpt-live-1"), max_retries=0, **log.controller_options())
        log.started(ctl, settings)
        await ctl.connect()
        await peer.connected()
        start = await peer.next("session.start")
        await peer.send(L.started(client_event_id=start["event_id"]), usage(30))
        await wait_until(lambda: ctl.view.connection is Conn.CONNECTED and ctl.view.usage_seconds == 30)
        await ctl.close()  # the peer answers session.close with usage 1: stale, adds nothing
    log.ended()
    conversation_id = next(iter(await history.conversations())).id
    saved = await history.load(conversation_id)
    await log.close()
    assert saved is not None and saved.summary.cost_usd == pytest.approx(30 * PER_SECOND)
    assert saved.usage["tokens"]["live_seconds"] == 30 and saved.usage["billed"]
    assert "30 s billed by the second" in to_markdown(saved)
