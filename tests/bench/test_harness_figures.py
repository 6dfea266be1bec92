"""The benchmarks' bookkeeping: onset detection, per-turn and per-stage figures, /proc and py-spy
parsing — plain data in, figures out (no devices, no clock) — and the socket stage's wrapper,
over a loopback WebSocket."""

from __future__ import annotations

import numpy as np
import pytest

from bench.harness.analysis import Timeline, Utterance, summary, turn_figures
from bench.harness.procstat import parse_stat
from bench.harness.pyspy_raw import inclusive, parse, self_time, share
from bench.harness.stage_figures import SEND_CALL, stage_deltas
from bench.harness.stages import OnsetDetector


def test_an_onset_is_the_first_loud_sample_after_enough_quiet_even_across_blocks() -> None:
    d = OnsetDetector(1000, threshold=0.1, quiet_ms=50)  # 50 samples of quiet needed
    x = np.zeros(100)
    x[90] = 0.5
    assert d.feed(x) == 90  # the stream starts quiet
    y = np.zeros(40)
    y[10] = 0.5  # only 9 + 10 quiet samples since the last loud one: the same sound goes on
    assert d.feed(y) is None
    z = np.zeros(100)
    z[70] = -0.2  # 29 + 70 = 99 quiet samples before it
    assert d.feed(z) == 70
    w = np.zeros(100)
    w[[5, 80]] = 0.5  # the first after 29 + 5 (not enough), the second after 74 quiet samples
    assert d.feed(w) == 80


def speaker(segments: list[tuple[float, float]], t0: float = 100.0, seconds: float = 30.0) -> Timeline:
    x = np.zeros(int(seconds * 1000), np.float32)
    for a, b in segments:
        x[int((a - t0) * 1000) : int((b - t0) * 1000)] = 0.5
    return Timeline(x, t0, 0.001)


def test_turn_figures_measure_each_path_from_the_talker_the_server_and_the_speaker() -> None:
    utterances = [Utterance(0, 101.0, 102.0), Utterance(1, 106.0, 107.5)]
    marks = [
        {"t": 101.030, "ev": "onset"}, {"t": 102.5, "ev": "response", "response_id": "r1"},
        {"t": 102.501, "ev": "first_delta", "response_id": "r1"},
        {"t": 106.025, "ev": "onset"}, {"t": 106.025, "ev": "cancel", "response_id": "r1"},
        {"t": 108.0, "ev": "response", "response_id": "r2"}, {"t": 108.001, "ev": "first_delta", "response_id": "r2"},
    ]
    # the first answer sounds from 102.600 and is cut 80 ms after the barge-in onset
    figures = turn_figures(utterances, frozenset({1}), marks, speaker([(102.600, 106.080), (108.090, 113.0)]))
    first, second = figures
    assert first.mic_to_server == pytest.approx(0.030) and not first.barge
    assert first.end_to_answer == pytest.approx(0.600, abs=0.002)
    assert first.delta_to_speaker == pytest.approx(0.099, abs=0.002)
    assert first.barge_to_silent is None
    assert second.barge and second.mic_to_server == pytest.approx(0.025)
    assert second.barge_to_silent == pytest.approx(0.080, abs=0.002)
    assert second.end_to_answer == pytest.approx(0.590, abs=0.002)


def test_a_barge_in_over_a_silent_speaker_is_reported_not_measured() -> None:
    utterances = [Utterance(0, 101.0, 102.0)]
    (f,) = turn_figures(utterances, frozenset({0}), [{"t": 101.02, "ev": "onset"}], speaker([]))
    assert f.barge_to_silent is None and f.end_to_answer is None
    assert "the speaker was silent at the onset (nothing to interrupt)" in f.notes
    assert "no answer started" in f.notes


def test_stage_deltas_chain_the_marks_of_each_question_and_skip_a_question_a_stage_missed() -> None:
    utterances = [Utterance(0, 10.0, 11.0), Utterance(1, 20.0, 21.0)]
    stages = [
        {"stage": "callback", "t": 10.030, "adc": 10.0005}, {"stage": "canceller", "t": 10.052},
        {"stage": "frame", "t": 10.0521}, {"stage": "send", "t": 10.0531, "returned": 10.0535},
        {"stage": "callback", "t": 20.020, "adc": 20.0002},  # nothing further for the 2nd question
    ]
    server = [{"ev": "onset", "t": 10.0536}, {"ev": "onset", "t": 20.2}]
    d = stage_deltas(utterances, stages, server)
    assert d["acoustic onset → ADC time stamp"] == pytest.approx([0.0005])
    assert d["ADC → input callback"] == pytest.approx([0.0295])
    assert d["callback → canceller out"] == pytest.approx([0.022])
    assert d["canceller → 20 ms frame"] == pytest.approx([0.0001])
    assert d["frame → append handed to the transport"] == pytest.approx([0.001])
    assert d["transport → server onset"] == pytest.approx([0.0005])
    assert d["total"] == pytest.approx([0.0536])
    assert d[SEND_CALL] == pytest.approx([0.0004])


