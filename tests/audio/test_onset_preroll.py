"""The first words of a barge-in reach the server whole (issue #16 item 6), on the simulated room of
``test_aec.py`` in front of the real canceller, guard and capture chain.

The user says "Stop, what is two plus two?" over the assistant's story; the app stops the story
~140 ms after the onset, as the local onset does on the devices. Before the onset pre-roll the first
word was lost two ways: zeros from the guard's gate (the warm-up at an answer's start, the re-warm-up
after the echo path jumped) and AEC3's suppressor opening only gradually.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from desktop_app.audio import echo_control, echo_guard
from desktop_app.audio.aec import EchoCanceller, FarEnd
from desktop_app.audio.echo_guard import EchoGuard
from desktop_app.audio.echo_path import EchoPath
from desktop_app.audio.onset_preroll import OnsetPreRoll
from tests.audio.test_aec import R, Sim, assistant_story, db, simulate, voice
from tests.helpers.onset import first_sound, locate

QUESTION = "Stop, what is two plus two?"
STOP_AFTER_S = 0.14  # the local onset's flush: silent at the DAC ~140 ms after the onset (bench p50)


def question() -> np.ndarray:
    return 0.7 * voice(QUESTION, "shimmer")


def barge_in(start: float, *, first_answer_at: float | None = None, quiet_s: float = 0.0, gain: float = 0.7,
             **kw: object) -> tuple[Sim, int]:
    """The story (a second answer after 1.5 s of silence when ``first_answer_at`` is given, then
    ``start`` is in it; after ``quiet_s`` of the room alone), the user's question at ``start`` s, the
    story stopped 140 ms after its first sound. Returns the run and the question's first sound
    (24 kHz sample)."""
    story = np.concatenate((np.zeros(int(quiet_s * R), np.float32), assistant_story()))
    if first_answer_at is not None:
        cut = int(first_answer_at * R)
        story = np.concatenate((story[:cut], np.zeros(int(1.5 * R), np.float32), story[cut:]))
    user = question()
    onset = int(start * R) + first_sound(user)
    played = story[: onset + int(STOP_AFTER_S * R)].copy()
    played[-192:] *= np.linspace(1.0, 0.0, 192, dtype=np.float32)
    far = np.concatenate((played, np.zeros(3 * R, np.float32)))
    return simulate(far, [(start, user)], gain=gain, delay_ms=30.0, interrupted_at=len(played) / R,  # type: ignore[arg-type]
                    **kw), onset


def voice_level() -> float:
    """dB of the question's own first 100 ms (from its first sound)."""
    return db(question()[first_sound(question()) :][: R // 10])


def without_preroll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(echo_control, "module_lag", lambda: None)


def onset_level(sim: Sim, onset: int) -> float:
    """dB of what was sent over the question's first 100 ms (+ the chain's 20 ms)."""
    a = onset + 480
    return float(10 * np.log10(np.mean(np.square(sim.out[a : a + R // 10], dtype=np.float64)) + 1e-20))


SCENES = {
    "mid-answer": {"start": 3.9},
    "echo path jumped (re-warm-up)": {"start": 5.25, "stall_at": 4.95},
    "an answer's first 300 ms (warm-up)": {"start": 4.55, "first_answer_at": 3.0},
    "reverberant room": {"start": 3.9, "reverb": True},
}


@pytest.mark.parametrize("scene", SCENES)
def test_the_onset_of_a_barge_in_is_sent_at_the_voices_level(scene: str, monkeypatch: pytest.MonkeyPatch) -> None:
    voice_db = voice_level()
    sim, onset = barge_in(**SCENES[scene])  # type: ignore[arg-type]
    preroll = sim.control.canceller.preroll  # type: ignore[union-attr]
    assert preroll is not None and preroll.restored == 1 and preroll.fit_erle_db > 12.0
    assert sim.onsets  # the local onset fired: the decision the restored stretch hangs on
    after = onset_level(sim, onset)
    # the first 100 ms at about the voice's level. The same input gives a figure ~1 dB apart between
    # processes (the re-warm-up scene: -40.7 dB alone, -41.4 once in a make-test worker after other
    # tests; the cause was not found), so the bound keeps 8 dB; before the pre-roll the
    # stretch is 12 dB or more below the voice (asserted below), so the two stay apart.
    assert after > voice_db - 8.0, (after, voice_db)
    # nothing lost or doubled: the stream is as long as the microphone's (a partial frame at most)
    assert abs(len(sim.out) - len(sim.mic)) < 2 * 480
    without_preroll(monkeypatch)
    before, _ = barge_in(**SCENES[scene])  # type: ignore[arg-type]
    assert onset_level(before, onset) < voice_db - 12.0  # what was sent before: gated or suppressed


@pytest.mark.parametrize("gain", [0.0, 0.002])  # no echo at all (the bench's room); a headset's bleed, -54 dB
def test_with_no_echo_to_cancel_a_barge_in_is_taken_at_once_and_sent_from_its_first_sound(
        gain: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Headphones left in speakers mode: the microphone hardly hears the assistant, yet AEC3's
    suppressor hid the first ~200 ms of a barge-in (sent 66 dB under the voice), the guard waited for
    it, and meanwhile learned the user's voice as echo. With the learned echo return 30 dB or more
    under the reference, the raw microphone standing 15 dB over the echo it allows is evidence, and
    the onset is restored from the microphone itself."""
    voice_db = voice_level()
    sim, onset = barge_in(3.9, gain=gain)
    assert sim.guard.no_echo and sim.guard.raw_evidence_frames > 0 and sim.guard.erl_db < -45.0
    assert len(sim.onsets) == 1 and sim.onsets[0] - onset / R <= 0.05, sim.onsets
    assert onset_level(sim, onset) > voice_db - 4.0
    if gain == 0.0:
        monkeypatch.setattr(echo_guard, "NO_ECHO_ERL_DB", -200.0)  # the rule off
        before, _ = barge_in(3.9, gain=gain)
        assert before.onsets[0] - onset / R > 0.15 and onset_level(before, onset) < voice_db - 40.0
        assert before.guard.erl_db > -30.0  # the user's voice learned as echo


def under_the_microphone(sim: Sim, onset: int, seconds: float = 0.5) -> list[float]:
    """dB the sent stream stands under the microphone, per 10 ms over ``seconds`` from ``onset``
    (aligned on the lag the canceller's output has behind the microphone)."""
    lag, _ = locate(sim.out, sim.mic, onset - R // 10, R // 10 + R // 2)
    return [db(sim.mic[onset + i :][:240]) - db(sim.out[onset + lag + i :][:240]) for i in range(0, int(seconds * R), 240)]


@pytest.mark.parametrize("start", [4.61, 5.07])
def test_with_no_echo_to_cancel_the_voice_stays_whole_until_the_canceller_lets_it_through(
        start: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """The onset is bridged on the microphone itself until AEC3's output has caught up: that took
    240-300 ms here, and a bridge ended after 200 ms left a hole in "Stop" (4-25 dB under the voice
    for 10-60 ms)."""
    sim, onset = barge_in(start, gain=0.0)
    assert sim.guard.no_echo and sim.onsets
    assert max(under_the_microphone(sim, onset)) < 5.0  # 0-3.3 dB (the cross-fade's frame)
    monkeypatch.setattr(echo_control, "OnsetPreRoll", functools.partial(OnsetPreRoll, no_echo_bridge_ms=200.0))
    before, _ = barge_in(start, gain=0.0)
    assert max(under_the_microphone(before, onset)) > (5.0 if start < 5.0 else 15.0)  # 7.2 and 25 dB


@pytest.mark.parametrize(("gain", "reverb", "noise_dbfs"), [(0.0, False, -70.0), (0.003, True, -70.0),
                                                           (0.003, True, -62.0)])
def test_with_no_echo_to_cancel_the_assistant_alone_is_never_taken_for_the_user(
        gain: float, reverb: bool, noise_dbfs: float) -> None:
    """The raw microphone as evidence must not hear the assistant's bleed, its reverberation, or a
    noisy room (its own floor + 12 dB)."""
    story = np.concatenate((assistant_story()[: 6 * R], np.zeros(R, np.float32)))
    sim = simulate(story, gain=gain, reverb=reverb, noise_dbfs=noise_dbfs)
    assert sim.guard.no_echo
    assert sim.onsets == [] and sim.speaking == [] and sim.guard.raw_evidence_frames == 0


def test_with_no_echo_path_proven_the_onset_goes_out_as_the_canceller_gave_it_not_as_the_gates_zeros(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer's first 300 ms (the warm-up's gate closed) in a room where no echo path can be fitted
    (an overloaded machine's pairing that keeps moving: here no fit at all). The guard's decision
    opens the gate for the frames after it; the held stretch of the onset now goes out as AEC3 gave
    it too, instead of the zeros the gate had put there."""
    monkeypatch.setattr(EchoPath, "fit", staticmethod(lambda *args, **kw: None))
    scene = SCENES["an answer's first 300 ms (warm-up)"]
    sim, onset = barge_in(**scene)  # type: ignore[arg-type]
    preroll = sim.control.canceller.preroll  # type: ignore[union-attr]
    assert preroll is not None and preroll.restored == 0 and preroll.releases.get("no path") == 1
    assert sim.onsets and sim.guard.warmups >= 2
    first = sim.out[onset + 480 : onset + 480 + R // 10]
    assert np.count_nonzero(first) > len(first) // 2  # not the gate's zeros (all zero before)
    assert onset_level(sim, onset) > -100.0
    # and from the first evidence on, at the level the canceller lets through: within 1 dB of the
    # stream with the pre-roll off, whose frames after the decision are the same ungated output
    without_preroll(monkeypatch)
    before, _ = barge_in(**scene)  # type: ignore[arg-type]
    late = slice(onset + R // 5, onset + R // 2)  # after the decision (+0.2 s): the same frames
    assert abs(db(sim.out[late]) - db(before.out[late])) < 1.0


def test_echo_alone_is_sent_exactly_as_before_only_held_back_while_the_assistant_is_audible(
        monkeypatch: pytest.MonkeyPatch) -> None:
    story = np.concatenate((assistant_story()[: 4 * R], np.zeros(2 * R, np.float32)))
    sim = simulate(story, gain=0.7, delay_ms=30.0)
    preroll = sim.control.canceller.preroll  # type: ignore[union-attr]
    assert preroll is not None and preroll.restored == 0 and preroll.max_held == preroll.hold_frames + 1
    without_preroll(monkeypatch)
    plain = simulate(story, gain=0.7, delay_ms=30.0)
    assert np.array_equal(sim.out, plain.out)


def canceller(preroll: OnsetPreRoll) -> tuple[EchoCanceller, FarEnd]:
    class Passthrough:
        stream_delay_ms = 0
        speech_probability = 0.0

        def process(self, near: np.ndarray, far: np.ndarray | None = None) -> np.ndarray:
            return near.copy()

        def reset(self) -> None:
            pass

    far = FarEnd()
    far.set_rate(R)
    return EchoCanceller(far, EchoGuard("speakers"), Passthrough(), preroll=preroll), far


def test_with_the_assistant_silent_every_frame_goes_out_at_once() -> None:
    ec, _ = canceller(OnsetPreRoll(0))
    x = (np.sin(np.arange(4800) * 0.05) * 0.1).astype(np.float32)
    out = [len(ec.process(x[i : i + 480], 100.0 + i / R)) for i in range(0, len(x), 480)]
    assert out == [480] * 10


def test_push_to_talk_and_mute_hold_nothing_back() -> None:
    """The assistant playing and the PTT button up (or muted): no frame is held back (a press sends
    the capture chain's own pre-roll); hands-free, frames wait while it is audible."""
    for listening in (True, False):
        control = echo_control.EchoControl("speakers")
        control.set_listening(listening)
        control.far.set_rate(R)
        story = assistant_story()[: 2 * R]
        for i in range(0, len(story), 480):
            control.output_hook(story[i : i + 480], 50.0 + (i + 960) / R)
            control.process(0.01 * story[i : i + 480], 50.0 + i / R)
        preroll = control.canceller.preroll  # type: ignore[union-attr]
        assert preroll is not None and (preroll.max_held > 30) is listening


def test_the_echo_path_is_fitted_from_echo_alone() -> None:
    story = assistant_story()[: 3 * R].astype(np.float64)
    h = np.zeros(2000)
    h[1200], h[1300], h[1500] = 0.6, -0.2, 0.1  # 50 ms of bulk delay, two reflections
    near = np.convolve(story, h)[: len(story)] + np.random.default_rng(2).standard_normal(len(story)) * 1e-4
    path = EchoPath.fit(story.astype(np.float32), near.astype(np.float32))
    assert path is not None and path.erle_db > 20.0 and 700 <= path.shift <= 1200
    assert EchoPath.fit(np.zeros(3 * R, np.float32), near.astype(np.float32)) is None  # silence: no path
    # the pairing moved 13 ms within the stretch (samples lost at the microphone, a resumed speaker
    # placed a little off): the path fits what came after
    moved = np.concatenate((near[: int(0.8 * R)], near[int(0.8 * R) + 320 :]))[: int(1.5 * R)]
    path = EchoPath.fit(story[: int(1.5 * R)].astype(np.float32), moved.astype(np.float32))
    assert path is not None and path.erle_db > 12.0


@pytest.mark.slow
@pytest.mark.parametrize("scene", ["mid-answer", "echo path jumped (re-warm-up)", "an answer's first 300 ms (warm-up)"])
def test_whisper_hears_the_first_word(scene: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the server's recognizer makes of what was sent: "Stop" first, and before the pre-roll not."""
    from desktop_app.local_server.speech.asr import get_recognizer

    recognizer = get_recognizer("whisper")

    def heard(sim: Sim, onset: int) -> str:
        seg = sim.out[onset - int(0.3 * R) : onset + 2 * R]
        return recognizer.transcribe(np.clip(seg * 32768, -32768, 32767).astype(np.int16)).lower()

    sim, onset = barge_in(**SCENES[scene])  # type: ignore[arg-type]
    assert heard(sim, onset).startswith("stop")
    without_preroll(monkeypatch)
    before, _ = barge_in(**SCENES[scene])  # type: ignore[arg-type]
    assert not heard(before, onset).startswith("stop")


