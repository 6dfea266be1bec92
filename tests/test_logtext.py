"""The one log summariser (``desktop_app.logtext``) that the core, the transport and the local server share."""

from __future__ import annotations

import json

from desktop_app import logtext
from desktop_app.log import register_secret
from desktop_app.logtext import summarize, summarize_frame
from desktop_app.realtime import logfmt
from desktop_app.transport import socket as transport_socket

KEY = "sk-summarised-never-0123456789"


def test_the_core_the_transport_and_the_server_use_the_same_functions():
    assert logfmt.summarize is summarize
    assert transport_socket.summarize_frame is summarize_frame
    from desktop_app.local_server import intake, outbox  # what the server logs received / sent

    assert intake.summarize_frame is summarize_frame and outbox.summarize_frame is summarize_frame


def test_log_elision_shortens_audio_payloads():  # was tests/local_server/test_session_unit.py (session.elide)
    frame = json.dumps({"type": "input_audio_buffer.append", "audio": "A" * 5000})
    assert "<5000 b64 chars>" in summarize_frame(frame) and len(summarize_frame(frame)) < 120


def test_audio_deltas_are_elided_but_transcript_deltas_are_text():
    audio = {"type": "response.output_audio.delta", "delta": "QUFB" * 100, "item_id": "item_1"}
    words = {"type": "response.output_audio_transcript.delta", "delta": "x" * 100}
    assert "<400 b64 chars>" in summarize(audio) and "item_1" in summarize(audio)
    assert "x" * 100 in summarize(words)
    live = {"type": "session.output_audio.delta", "delta": "QUFB" * 50}
    assert "<200 b64 chars>" in summarize_frame(json.dumps(live))


def test_nested_audio_is_elided_wherever_it_is():
    retrieved = {"type": "conversation.item.retrieved",
                 "item": {"id": "item_2", "content": [{"type": "input_audio", "audio": "B" * 3000}]}}
    line = summarize_frame(json.dumps(retrieved))
    assert "B" * 100 not in line and "<3000 b64 chars>" in line


def test_a_frame_that_is_not_json_has_its_base64_runs_elided():
    broken = '{"type": "response.output_audio.delta", "delta": "' + "C" * 500
    line = summarize_frame(broken)
    assert "C" * 100 not in line and "<500 b64 chars>" in line


def test_secrets_are_redacted_and_lines_capped():
    register_secret(KEY)
    frame = json.dumps({"type": "session.update", "note": KEY, "instructions": "w " * 1000})
    for line in (summarize_frame(frame), summarize(json.loads(frame)), summarize_frame("not json " + KEY)):
        assert KEY not in line
    assert len(summarize_frame(frame, 240)) == 240 and summarize_frame(frame, 240).endswith("…")
    assert len(summarize_frame(frame)) == logtext.MAX_LINE


def test_audio_frames_are_recognised_without_parsing_in_every_dialect():
    for kind in ("input_audio_buffer.append", "response.output_audio.delta", "session.input_audio.append",
                 "session.output_audio.delta", "response.audio.delta"):
        assert logtext.is_audio_frame(json.dumps({"type": kind, "audio": "QUFB" * 600}))
        assert logtext.is_audio_frame(json.dumps({"event_id": "event_0123456789abcdefghij", "type": kind}))
    for kind in ("response.output_audio_transcript.delta", "input_audio_buffer.commit", "session.update"):
        assert not logtext.is_audio_frame(json.dumps({"type": kind, "delta": "words"}))


def test_the_app_logs_no_record_per_frame_unless_asked(monkeypatch, tmp_path):
    import logging

    from desktop_app.log import FRAME_LOGGERS, FRAMES_ENV, setup_logging

    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        for asked, level in (("", logging.INFO), ("1", logging.DEBUG)):
            monkeypatch.setenv(FRAMES_ENV, asked)
            setup_logging("INFO", log_file=tmp_path / "parley.log")
            assert [logging.getLogger(name).level for name in FRAME_LOGGERS] == [level, level]
            assert logging.getLogger("parley.transport").isEnabledFor(logging.DEBUG)  # the rest: the file has it
    finally:
        for handler in list(root.handlers):
            if handler not in before[0]:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(before[1])
        for name in FRAME_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
