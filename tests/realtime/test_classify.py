"""Error and close classification (realtime-protocol.md §4.2/§4.3, architecture.md §5): what is
fatal, what is worth a retry, what means "open a fresh session", and what the user is told."""

from __future__ import annotations

import pytest

from desktop_app.realtime.classify import Severity, classify_close, classify_error
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.events import ConnectionClosed

from . import frames as f

F, N, R, C, OK = Severity.FATAL, Severity.NON_FATAL, Severity.RETRYABLE, Severity.RECYCLE, Severity.NORMAL

ERRORS = [
    ("invalid_api_key", "invalid_request_error", F),
    ("insufficient_quota", "insufficient_quota", F),
    ("invalid_model", "invalid_request_error", F),
    ("missing_model", "invalid_request_error", F),
    ("beta_api_shape_disabled", "invalid_request_error", F),
    ("session_expired", "invalid_request_error", C),
    ("rate_limit_exceeded", "rate_limit_error", R),
    ("conversation_already_has_active_response", "invalid_request_error", N),
    ("response_cancel_not_active", "invalid_request_error", N),
    ("input_audio_buffer_commit_empty", "invalid_request_error", N),
    ("cannot_update_voice", "invalid_request_error", N),
    ("item_truncate_invalid_item_id", "invalid_request_error", N),
    ("invalid_value", "invalid_request_error", N),
    ("unknown_parameter", "invalid_request_error", N),
    (None, "server_error", N),
    (None, None, N),
    ("brand_new_code", "invalid_request_error", N),
]


@pytest.mark.parametrize("code,error_type,severity", ERRORS, ids=[str(e[0]) + "/" + str(e[1]) for e in ERRORS])
def test_error_code_classification(code, error_type, severity):
    verdict = classify_error(code, error_type)
    assert verdict.severity is severity
    assert verdict.code == code
    assert verdict.fatal is (severity is F)
    # One sentence for the user.
    assert verdict.user_message.endswith(".") and verdict.user_message.count(". ") == 0


CLOSES = [
    (1000, "", OK),
    (1001, "", C),
    (1006, "connection lost without a close frame", R),
    (1011, "internal error", R),
    (1012, "", R),
    (3000, "invalid_request_error", F),
    (3000, "invalid_request_error.invalid_api_key", F),
    (4000, "invalid_request_error.beta_api_shape_disabled", F),
    (4000, "invalid_request_error.invalid_model", F),
    (4000, "invalid_request_error.missing_model", F),
    (4000, "", F),
    (4001, "something", F),
    (1008, "policy", F),
    (1009, "too big", F),
    (1001, "invalid_request_error.session_expired", C),
    (1011, "invalid_request_error.session_expired", C),
    (2999, "", R),
]


@pytest.mark.parametrize("code,reason,severity", CLOSES, ids=[f"{c[0]} {c[1]}" for c in CLOSES])
def test_close_classification(code, reason, severity):
    verdict = classify_close(code, reason)
    assert verdict.severity is severity
    assert verdict.user_message.endswith(".")
    assert verdict.ends_session


def test_close_reason_code_sharpens_the_message():
    assert "API key" in classify_close(3000, "invalid_request_error.invalid_api_key").user_message
    assert classify_close(4000, "invalid_request_error.invalid_model").code == "invalid_model"
    assert "model" in classify_close(4000, "invalid_request_error.invalid_model").user_message


def test_non_fatal_errors_do_not_end_the_session():
    assert not classify_error("invalid_value").ends_session
    assert classify_error("session_expired").ends_session


def test_receive_closed_emits_one_classified_close_and_is_idempotent():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.error("invalid_api_key", "Incorrect API key provided: sk-…"))
    conn.receive_closed(3000, "invalid_request_error.invalid_api_key")
    conn.receive_closed(1006, "")
    events = conn.events_received()
    closes = [e for e in events if isinstance(e, ConnectionClosed)]
    assert len(closes) == 1
    assert (conn.closed, conn.close_info.code, conn.close_info.classification.severity) == (True, 3000, F)
    assert events[-2].classification.severity is F  # the error event itself classifies as fatal too


def test_close_drops_active_and_queued_responses():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.response_created("resp_1"))
    conn.create_response()
    assert len(conn.queued_responses) == 1
    conn.receive_closed(1006, "")
    assert (conn.active_response_id, conn.queued_responses, conn.response_pending) == (None, (), False)
