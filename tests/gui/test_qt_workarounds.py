"""The None-refcount guard: a binding that loses a reference per void call cannot abort the app."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from desktop_app.ui.qt_workarounds import guard_none_refcount, void_call_leak


class Emitter(QObject):
    fired = Signal(bool)


def test_after_the_guard_a_long_session_of_void_calls_and_emits_leaves_the_singletons_alive(qapp):
    leaky = guard_none_refcount()
    probe, emitter = QObject(), Emitter()
    emitter.fired.connect(lambda on: None)
    for _ in range(20_000):  # far more than None's or True's natural reference count on 3.11
        probe.setObjectName("x")
        emitter.fired.emit(False)
    assert sys.getrefcount(None) > 20_000 and sys.getrefcount(True) > 20_000
    assert leaky == (sys.version_info < (3, 12) and void_call_leak() > 0)
