"""PlaybackQueue: per-item accounting, prebuffer after silence, underruns, flush fade, rate conversion."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from desktop_app.audio.codecs import float_to_pcm16
from desktop_app.audio.playback_queue import PlaybackQueue
from tests.audio.signals import dominant_hz, tone, tone_pcm


def ramp_pcm(n: int, start: int = 0) -> bytes:
    """Distinct, recognisable samples: value k/32768 at index k (mod 16384)."""
    return (((np.arange(start, start + n) % 16384) + 1).astype("<i2")).tobytes()


def pull_many(queue: PlaybackQueue, blocks: int, n: int = 480) -> np.ndarray:
    return np.concatenate([queue.pull(n).copy() for _ in range(blocks)])


def test_finished_item_plays_at_once_and_played_counts_every_handed_sample() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", ramp_pcm(24000))
    queue.finish("a")
    out = pull_many(queue, 10)
    expected = ((np.arange(4800) % 16384) + 1) / 32768
    np.testing.assert_allclose(out, expected, atol=1e-7)
    report = queue.report("a")
    assert (report.played_samples, report.received_samples) == (4800, 24000)
    assert (report.played_ms, report.received_ms, report.truncate_ms) == (200, 1000, 200)


def test_unknown_item_reports_zero() -> None:
    assert PlaybackQueue().report("nope").played_ms == 0


def test_playback_waits_for_the_prebuffer_after_silence() -> None:
    queue = PlaybackQueue(prebuffer_ms=80)
    queue.enqueue("a", tone_pcm(440, 0.04))  # 40 ms < 80 ms prebuffer, item not finished
    assert not pull_many(queue, 1).any()
    assert queue.report("a").played_samples == 0
    queue.enqueue("a", tone_pcm(440, 0.05))  # now 90 ms queued
    assert pull_many(queue, 1).any()
    assert queue.report("a").played_samples == 480
    assert queue.is_playing


def test_prebuffer_gives_up_waiting_after_its_own_length() -> None:
    queue = PlaybackQueue(prebuffer_ms=80)
    queue.enqueue("a", tone_pcm(440, 0.03))
    silent = pull_many(queue, 4)  # 80 ms of waiting
    assert not silent.any()
    assert pull_many(queue, 1).any()


def test_running_dry_mid_item_counts_one_underrun_and_rearms_prebuffer() -> None:
    queue = PlaybackQueue(prebuffer_ms=60)
    queue.enqueue("a", tone_pcm(440, 0.1))
    pull_many(queue, 8)  # 160 ms: 100 ms of audio then dry
    assert queue.underruns == 1
    assert queue.report("a").played_samples == 2400
    queue.enqueue("a", tone_pcm(440, 0.02))  # below the prebuffer again: waits
    assert not pull_many(queue, 1).any()
    assert queue.underruns == 1


def test_end_of_a_finished_item_is_not_an_underrun() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", tone_pcm(440, 0.1))
    queue.finish("a")
    pull_many(queue, 10)
    assert queue.underruns == 0
    assert not queue.is_playing


def test_a_new_item_finishes_the_previous_one() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", tone_pcm(440, 0.1))
    queue.enqueue("b", tone_pcm(440, 0.1))
    queue.finish("b")
    pull_many(queue, 15)
    assert queue.underruns == 0
    assert queue.report("a").played_samples == queue.report("b").played_samples == 2400


def test_flush_fades_within_the_next_pull_and_reports_the_exact_played_position() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", tone_pcm(1000, 1.0, level=0.5))
    pull_many(queue, 10)
    report = queue.flush(fade_ms=8)
    assert report is not None and report.item_id == "a"
    assert report.played_samples == 4800 + 192  # the 8 ms fade is handed to the device too
    block = queue.pull(480).copy()
    peak_first = np.abs(block[:48]).max()
    assert peak_first > 0.3  # the fade starts at full level: no step down
    assert np.abs(block[150:192]).max() < 0.1  # …ends near zero
    assert not block[192:].any()
    assert queue.report("a").played_samples == report.played_samples
    assert not pull_many(queue, 5).any()
    queue.enqueue("a", tone_pcm(1000, 0.1))  # late deltas of the interrupted item never play
    assert not pull_many(queue, 10).any()
    assert queue.report("a").received_ms == 1100
    assert not queue.is_playing


def test_flush_with_nothing_playing_returns_none_and_before_start_drops_the_queue() -> None:
    queue = PlaybackQueue(prebuffer_ms=80)
    assert queue.flush() is None
    queue.enqueue("a", tone_pcm(440, 0.02))
    report = queue.flush()
    assert report is not None and report.played_samples == 0
    assert not pull_many(queue, 10).any()


def test_item_enqueued_after_a_flush_plays_normally() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", tone_pcm(440, 0.5))
    pull_many(queue, 3)
    queue.flush()
    pull_many(queue, 1)
    queue.enqueue("b", tone_pcm(440, 0.1))
    queue.finish("b")
    pull_many(queue, 10)
    assert queue.report("b").played_samples == 2400


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_resampled_output_keeps_pitch_and_exact_accounting(rate: int) -> None:
    queue = PlaybackQueue(output_rate=rate)
    queue.enqueue("a", tone_pcm(1000, 0.5))
    queue.finish("a")
    block = rate // 100
    out = []
    for k in range(1, 61):
        out.append(queue.pull(block).copy())
        handed_24k = k * block * 24000 // rate
        # credited = exactly what the device has been handed, never what is still in the resampler
        assert queue.report("a").played_samples == min(handed_24k, 12000)
    y = np.concatenate(out)
    assert abs(dominant_hz(y[: rate // 2], rate) - 1000) < 1
    assert queue.report("a").played_samples == 12000


def test_flush_with_resampling_is_silent_after_the_fade_and_matches_its_report() -> None:
    queue = PlaybackQueue(output_rate=48000)
    queue.enqueue("a", tone_pcm(1000, 1.0))
    for _ in range(7):
        queue.pull(960)
    report = queue.flush(fade_ms=8)
    block = queue.pull(960).copy()
    assert np.abs(block[:40]).max() > 0.3
    assert not block[int(8 * 48) + 2 :].any()
    assert queue.report("a").played_samples == report.played_samples == 7 * 480 + 192
    assert not queue.pull(960).any()


def test_level_follows_the_handed_block() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", float_to_pcm16(tone(1000, 24000, 0.2, level=1.0) * 0.5).tobytes())
    queue.finish("a")
    queue.pull(480)
    assert queue.level_dbfs == pytest.approx(-9.03, abs=0.1)
    pull_many(queue, 20)
    assert queue.level_dbfs < -90


def test_loop_enqueues_while_audio_thread_pulls_without_losing_or_reordering() -> None:
    queue = PlaybackQueue(prebuffer_ms=0)
    chunks = 200
    total = chunks * 240
    got: list[np.ndarray] = []
    started = threading.Event()

    def audio_thread() -> None:
        started.set()
        have = 0
        for _ in range(1_000_000):  # bounded: a stuck queue fails the test instead of hanging it
            block = queue.pull(480)
            nonzero = block[block != 0].copy()
            got.append(nonzero)
            have += len(nonzero)
            if have >= total:
                break

    worker = threading.Thread(target=audio_thread)
    worker.start()
    started.wait()
    for k in range(chunks):
        queue.enqueue("a", ramp_pcm(240, start=k * 240))
    queue.finish("a")
    worker.join(timeout=10)
    played = np.concatenate(got)[:total]
    np.testing.assert_allclose(played, ((np.arange(total) % 16384) + 1) / 32768, atol=1e-7)
    assert queue.report("a").played_samples == total


def test_a_second_flush_during_the_fade_reports_the_same_cut() -> None:
    """A local onset and the server's speech_started a few ms apart: one cut, one truncation point."""
    queue = PlaybackQueue(output_rate=48000)
    queue.enqueue("a", ramp_pcm(24000))
    pull_many(queue, 5, 960)
    first = queue.flush(8.0)
    queue.pull(100)  # part of the 8 ms fade has gone out
    second = queue.flush(8.0)
    assert first is not None and second == first
    pull_many(queue, 3, 960)
    assert queue.report("a").played_samples == first.played_samples


