"""The controller's metrics port, its spending stop and a continued conversation, against the
scripted peer (every client frame validated with the SDK's strict union)."""

from __future__ import annotations

import asyncio
import time

import pytest

from desktop_app.controller import metrics as metrics_module
from desktop_app.controller.controller import Controller, Earlier
from desktop_app.controller.states import Conn, Mic, Turn
from desktop_app.controller.view_state import TranscriptEntry
from desktop_app.observe.observatory import Observatory
from desktop_app.realtime import commands
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.transport.base import TransportStats
from desktop_app.transport.socket import RealtimeSocket
from tests.controller.peer import FakeAudio, ScriptedPeer
from tests.controller.test_controller import A1, R1, U1, assistant_answer, start
from tests.helpers.wait import wait_until
from tests.realtime import frames as F


class Recorded:
    """A :class:`~desktop_app.controller.metrics.Metrics` that keeps every call, with the time."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, float]] = []

    def _add(self, name: str, *args) -> None:  # noqa: ANN002
        self.calls.append((name, args, time.monotonic()))

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def args(self, name: str) -> list[tuple]:
        return [c[1] for c in self.calls if c[0] == name]

    def speech_stopped(self, at=None):  # noqa: ANN001, ANN201
        self._add("speech_stopped", at)

    def first_audio_delta(self, at=None):  # noqa: ANN001, ANN201
        self._add("first_audio_delta", at)

    def first_sample_played(self, at=None):  # noqa: ANN001, ANN201
        self._add("first_sample_played", at)

    def response_done(self, at=None):  # noqa: ANN001, ANN201
        self._add("response_done", at)

    def barge_in(self, at=None):  # noqa: ANN001, ANN201
        self._add("barge_in", at)

    def silence(self, at=None):  # noqa: ANN001, ANN201
        self._add("silence", at)

    def connection_state(self, state, detail=""):  # noqa: ANN001, ANN201
        self._add("connection_state", state, detail)

    def session_expiry(self, expires_at):  # noqa: ANN001, ANN201
        self._add("session_expiry", expires_at)

    def ping(self, rtt_s):  # noqa: ANN001, ANN201
        self._add("ping", rtt_s)

    def link_stats(self, stats):  # noqa: ANN001, ANN201
        self._add("link_stats", stats)


async def test_the_moments_of_a_hands_free_turn_reach_the_metrics_port():
    metrics = Recorded()
    async with ScriptedPeer() as peer:
        s = await start(peer, metrics=metrics)
        states = [a[0] for a in metrics.args("connection_state")]
        assert states[:2] == ["connecting", "connected"]
        (expiry,) = metrics.args("session_expiry")
        assert expiry[0] == s.ctl.view.session_expires_at and expiry[0] > time.time()

        await peer.send(F.speech_started(U1), F.speech_stopped(U1))
        await wait_until(lambda: s.ctl.view.turn is Turn.COMMITTING)
        spoke_until = time.monotonic()
        assert "speech_stopped" not in metrics.names()  # reported once the server takes the turn
        await peer.send(F.committed(U1))
        await wait_until(lambda: "speech_stopped" in metrics.names())
        ((at,),) = metrics.args("speech_stopped")
        assert at <= spoke_until  # the moment the speech ended, not the commit

        await assistant_answer(peer, "Hello there", 400)
        await wait_until(lambda: "first_audio_delta" in metrics.names())
        assert "first_sample_played" not in metrics.names()  # nothing played yet
        taken = time.monotonic()
        s.audio.played[A1] = 20  # the device takes its first block
        await wait_until(lambda: "first_sample_played" in metrics.names())
        ((played_at,),) = metrics.args("first_sample_played")
        assert taken <= played_at < taken + 0.1  # seen within the polling step

        await peer.send(F.response_done(R1))
        await wait_until(lambda: "response_done" in metrics.names())
        await s.ctl.close()
        assert metrics.args("connection_state")[-1][0] == "closed"


async def test_a_barge_in_and_the_silence_after_it():
    metrics = Recorded()
    async with ScriptedPeer() as peer:
        s = await start(peer, metrics=metrics)
        await assistant_answer(peer, "A long story", 2000)
        await wait_until(lambda: s.audio.is_playing)
        s.ctl.interrupt()  # what a barge-in does: the controller cuts playback
        await wait_until(lambda: "silence" in metrics.names())
        ((barge,),) = metrics.args("barge_in")
        ((silent,),) = metrics.args("silence")
        assert barge <= silent and silent - barge < 0.5
        s.ctl.interrupt()  # nothing playing: not a barge-in
        await asyncio.sleep(0)
        assert len(metrics.args("barge_in")) == 1
        await s.ctl.close()


async def test_the_ping_round_trip_is_sampled_while_connected(monkeypatch):
    monkeypatch.setattr(metrics_module, "PING_SAMPLE_S", 0.05)
    metrics = Recorded()

    async def quick_pings(endpoint, observer):  # noqa: ANN001, ANN202 - websockets measures each ping
        return await RealtimeSocket.open(endpoint.url, endpoint.headers, observer=observer, ping_interval=0.02)

    async with ScriptedPeer() as peer:
        s = await start(peer, metrics=metrics, open_transport=quick_pings)
        await wait_until(lambda: len(metrics.args("ping")) >= 2)
        assert all(0 < rtt < 1.0 for (rtt,) in metrics.args("ping"))
        await s.ctl.close()
        count = len(metrics.args("ping"))
        await asyncio.sleep(0.15)
        assert len(metrics.args("ping")) == count  # no sampling once closed


WEBRTC_SAMPLE = TransportStats(kind="webrtc", rtt_ms=41.0, jitter_ms=3.5, packets_received=950, packets_lost=50,
                               packets_sent=1000, packets_lost_sent=20, bitrate_in_kbps=33.4, bitrate_out_kbps=30.6)
WEBSOCKET_SAMPLE = TransportStats(kind="websocket", rtt_ms=12.0, bytes_sent=900, frames_sent=3)


@pytest.mark.parametrize(("sample", "expected"), [
    # kind, round trip, jitter, loss in %, packets lost in, loss out %, packets lost out, bitrate in, out
    (WEBRTC_SAMPLE, ("webrtc", 41.0, 3.5, 5.0, 50, 2.0, 20, 33.4, 30.6)),
    (WEBSOCKET_SAMPLE, ("websocket", 12.0, None, None, None, None, None, None, None)),
])
async def test_the_transports_statistics_reach_the_connection_monitor(sample, expected):
    """What the transport's ``stats()`` says (over WebRTC, its getStats() reading) reaches the
    observatory's monitor through the metrics port, once at connecting and then every sample period."""
    obs = Observatory(model="gpt-realtime-2.1")

    class Measured(RealtimeSocket):
        def stats(self) -> TransportStats:
            return sample

    async def measured(endpoint, observer):  # noqa: ANN001, ANN202
        return await Measured.open(endpoint.url, endpoint.headers, observer=observer)

    async with ScriptedPeer() as peer:
        s = await start(peer, metrics=obs, open_transport=measured)
        # at once on connecting (the sampling period is 5 s): the panel knows the transport from the start
        await wait_until(lambda: obs.monitor.snapshot().quality is not None, 2.0, "the first statistics")
        await s.ctl.close()
    snap = obs.monitor.snapshot()
    link = snap.quality
    assert link is not None
    assert (link.kind, link.rtt_ms, link.jitter_ms, link.loss_in_pct, link.packets_lost, link.loss_out_pct,
            link.packets_lost_sent, link.bitrate_in_kbps, link.bitrate_out_kbps) == expected
    assert snap.ping_last_ms == pytest.approx(expected[1])
    obs.close()