def test_summary_ignores_unknown_values() -> None:
    s = summary([0.01, None, 0.03, 0.02])
    assert s["n"] == 3 and s["p50"] == pytest.approx(0.02) and s["max"] == pytest.approx(0.03)
    assert summary([None])["p50"] is None


def test_proc_stat_cpu_counts_fields_after_the_command_name_even_with_spaces_and_parentheses() -> None:
    text = "4242 (odd (name) x) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 9 0 100 0 0"
    import os

    assert parse_stat(text) == pytest.approx(400 / os.sysconf("SC_CLK_TCK"))


RAW = """\
thread (101): MainThread;run (a.py:1);Link._write (link.py:96);RealtimeSocket.send (socket.py:138) 3
thread (101): MainThread;run (a.py:1);Link._write (link.py:97) 1
thread (101): MainThread;run (a.py:1);LevelPlot.paintEvent (level_plot.py:50) 2
thread (202);callback_ptr (sounddevice.py:879);Capture._callback (capture.py:187) 4
thread (303) 7
"""


def test_py_spy_raw_lines_become_threads_with_roles_and_per_function_counts() -> None:
    threads = parse(RAW)
    main, mic, native = threads[101], threads[202], threads[303]
    assert (main.name, main.samples, main.role) == ("MainThread", 6, "main (Qt + asyncio loop)")
    assert mic.role == "PortAudio input callback" and native.role == "native (no Python frames)"
    assert native.samples == 7
    assert inclusive(main)["Link._write (link.py)"] == 4  # line numbers merged into the function
    assert self_time(main)["RealtimeSocket.send (socket.py)"] == 3
    assert share(main, r"^Link\._write ") == 4 and share(main, r"\.paintEvent ") == 2


def test_the_answer_loses_its_pauses_but_keeps_its_sound() -> None:
    from bench.harness.script import without_pauses

    x = np.zeros(24000, np.float32)
    x[:2400] = 0.5  # 100 ms of sound, 400 ms of silence, 100 ms of sound
    x[12000:14400] = -0.5
    y = without_pauses(x)
    assert np.count_nonzero(y) == 4800  # every loud sample kept, in order
    assert len(y) == 4800 + 240 + 240  # each quiet stretch cut to 10 ms (the tail too)


async def test_the_socket_stage_dates_appends_handed_over_by_send_and_by_send_nowait(monkeypatch) -> None:
    """The microphone's appends leave by ``send_nowait`` when the socket's buffer is empty (#23):
    the bench's socket stage must see those too, or the stage table comes out empty."""
    import base64
    import json

    from websockets.asyncio.server import serve

    from bench.harness.stages import StageRecorder, watch_socket
    from desktop_app.transport.socket import RealtimeSocket

    monkeypatch.setattr(RealtimeSocket, "send", RealtimeSocket.send)  # restored after the test
    monkeypatch.setattr(RealtimeSocket, "send_nowait", RealtimeSocket.send_nowait)
    recorder = StageRecorder()
    watch_socket(recorder)

    def append(level: float, n: int = 480) -> str:
        pcm = (np.full(n, level) * 32767).astype("<i2").tobytes()
        return json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()})

    async def drain(ws) -> None:
        async for _ in ws:
            pass

    async with serve(drain, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        sock = await RealtimeSocket.open(f"ws://127.0.0.1:{port}")
        assert sock.send_nowait(append(0.0))
        assert sock.send_nowait(append(0.5))  # onset 1: by send_nowait
        assert sock.send_nowait(append(0.0, 9600))  # 400 ms of quiet
        await sock.send(append(0.5))  # onset 2: by send
        await sock.send('{"type":"response.create"}')  # not an append: ignored
        await sock.close()
    marks = [m for m in recorder.marks if m["stage"] == "send"]
    assert len(marks) == 2
    assert all(m["t"] <= m["returned"] for m in marks)
