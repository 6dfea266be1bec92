"""PlaybackQueue's hold: a tentative barge-in pauses within the next block without losing anything,
resumes where it stopped, and always ends (release, flush, or ``max_hold_ms``)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from desktop_app.audio.codecs import float_to_pcm16
from desktop_app.audio.playback_queue import PlaybackQueue
from tests.audio.test_playback_queue import pull_many, ramp_pcm


@pytest.mark.parametrize("device_rate", [24000, 48000])
def test_hold_pauses_within_the_next_block_and_release_resumes_where_it_stopped(device_rate: int) -> None:
    ratio = device_rate // 24000
    queue = PlaybackQueue(output_rate=device_rate)
    queue.enqueue("a", ramp_pcm(24000))
    queue.finish("a")
    pull_many(queue, 5, 480 * ratio)  # 100 ms played
    queue.hold()
    paused = pull_many(queue, 1, 480 * ratio)
    fade = 4 * device_rate // 1000  # the fade-out: 4 ms, then silence
    assert np.abs(paused[fade:]).max() == 0.0 and np.abs(paused[: fade // 2]).max() > 0.0
    played = queue.report("a").played_samples
    assert played == 2400 + 96  # 100 ms + the 4 ms fade, credited; nothing more
    assert queue.paused and queue.is_playing and queue.holds == 1
    assert not pull_many(queue, 10, 480 * ratio).any()  # 200 ms of silence consume nothing
    assert queue.report("a").played_samples == played
    queue.release()
    resumed = pull_many(queue, 5, 480 * ratio)
    assert not queue.paused and queue.report("a").played_samples == played + 2400
    if ratio == 1:  # the very next samples, after a 4 ms fade-in
        expected = ((np.arange(played, played + 2400) % 16384) + 1) / 32768
        np.testing.assert_allclose(resumed[96:], expected[96:], atol=1e-7)
        assert np.all(np.abs(resumed[:96]) <= expected[:96] + 1e-7) and resumed[0] < expected[0]
    else:  # the same device samples an uninterrupted queue hands out (the resampler's state kept)
        twin = PlaybackQueue(output_rate=device_rate)
        twin.enqueue("a", ramp_pcm(24000))
        twin.finish("a")
        pull_many(twin, 5, 480 * ratio)
        twin.pull(fade)
        expected = pull_many(twin, 5, 480 * ratio)
        np.testing.assert_allclose(resumed[fade:], expected[fade:], atol=1e-6)
        assert np.all(np.abs(resumed[:fade]) <= np.abs(expected[:fade]) + 1e-6)


def test_flush_while_paused_cuts_where_playback_went_silent_and_hands_nothing_more() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", ramp_pcm(24000))
    pull_many(queue, 10)  # 200 ms
    queue.hold()
    pull_many(queue, 3)
    report = queue.flush(8.0)
    assert report is not None and report.played_samples == 4800 + 96  # no fade added: it was silent
    assert not pull_many(queue, 5).any()
    assert queue.report("a").played_samples == report.played_samples
    assert not queue.is_playing and not queue.paused
    queue.enqueue("b", ramp_pcm(2400))  # the next answer plays normally (the hold ended with the flush)
    queue.finish("b")
    assert pull_many(queue, 5).any()


def test_hold_while_idle_changes_nothing_and_a_hold_from_another_thread_lands_in_the_next_pull() -> None:
    queue = PlaybackQueue()
    queue.hold()
    assert not pull_many(queue, 2).any() and queue.holds == 0
    queue.enqueue("early", ramp_pcm(2400))  # an answer arriving later is not held by that old hold
    queue.finish("early")
    assert pull_many(queue, 1).any()
    pull_many(queue, 10)
    queue.release()
    queue.enqueue("a", ramp_pcm(24000))
    queue.finish("a")
    pull_many(queue, 2)
    t = threading.Thread(target=queue.hold)
    t.start()
    t.join()
    block = queue.pull(480).copy()
    assert np.abs(block[96:]).max() == 0.0 and queue.holds == 1


def test_audio_queued_but_not_started_waits_while_held() -> None:
    queue = PlaybackQueue(prebuffer_ms=60)
    queue.enqueue("a", ramp_pcm(960))  # 40 ms: still prebuffering
    queue.hold()
    queue.enqueue("a", ramp_pcm(2400, 960))
    queue.finish("a")
    assert not pull_many(queue, 3).any() and queue.report("a").played_samples == 0
    assert (queue.held_waiting, queue.holds) == (1, 0)
    queue.release()
    out = pull_many(queue, 2)
    np.testing.assert_allclose(out, ((np.arange(960) % 16384) + 1) / 32768, atol=1e-7)


def test_a_hold_nobody_releases_ends_by_itself_and_loses_nothing() -> None:
    """Mute, a failed microphone or a mode switch mid-hold leave nobody to release it: after
    ``max_hold_ms`` of silence playback resumes where it stopped, and later answers are not held."""
    queue = PlaybackQueue(max_hold_ms=300)
    queue.enqueue("a", ramp_pcm(24000))
    queue.finish("a")
    pull_many(queue, 5)
    queue.hold()
    pull_many(queue, 1)
    played = queue.report("a").played_samples
    assert not pull_many(queue, 14).any() and queue.paused  # 280 ms: still held
    out = pull_many(queue, 3)
    assert queue.hold_timeouts == 1 and not queue.paused
    resumed = out[np.flatnonzero(out)[0]:]
    expected = ((np.arange(played, played + len(resumed)) % 16384) + 1) / 32768
    np.testing.assert_allclose(resumed[96:], expected[96:], atol=1e-7)  # after the fade-in, exact
    assert queue.report("a").played_samples == played + len(resumed)


def test_a_hold_on_queued_audio_ends_by_itself_too() -> None:
    queue = PlaybackQueue(max_hold_ms=200)
    queue.hold()  # idle: ignored
    queue.enqueue("a", ramp_pcm(4800))
    queue.hold()
    queue.finish("a")
    assert not pull_many(queue, 9).any()
    assert pull_many(queue, 3).any() and queue.hold_timeouts == 1


def test_flush_of_audio_held_before_it_started_ends_the_hold() -> None:
    queue = PlaybackQueue(prebuffer_ms=60)
    queue.enqueue("a", ramp_pcm(960))  # prebuffering
    queue.hold()
    report = queue.flush()
    assert report is not None and report.played_samples == 0
    queue.enqueue("b", ramp_pcm(2400))
    queue.finish("b")
    out = pull_many(queue, 5)
    np.testing.assert_allclose(out[:2400], ((np.arange(2400) % 16384) + 1) / 32768, atol=1e-7)


def test_a_hold_during_a_flush_fade_is_ignored_so_the_next_answer_plays() -> None:
    queue = PlaybackQueue()
    queue.enqueue("a", ramp_pcm(24000))
    pull_many(queue, 5)
    queue.flush(8.0)
    queue.hold()  # the user's voice, one frame after the barge-in: the audio is already going
    pull_many(queue, 2)
    queue.enqueue("b", ramp_pcm(2400))
    queue.finish("b")
    assert pull_many(queue, 5).any() and queue.holds == 0


@pytest.mark.parametrize("block", [32, 100, 191])
def test_blocks_shorter_than_the_fade_carry_it_on_smoothly_both_ways(block: int) -> None:
    """At 48 kHz the 4 ms fade is 192 frames: a smaller device block must not raise in the audio
    callback (it would stop the stream), and the gain walks down and back up without a jump."""
    queue = PlaybackQueue(output_rate=48000)
    constant = float_to_pcm16(np.full(48000, 0.5, dtype=np.float32)).tobytes()
    queue.enqueue("a", constant)
    queue.finish("a")
    pull_many(queue, 20, block)
    queue.hold()
    down = pull_many(queue, 400 // block + 1, block)
    first_zero = int(np.flatnonzero(np.abs(down) < 1e-6)[0])
    assert 190 <= first_zero <= 193 and not down[first_zero:].any()
    assert np.all(np.diff(down[:first_zero]) <= 1e-6)  # monotonic fade, no jump back up
    queue.release()
    up = pull_many(queue, 400 // block + 1, block)
    assert np.all(np.diff(up[:190]) >= -1e-6) and np.allclose(up[200:], 0.5, atol=1e-3)
    assert np.abs(np.diff(up)).max() < 0.02  # ≈ 0.5·π/(2·192) per frame at most: no click


def test_a_release_in_the_middle_of_the_fade_out_turns_back_from_the_gain_reached() -> None:
    queue = PlaybackQueue(output_rate=48000)
    queue.enqueue("a", float_to_pcm16(np.full(48000, 0.5, dtype=np.float32)).tobytes())
    queue.finish("a")
    pull_many(queue, 20, 32)
    queue.hold()
    down = pull_many(queue, 3, 32)  # 96 of the 192 fade frames
    queue.release()
    up = pull_many(queue, 6, 32)
    both = np.concatenate([down, up])
    assert np.abs(np.diff(both)).max() < 0.02 and both.min() > 0.2  # turned back near half gain
    assert np.allclose(up[-64:], 0.5, atol=1e-3) and queue.holds == 0
