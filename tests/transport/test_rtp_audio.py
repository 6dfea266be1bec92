"""Track PCM: 48 kHz stereo frames → 24 kHz mono, and a lost packet keeps its place in the timeline."""

from __future__ import annotations

import fractions

import numpy as np
from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket
from av import AudioFrame

from desktop_app.rtp_audio import CONCEAL_MS, AudioJitterBuffer, TrackPcm, use_audio_jitter_buffer


def frame(pts: int, value: int = 3000) -> AudioFrame:
    samples = np.full((1, 960 * 2), value, dtype=np.int16)  # 20 ms of 48 kHz stereo, interleaved
    out = AudioFrame.from_ndarray(samples, format="s16", layout="stereo")
    out.sample_rate, out.pts, out.time_base = 48000, pts, fractions.Fraction(1, 48000)
    return out


def test_frames_in_order_become_20_ms_of_24_khz_mono_each_and_nothing_is_invented():
    pcm = TrackPcm()
    total = sum(len(pcm.convert(frame(i * 960))) for i in range(10))
    assert abs(total - 10 * 480 * 2) <= 64 * 2  # the resampler may hold a few samples back
    assert pcm.concealed_ms == 0


def test_a_lost_packet_is_concealed_with_the_last_frame_fading_and_longer_gaps_end_in_silence():
    pcm = TrackPcm()
    before = sum(len(pcm.convert(frame(i * 960))) for i in range(5))
    after_gap = pcm.convert(frame(6 * 960))  # frame 5 (20 ms) never came
    assert pcm.concealed_ms == 20
    assert len(after_gap) >= 2 * 480 * 2 - 64 * 2  # the lost 20 ms and the frame itself
    filled = np.frombuffer(after_gap[: 480 * 2], dtype=np.int16)
    assert 0 < np.abs(filled).max() < 3000  # the last frame, quieter: not silence, not a jump
    long_gap = pcm.convert(frame(6 * 960 + 960 * 20))  # 380 ms lost
    silent_tail = np.frombuffer(long_gap[CONCEAL_MS * 48 + 480:380 * 48], dtype=np.int16)
    assert len(long_gap) >= 380 * 48 and before > 0 and np.abs(silent_tail).max() == 0


def jitter_buffer(receiver: RTCRtpReceiver) -> JitterBuffer:
    return vars(receiver)["_RTCRtpReceiver__jitter_buffer"]


def _packet(seq: int) -> RtpPacket:
    packet = RtpPacket(sequence_number=seq % 0x10000, timestamp=(seq * 960) % 2**32)
    packet._data = seq.to_bytes(4, "big", signed=True)  # what the receiver's depayloader sets
    return packet


def _played(buffer: JitterBuffer, seqs: list[int]) -> list[int]:
    out = []
    for seq in seqs:
        _, frame = buffer.add(_packet(seq))
        if frame is not None:
            out.append(int.from_bytes(frame.data, "big", signed=True))
    return out


def test_aiortcs_own_buffer_loses_the_four_packets_before_each_lost_one():
    """Why AudioJitterBuffer exists: the measurement behind it, kept so an aiortc that fixes its
    buffer is noticed (this test then fails, and the replacement can go)."""
    played = _played(JitterBuffer(capacity=16, prefetch=4), [s for s in range(60) if s not in (20, 40)])
    assert set(range(16, 21)).isdisjoint(played) and set(range(36, 41)).isdisjoint(played)


def test_a_lost_packet_costs_only_itself_and_the_rest_play_in_order_with_four_packets_of_delay():
    sent = [s for s in range(60) if s not in (20, 40, 41)]
    played = _played(AudioJitterBuffer(), sent)
    assert played == sent[: len(played)] and played == [s for s in range(56) if s not in (20, 40, 41)]


def test_packets_out_of_order_within_the_prefetch_are_put_back_in_order_and_late_ones_are_dropped():
    order = list(range(10)) + [11, 10, 12, 14, 15, 13] + list(range(16, 30)) + [9, 3]  # 9 and 3: too late
    assert _played(AudioJitterBuffer(), order) == list(range(26))


def test_sequence_numbers_wrap_and_a_restarted_sequence_starts_afresh():
    across = list(range(0xFFF0, 0x10000 + 20))
    assert _played(AudioJitterBuffer(), across) == across[:-4]
    buffer = AudioJitterBuffer()
    first = _played(buffer, list(range(5000, 5020)))
    again = _played(buffer, list(range(100, 120)))  # far behind: a new stream, not 4900 late packets
    assert first == list(range(5000, 5016)) and again == list(range(100, 116))


def test_a_jump_ahead_beyond_the_capacity_skips_what_cannot_wait():
    played = _played(AudioJitterBuffer(), list(range(10)) + list(range(40, 60)))
    assert played[:6] == list(range(6)) and played[-1] == 55 and 59 not in played
    assert played == sorted(played)


async def test_an_audio_receiver_gets_it_in_place_of_aiortcs_own():
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("audio").receiver
    assert type(jitter_buffer(receiver)) is JitterBuffer
    use_audio_jitter_buffer(receiver)
    assert isinstance(jitter_buffer(receiver), AudioJitterBuffer)
    await pc.close()
