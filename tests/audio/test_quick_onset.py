"""A barge-in that stands far clear of the echo goes to the server on its second frame (issue #24).

The echo guard takes near-end speech on four frames of evidence; until then the onset pre-roll holds
the outgoing audio while the assistant is audible. Two frames in a row standing 20 dB or more over
everything echo and noise explain — the second not 6 dB weaker than the first — are speech at once:
the held audio goes out 20 ms sooner. Stopping the assistant still waits for the fourth frame, so a
knock or a click can never cut an answer sooner than before.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from desktop_app.audio import echo_guard
from desktop_app.audio.codecs import PCM_RATE
from desktop_app.audio.echo_guard import EchoGuard
from tests.audio.test_aec import R
from tests.audio.test_onset_preroll import barge_in

N = PCM_RATE // 100  # one 10 ms frame


def noise(level_db: float, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(N).astype(np.float32)
    return (x / np.sqrt(np.mean(np.square(x))) * 10 ** (level_db / 20)).astype(np.float32)


def run(levels_db: list[float]) -> tuple[EchoGuard, list[bool], list[int]]:
    """Half a second of the assistant alone (its reference at -20 dBFS, the microphone hearing it 50
    dB down), then frames at ``levels_db`` at the microphone over it. Returns the guard, whether it
    judged each of those frames speech, and the frames at which playback was told to stop."""
    guard = EchoGuard("speakers", erl_db=-40.0)
    stops: list[int] = []
    k = {"i": -1}
    guard.on_onset = lambda: stops.append(k["i"])
    ref = noise(-20.0, 1)
    for i in range(50):
        quiet = noise(-70.0, 100 + i)
        guard.frame(i * 0.01, quiet, quiet, ref, -1.0)
    speaking = []
    for i, level in enumerate(levels_db):
        k["i"] = i
        near = noise(level, 200 + i) + noise(-70.0, 300 + i)
        guard.frame(0.5 + i * 0.01, near, near, ref, -1.0)
        speaking.append(guard.speaking)
    return guard, speaking, stops


def test_a_voice_far_over_the_echo_is_speech_on_its_second_frame_and_stops_playback_on_its_fourth() -> None:
    guard, speaking, stops = run([-30.0, -28.0, -26.0, -25.0, -25.0, -25.0])
    assert speaking == [False, True, True, True, True, True]
    assert stops == [3]  # the count, as before: four frames of evidence
    assert guard.excess_db > echo_guard.STRONG_DB


def test_a_voice_near_the_threshold_still_needs_four_frames() -> None:
    _, speaking, stops = run([-50.0] * 6)  # 10 dB over the threshold (the -60 dBFS minimum)
    assert speaking == [False, False, False, True, True, True] and stops == [3]


@pytest.mark.parametrize("levels", [[-25.0], [-20.0, -30.0], [-20.0, -40.0, -70.0]])
def test_a_knock_that_dies_at_once_is_not_speech(levels: list[float]) -> None:
    _, speaking, stops = run([*levels, -70.0, -70.0, -70.0, -70.0, -70.0])
    assert not any(speaking) and stops == []


def test_a_burst_of_two_loud_frames_is_sent_but_never_stops_the_assistant() -> None:
    """What the rule cannot tell from a voice (a knock whose sound spans two frames) goes to the
    server - whose VAD judges it - but playback goes on: stopping still takes four frames."""
    _, speaking, stops = run([-25.0, -25.0, -70.0, -70.0, -70.0, -70.0, -70.0])
    assert speaking[1] and not speaking[-1] and stops == []


@pytest.mark.parametrize("start", [3.9, 4.61, 5.07])
def test_with_no_echo_a_barge_in_goes_to_the_server_a_block_before_the_assistant_stops(
        start: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's room (the microphone does not hear the speaker): the canceller, the guard and the
    capture chain of ``test_onset_preroll`` with "Stop, what is two plus two?" over the story."""
    sim, onset = barge_in(start, gain=0.0)
    t0 = onset / R
    first = min(t for t in sim.speaking if t >= t0 - 0.05)  # the 20 ms block the held audio went out in
    assert first - t0 <= 0.01 and sim.onsets == [pytest.approx(first + 0.02)]
    monkeypatch.setattr(echo_guard, "STRONG_DB", math.inf)  # the rule off: four frames, as before
    before, _ = barge_in(start, gain=0.0)
    assert min(t for t in before.speaking if t >= t0 - 0.05) == pytest.approx(first + 0.02)
    assert before.onsets == sim.onsets
    assert np.array_equal(before.out, sim.out)  # the same audio, only sooner
