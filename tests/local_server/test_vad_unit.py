"""The VAD's building blocks: frames judged without look-ahead, the decimation, the threshold mapping."""

from __future__ import annotations

import numpy as np

from desktop_app.local_server.vad import TurnDetector, decimate, gate_dbfs, vad_mode


def tone(hz: float, n: int = 24000) -> np.ndarray:
    return (np.sin(2 * np.pi * hz * np.arange(n) / 24000) * 10000).astype(np.int16)


def test_detection_does_not_depend_on_how_the_audio_is_chunked():
    audio = np.concatenate([np.zeros(24 * 500, np.int16), tone(300, 24 * 900), np.zeros(24 * 900, np.int16)])
    results = []
    for step in (480, 333, 2400):
        detector = TurnDetector({"type": "server_vad", "silence_duration_ms": 300})
        events = [e for at in range(0, len(audio), step) for e in detector.feed(audio[at : at + step])]
        results.append([(e.kind, e.at_ms) for e in events])
    assert results[0] == results[1] == results[2] and [k for k, _ in results[0]] == ["started", "stopped"]


def test_decimation_keeps_speech_band_and_removes_the_worst_aliases():
    assert np.abs(decimate(tone(440, 720 * 30))[100:]).max() > 9000
    assert np.abs(decimate(tone(8000, 720 * 30))[100:]).max() < 200  # would fold onto 0 Hz


def test_a_frame_is_judged_as_soon_as_its_last_sample_arrives():
    detector = TurnDetector({"type": "server_vad", "silence_duration_ms": 300})
    speech = tone(300, 24 * 600)
    assert [e.kind for e in detector.feed(speech)] == ["started"]
    # The first silent frame still holds the filter's tail of the tone, so 300 ms of silence after it
    # (330 ms in all) ends the turn — in the very append that completes it, with no look-ahead.
    assert [e.kind for e in detector.feed(np.zeros(24 * 330, np.int16))] == ["stopped"]


def test_threshold_sets_aggressiveness_and_energy_gate_monotonically():
    assert [vad_mode(t) for t in (0.0, 0.3, 0.5, 0.8, 1.0)] == [0, 1, 2, 3, 3]
    gates = [gate_dbfs(t) for t in (0.0, 0.5, 1.0)]
    assert gates == sorted(gates) and gates[1] == -37.5