def test_flush_names_the_items_queued_behind_that_never_sounded() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", ramp_pcm(4800))
    queue.enqueue("b", ramp_pcm(2400))
    queue.enqueue("c", ramp_pcm(2400))
    pull_many(queue, 3)
    report = queue.flush()
    assert report is not None and report.item_id == "a" and queue.unheard == ("b", "c")


def test_drop_unqueues_an_item_that_has_not_sounded_and_ignores_its_later_audio() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", ramp_pcm(2400))
    queue.enqueue("echo-answer", ramp_pcm(2400, 5000))
    queue.finish("a")
    pull_many(queue, 1)
    assert queue.drop("echo-answer") is None
    queue.enqueue("echo-answer", ramp_pcm(2400, 7400))  # still arriving: never played either
    out = pull_many(queue, 12)  # the rest of "a", then nothing
    np.testing.assert_allclose(out[:1920], ((np.arange(480, 2400) % 16384) + 1) / 32768, atol=1e-7)
    assert not out[1920:].any() and queue.report("echo-answer").played_samples == 0


def test_drop_of_the_item_sounding_now_cuts_it_off_like_a_flush() -> None:
    queue = PlaybackQueue()
    queue.enqueue("echo-answer", ramp_pcm(24000))
    pull_many(queue, 5)
    report = queue.drop("echo-answer")
    assert report is not None and report.item_id == "echo-answer" and report.played_samples == 2400 + 192
    pull_many(queue, 2)
    assert not pull_many(queue, 5).any() and not queue.is_playing
