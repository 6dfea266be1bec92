"""GUI tests: every window is shut down inside its test; Qt wrappers are collected right after, so a
dangling one fails the test that made it instead of the interpreter's exit.

The Qt binding's None-refcount defect (see ``desktop_app.ui.qt_workarounds``) is guarded for the
whole session before any window exists: the tests make many thousands of void calls."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(scope="session", autouse=True)
def none_refcount_guard(qapp):
    from desktop_app.ui.qt_workarounds import guard_none_refcount

    guard_none_refcount()


@pytest.fixture(autouse=True)
def collect_qt_garbage(qapp):
    yield
    gc.collect()
