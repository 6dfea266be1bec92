"""Turn latencies from the controller's moments, and the connection monitor's figures."""

from __future__ import annotations

import pytest

from desktop_app.observe.monitor import ConnectionMonitor, LinkQuality, turn_stats
from desktop_app.observe.turns import TurnRecord, TurnTimings
from desktop_app.transport.base import TransportStats


class Clock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timings(clock) -> TurnTimings:
    return TurnTimings(clock=clock, wall=lambda: 1_700_000_000.0 + clock.t)


def test_a_plain_turn_measures_each_leg(timings, clock):
    finished: list[TurnRecord] = []
    timings.on_turn = finished.append
    timings.speech_stopped()
    clock.t += 0.420
    timings.first_audio_delta()
    clock.t += 0.010
    timings.first_audio_delta()  # later deltas do not move the first byte
    clock.t += 0.055
    timings.first_sample_played()
    clock.t += 1.0
    timings.response_done()
    clock.t += 2.0
    timings.playback_finished()
    turn = timings.current
    assert turn is not None and turn.index == 1 and turn.started_at == pytest.approx(1_700_000_100.0)
    assert turn.speech_to_first_byte_ms == pytest.approx(420)
    assert turn.first_byte_to_playback_ms == pytest.approx(65)
    assert turn.total_ms == pytest.approx(3485)
    assert (turn.barge_in_to_silence_ms, turn.interrupted) == (None, False)
    assert finished == []  # reported when the turn ends
    timings.speech_stopped()
    assert finished == [turn] and timings.turns[0] == turn and timings.current.index == 2


def test_a_barge_in_measures_until_the_speaker_is_silent(timings, clock):
    timings.speech_stopped()
    clock.t += 0.3
    timings.first_audio_delta()
    clock.t += 0.05
    timings.first_sample_played()
    clock.t += 0.8
    timings.barge_in()
    clock.t += 0.137
    timings.silence()
    clock.t += 0.2
    timings.silence()  # only the first silence after the barge-in counts
    turn = timings.current
    assert turn.interrupted and turn.barge_in_to_silence_ms == pytest.approx(137)
    assert turn.total_ms is None  # no response.done yet


def test_a_tool_call_turn_keeps_the_first_byte_and_ends_at_the_last_response(timings, clock):
    timings.speech_stopped()
    clock.t += 0.5
    timings.response_done()  # the function call
    clock.t += 0.7
    timings.first_audio_delta()
    clock.t += 0.9
    timings.response_done()  # the answer after the tool output
    turn = timings.current
    assert turn.speech_to_first_byte_ms == pytest.approx(1200) and turn.total_ms == pytest.approx(2100)


def test_an_answer_without_a_turn_before_it_is_its_own_turn(timings, clock):
    timings.first_audio_delta()
    clock.t += 0.06
    timings.first_sample_played()
    turn = timings.current
    assert turn.speech_to_first_byte_ms is None and turn.first_byte_to_playback_ms == pytest.approx(60)


def test_explicit_times_and_a_play_before_any_delta_is_ignored(timings, clock):
    timings.speech_stopped(at=99.0)
    timings.first_sample_played(at=99.1)  # nothing received yet: not this answer's sample
    timings.first_audio_delta(at=99.25)
    timings.first_sample_played(at=99.3)
    turn = timings.current
    assert turn.speech_to_first_byte_ms == pytest.approx(250)
    assert turn.first_byte_to_playback_ms == pytest.approx(50)
    assert turn.started_at == pytest.approx(1_700_000_099.0)  # the wall time of the speech end


def test_reset_drops_everything_and_keep_bounds_memory(clock):
    timings = TurnTimings(clock=clock, keep=3)
    for _ in range(10):
        timings.speech_stopped()
    assert [t.index for t in timings.turns] == [7, 8, 9, 10]
    timings.reset()
    assert timings.turns == () and timings.current is None


def test_monitor_history_reconnects_and_connected_time(clock):
    monitor = ConnectionMonitor(clock=clock)
    monitor.state_changed("connecting")
    clock.t += 1
    monitor.state_changed("connected")
    clock.t += 60
    monitor.state_changed("reconnecting", "1006 connection lost")
    clock.t += 2
    monitor.state_changed("reconnecting", "attempt 2")
    clock.t += 1
    monitor.state_changed("connected")
    clock.t += 30
    monitor.set_session_expiry(clock.t + 1200)
    snap = monitor.snapshot()
    assert [c.state for c in snap.history] == ["connecting", "connected", "reconnecting", "reconnecting",
                                                "connected"]
    assert snap.history[2].detail == "1006 connection lost"
    assert snap.reconnects == 1  # one reconnect, with two attempts
    assert snap.connected_s == pytest.approx(90)
    assert snap.time_left_s == pytest.approx(1200)
    assert (snap.state, snap.state_since) == ("connected", clock.t - 30)
    monitor.state_changed("closed")
    assert monitor.snapshot().time_left_s is None  # only while connected


def test_monitor_pings_and_traffic(clock):
    monitor = ConnectionMonitor(clock=clock)
    for rtt in (0.040, 0.050, None, 0.100):
        monitor.ping(rtt)
    monitor.traffic("sent", 3300, 50.0)
    monitor.traffic("sent", 3300, 50.0)
    monitor.traffic("received", 6500, 100.0)
    monitor.traffic("received", 200)
    snap = monitor.snapshot()
    assert snap.ping_last_ms == pytest.approx(100) and snap.ping_median_ms == pytest.approx(50)
    assert snap.pings_lost == 1 and len(snap.pings) == 4 and snap.pings[2].rtt_ms is None
    assert (snap.sent.frames, snap.sent.bytes, snap.sent.audio_s) == (2, 6600, pytest.approx(0.1))
    assert (snap.received.frames, snap.received.bytes, snap.received.audio_s) == (2, 6700, pytest.approx(0.1))
    monitor.new_conversation()
    fresh = monitor.snapshot()
    assert fresh.sent.frames == 0 and fresh.received.bytes == 0 and len(fresh.pings) == 4


