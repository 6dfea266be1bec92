"""Track PCM: 48 kHz stereo frames → 24 kHz mono, and a lost packet keeps its place in the timeline."""

from __future__ import annotations

import fractions

import numpy as np
from av import AudioFrame

from desktop_app.rtp_audio import CONCEAL_MS, TrackPcm


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
