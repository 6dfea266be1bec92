"""The echo guard in a noisy room (a fan, a loud microphone preamp: −55 to −50 dBFS of steady noise),
in the simulated room of :mod:`tests.audio.test_aec` in front of the real canceller.

The residual's noise floor was learned from every frame, including AEC3's first frames (digital
silence) and its suppressor's gating under an answer (−90 to −106 dBFS). Rising 3 dB/s from there, it
stayed 30–40 dB under the room's noise for 10 s, so the noise alone cleared the guard's −60 dBFS
minimum: "the user speaks" from the first frame, an onset as each answer started (the assistant
interrupting itself), and no light path after it (going light waits for quiet frames). A microphone
that is itself digitally silent between words still sets the floor.

The learned echo return counted the room's noise as echo: a microphone that hardly hears the speaker
(a headset left in speakers mode) read −8 dB at −50 dBFS of noise, so the no-echo rule was off and a
barge-in went out as in a room with echo (decided 0.25 s late, its first 100 ms at −101 dB). The
noise floor learned while nothing can echo is now taken out of it (the last two tests).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio.test_aec import T0, R, assistant_story, simulate
from tests.audio.test_onset_preroll import barge_in, onset_level, question, voice_level
from tests.helpers.onset import first_sound


@pytest.mark.parametrize("noise_dbfs", [-55.0, -50.0])
@pytest.mark.parametrize("gain", [0.3, 0.03])
def test_a_noisy_rooms_noise_is_never_the_user_before_during_or_after_an_answer(noise_dbfs: float, gain: float) -> None:
    answer = np.concatenate((np.zeros(R, np.float32), assistant_story()[: 3 * R], np.zeros(4 * R, np.float32)))
    sim = simulate(answer, gain=gain, noise_dbfs=noise_dbfs, reverb=True)
    assert sim.speaking == [] and sim.onsets == [] and sim.holds == []
    canceller = sim.control.canceller
    assert canceller is not None and canceller.went_light_at is not None
    after = canceller.went_light_at - T0 - 4.0  # the answer's reference ends at 4 s
    assert canceller.early_light == 2 and 0.2 <= after <= 0.5, after  # a quick next turn goes light


@pytest.mark.parametrize("noise_dbfs", [-55.0, -50.0])
@pytest.mark.parametrize("gain", [0.7, 0.3])
def test_a_barge_in_over_a_noisy_rooms_answer_is_heard_as_in_a_quiet_room(noise_dbfs: float, gain: float) -> None:
    """The floor no longer follows the suppressor's gating down during an answer: it stays at the
    room's noise. A barge-in still stands above it, as early and as whole as at −70 dBFS."""
    quiet, onset = barge_in(3.9, gain=gain)
    noisy, _ = barge_in(3.9, gain=gain, noise_dbfs=noise_dbfs)
    assert len(noisy.onsets) == 1 and abs(noisy.onsets[0] - quiet.onsets[0]) <= 0.02, (noisy.onsets, quiet.onsets)
    assert onset_level(noisy, onset) > onset_level(quiet, onset) - 1.0
    assert onset_level(noisy, onset) > voice_level() - 6.0


def test_a_digitally_silent_microphone_sets_the_floor_not_the_users_quietest_words() -> None:
    """A virtual device (the bench's room) or a driver's gate gives exact zeros between words. Those
    frames are the room's floor: learned from the user's words instead (−71 dBFS here), the floor
    raised the bar for the next barge-in — on the bench, barge-ins over the answer went out 20–30 ms
    later."""
    q = question()
    onset = int(7.9 * R) + first_sound(q)
    played = np.concatenate((np.zeros(4 * R, np.float32), assistant_story()))[: onset + int(0.14 * R)].copy()
    played[-192:] *= np.linspace(1.0, 0.0, 192, dtype=np.float32)
    far = np.concatenate((played, np.zeros(3 * R, np.float32)))
    sim = simulate(far, [(0.5, q), (7.9, q)], gain=0.0, delay_ms=30.0, noise_dbfs=float("-inf"),
                   interrupted_at=len(played) / R)
    assert sim.guard.floor_db is not None and sim.guard.floor_db <= -99.0, sim.guard.floor_db
    assert len(sim.onsets) == 1 and sim.onsets[0] - onset / R <= 0.05, sim.onsets


@pytest.mark.parametrize("noise_dbfs", [-50.0, -45.0])
@pytest.mark.parametrize("gain", [0.0, 0.002])  # no echo at all; a headset's bleed, -54 dB
def test_a_noisy_microphone_that_hardly_hears_the_speaker_is_a_room_with_no_echo(noise_dbfs: float, gain: float) -> None:
    sim, onset = barge_in(4.9, quiet_s=1.0, gain=gain, noise_dbfs=noise_dbfs)  # a turn's silence first
    assert sim.guard.no_echo and sim.guard.erl_db < -45.0, sim.guard.erl_db  # was −8 dB: the noise
    assert len(sim.onsets) == 1 and sim.onsets[0] - onset / R <= 0.05, sim.onsets  # was 0.25 s
    assert onset_level(sim, onset) > voice_level() - 4.0  # was −101 dB


@pytest.mark.parametrize(("gain", "reverb"), [(0.03, False), (0.01, True)])
def test_a_weak_echo_in_a_noisy_room_is_still_echo_and_never_the_user(gain: float, reverb: bool) -> None:
    """With the noise taken out, a weak echo (−30 / −40 dB, one with a room's tail) reads as itself in
    a −45 dBFS room: the no-echo rule applies, and the raw microphone still never takes the assistant
    alone for the user."""
    answer = np.concatenate((np.zeros(R, np.float32), assistant_story()[: 6 * R], np.zeros(2 * R, np.float32)))
    sim = simulate(answer, gain=gain, noise_dbfs=-45.0, reverb=reverb)
    assert sim.guard.no_echo and sim.guard.erl_db == pytest.approx(20 * np.log10(gain), abs=6.0), sim.guard.erl_db
    assert sim.speaking == [] and sim.onsets == [] and sim.guard.raw_evidence_frames == 0