def test_over_webrtc_the_traffic_rows_count_the_media_tracks_audio_across_reconnects(clock):
    """The audio travels as RTP, not in events: the rows take the transport's own counters (audio
    seconds and every datagram on the wire, the data channel's events included), summed over the
    transports of the conversation and started afresh with a new one."""
    monitor = ConnectionMonitor(clock=clock)
    monitor.state_changed("connected")
    monitor.link_stats(TransportStats(kind="webrtc"))
    monitor.traffic("sent", 400)  # session.update on the data channel: already in the wire bytes
    monitor.traffic("received", 900)
    monitor.link_stats(TransportStats(kind="webrtc", frames_sent=1, frames_received=1, bytes_sent=50_000,
                                      bytes_received=90_000, audio_ms_sent=4000.0, audio_ms_received=6500.0))
    snap = monitor.snapshot()
    assert (snap.sent.frames, snap.sent.bytes, snap.sent.audio_s) == (1, 50_000, pytest.approx(4.0))
    assert (snap.received.frames, snap.received.bytes, snap.received.audio_s) == (1, 90_000, pytest.approx(6.5))
    monitor.state_changed("reconnecting", "ICE/DTLS failed")  # a new transport: its counters start at 0
    monitor.state_changed("connected")
    monitor.link_stats(TransportStats(kind="webrtc", bytes_sent=10_000, audio_ms_sent=1000.0))
    snap = monitor.snapshot()
    assert (snap.sent.bytes, snap.sent.audio_s) == (60_000, pytest.approx(5.0))
    assert (snap.received.bytes, snap.received.audio_s) == (90_000, pytest.approx(6.5))
    monitor.new_conversation()  # on the same transport: only what it carries from now on
    assert monitor.snapshot().sent.audio_s == pytest.approx(0.0)
    monitor.link_stats(TransportStats(kind="webrtc", bytes_sent=13_000, audio_ms_sent=2500.0))
    snap = monitor.snapshot()
    assert (snap.sent.bytes, snap.sent.audio_s) == (3_000, pytest.approx(1.5))
    monitor.state_changed("reconnecting")
    monitor.state_changed("connected")
    monitor.link_stats(TransportStats(kind="websocket"))  # back on a WebSocket: the frames carry it
    monitor.traffic("sent", 3300, 50.0)
    snap = monitor.snapshot()
    assert (snap.sent.frames, snap.sent.bytes, snap.sent.audio_s) == (1, 6_300, pytest.approx(1.55))


@pytest.mark.parametrize(("stats", "expected"), [
    # a WebSocket: a ping round trip, nothing of media
    (TransportStats(kind="websocket", rtt_ms=12.0, bytes_sent=900),
     ("websocket", False, 12.0, None, None, None, None, None)),
    # a WebRTC call, getStats() read: 50 of 1,000 expected packets lost here, 20 of 1,000 of ours there
    (TransportStats(kind="webrtc", rtt_ms=41.0, jitter_ms=3.5, packets_received=950, packets_lost=50,
                    packets_sent=1000, packets_lost_sent=20, bitrate_in_kbps=33.4, bitrate_out_kbps=30.6),
     ("webrtc", True, 41.0, 3.5, 5.0, 2.0, 33.4, 30.6)),
    # a call just set up: no RTCP report back yet, no packets either way
    (TransportStats(kind="webrtc", packets_received=0, packets_lost=0, packets_sent=0, packets_lost_sent=0),
     ("webrtc", True, None, None, None, None, None, None)),
    # the peer reports more lost than we counted sent (RTCP races our counter): never over 100 %
    (TransportStats(kind="webrtc", packets_received=10, packets_lost=0, packets_sent=4, packets_lost_sent=5),
     ("webrtc", True, None, None, 0.0, 100.0, None, None)),
])
def test_the_monitor_keeps_the_transports_statistics(clock, stats, expected):
    monitor = ConnectionMonitor(clock=clock)
    assert monitor.snapshot().quality is None
    monitor.link_stats(stats)
    link = monitor.snapshot().quality
    assert isinstance(link, LinkQuality) and link.at == clock.t
    got = (link.kind, link.media, link.rtt_ms, link.jitter_ms, link.loss_in_pct, link.loss_out_pct,
           link.bitrate_in_kbps, link.bitrate_out_kbps)
    assert got == expected
    monitor.new_conversation()
    assert monitor.snapshot().quality == link  # the transport's figures, not the conversation's


def test_turn_stats_are_medians_over_the_turns_that_have_each_figure():
    turns = [TurnRecord(1, 0, 400, 60, 2000, None), TurnRecord(2, 0, 600, None, 3000, 140),
             TurnRecord(3, 0, 500, 80, None, None)]
    stats = turn_stats(turns)
    assert (stats.count, stats.speech_to_first_byte_ms, stats.first_byte_to_playback_ms, stats.total_ms,
            stats.barge_in_to_silence_ms) == (3, 500, 70, 2500, 140)
    assert turn_stats([]).speech_to_first_byte_ms is None


def test_a_planned_new_session_is_not_counted_as_a_reconnect(clock):
    monitor = ConnectionMonitor(clock=clock)
    for state, detail in (("connecting", ""), ("connected", ""), ("reconnecting", "refreshing session"),
                          ("connected", ""), ("reconnecting", "1006 connection lost"), ("connected", "")):
        monitor.state_changed(state, detail)
        clock.t += 1
    snap = monitor.snapshot()
    assert snap.reconnects == 1 and len(snap.history) == 6