async def test_the_spending_stop_mutes_refuses_and_cancels_until_the_user_agrees():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        ctl, audio = s.ctl, s.audio
        audio.speak(100)
        await peer.next("input_audio_buffer.append", skip=())
        ctl.spending.set(True, "$5.00 spent: this conversation's limit of $5.00 is reached.")
        assert ctl.view.mic is Mic.MUTED and audio.muted
        assert ctl.view.notice.cause == "spend" and "limit of $5.00" in ctl.view.notice.sentence
        await peer.next("input_audio_buffer.clear")  # a half-spoken turn is dropped
        before = len(peer.all_frames)
        audio.speak(200)  # a microphone that still delivers frames sends nothing
        ctl.set_muted(False)  # refused, with the reason shown again
        assert ctl.view.mic is Mic.MUTED
        ctl.dismiss_notice()
        ctl.send_text("Are you there?")
        assert ctl.view.notice is not None and ctl.view.notice.cause == "spend"
        await peer.send(F.response_created("resp_idle"))  # e.g. an idle timeout: cancelled at once
        await peer.next("response.cancel")
        assert [f["type"] for f in peer.all_frames[before:]] == ["response.cancel"]

        ctl.spending.set(False)
        assert ctl.view.mic is Mic.HANDS_FREE and not audio.muted and ctl.view.notice is None
        audio.speak(40)
        await peer.next("input_audio_buffer.append", skip=("input_audio_buffer.clear",))
        await ctl.close()


