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

    def slow_sentence(text, voice, offset_ms):
        calls.append(text)
        release.wait(5)
        return original(text, voice, offset_ms)

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


async def test_speech_workers_run_at_a_lower_cpu_priority():
    import os
    import sys
    import threading

    from desktop_app.local_server.speech import SpeechPool

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread nice is Linux-only")
    pool = SpeechPool(1, "none", "tone")
    try:
        niceness = pool._pool("tts").submit(
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result()
        assert niceness >= os.getpriority(os.PRIO_PROCESS, 0) + 1
    finally:
        pool.close()
