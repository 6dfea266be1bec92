"""The None-refcount guard: a binding that loses a reference per void call cannot abort the app."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject

from desktop_app.ui.qt_workarounds import guard_none_refcount, void_call_leak


def test_after_the_guard_a_long_session_of_void_calls_leaves_none_alive(qapp):
    leaky = guard_none_refcount()
    probe = QObject()
    for _ in range(20_000):  # far more than None's natural reference count on 3.11
        probe.setObjectName("x")
    assert sys.getrefcount(None) > 20_000
    assert leaky == (sys.version_info < (3, 12) and void_call_leak() > 0)