async def test_the_spending_stop_keeps_a_mute_the_user_chose():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        s.ctl.set_muted(True)
        s.ctl.spending.set(True, "limit")
        s.ctl.spending.set(False)
        assert s.ctl.view.mic is Mic.MUTED
        await s.ctl.close()


async def test_a_continued_conversation_is_shown_and_replayed_into_the_first_session():
    earlier = Earlier(
        items=(commands.user_text_item("My cat is called Miso."), commands.assistant_text_item("Noted: Miso.")),
        entries=(TranscriptEntry("item_old_u", "user", "My cat is called Miso.", final=True),
                 TranscriptEntry("item_old_a", "assistant", "Noted: Miso.", final=True)))
    audio = FakeAudio()
    async with ScriptedPeer() as peer:
        async def target():  # noqa: ANN202
            return peer.url, {}

        ctl = Controller(target=target, audio=audio, config=SessionConfig(), replay=earlier)
        assert [e.text for e in ctl.view.transcript] == ["My cat is called Miso.", "Noted: Miso."]
        await ctl.connect()
        await peer.connected()
        await peer.send(F.session_created())
        await peer.next("session.update")
        first = await peer.next("conversation.item.create")
        second = await peer.next("conversation.item.create")
        assert first["item"]["content"][0]["text"] == "My cat is called Miso."
        assert second["item"]["role"] == "assistant"
        for frame in (first, second):  # the server adds them; the window keeps showing the saved lines
            await peer.send(F.item_added(frame["item"]), F.item_done(frame["item"]))
        await wait_until(lambda: ctl.view.connection is Conn.CONNECTED)
        await peer.send(F.item_added(F.user_text_item("item_U9", "And what is my cat called?")))
        await wait_until(lambda: len(ctl.view.transcript) == 3)
        assert [e.item_id for e in ctl.view.transcript] == ["item_old_u", "item_old_a", "item_U9"]
        await ctl.close()


def test_every_metrics_implementation_provides_the_whole_port_with_its_signatures():
    import inspect

    from desktop_app.observe.observatory import Observatory

    def methods(cls: type) -> dict[str, inspect.Signature]:
        return {n: inspect.signature(f) for n, f in inspect.getmembers(cls, inspect.isfunction)
                if not n.startswith("_")}

    declared = methods(metrics_module.Metrics)
    assert set(declared) >= {"speech_stopped", "first_sample_played", "barge_in", "silence", "ping"}
    assert methods(metrics_module.NoMetrics) == declared
    observatory = methods(Observatory)
    assert {n: observatory[n] for n in declared} == declared


@pytest.mark.parametrize("transport", ["websocket", "webrtc"])
async def test_the_answer_s_first_audio_and_first_sample_over_both_transports(transport: str) -> None:
    """Over WebRTC the voice is a media track: its first audio is ``output_audio_buffer.started``."""
    from tests.controller.test_transports import make_peer
    from tests.controller.test_transports import start as start_over

    metrics = Recorded()
    async with make_peer(transport) as peer:
        s = await start_over(peer, transport, metrics=metrics)
        await peer.send(F.speech_started(U1), F.speech_stopped(U1), F.committed(U1))
        await wait_until(lambda: "speech_stopped" in metrics.names())
        await assistant_answer(peer, "Five.", 400)
        await wait_until(lambda: "first_audio_delta" in metrics.names(), 10)
        await wait_until(lambda: s.audio.enqueued.get(A1, 0) > 0, 10)
        s.audio.played[A1] = 20
        await wait_until(lambda: "first_sample_played" in metrics.names())
        names = metrics.names()
        assert names.index("speech_stopped") < names.index("first_audio_delta") < names.index("first_sample_played")
        await s.ctl.close()
