"""Test harness shared by the whole suite.

* Qt runs offscreen; pytest-qt provides the one session-wide QApplication (``qapp``).
* ``async def`` tests run on a fresh event loop each: a ``qasync.QEventLoop`` when the test asks
  for the ``qloop`` fixture, a plain asyncio loop otherwise. Errors raised in background tasks (the
  loop's exception handler) fail the test at its end, as qasync's own fixture does.
* Every test has a timeout (pyproject ``timeout``), so a stuck wait fails instead of hanging CI.
* ``make test`` runs two pytest-xdist workers (``-n 2 --dist loadgroup``): most of the suite's time is
  real time (speech played at its own pace, answers waited for), not CPU. The tests on real audio
  devices form one group, ``room``: one worker runs them one after another in one PipeWire session
  (its largest unit, so it starts first), while the other worker takes the rest.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Nothing a test runs may read or write the developer's real settings, logs or keyring: Qt, PulseAudio
# clients and Parley's own paths (desktop_app.paths honours PARLEY_HOME) all go to a private folder.
_TEST_HOME = tempfile.mkdtemp(prefix="parley-test-home-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_TEST_HOME, "config")
os.environ["PARLEY_HOME"] = os.path.join(_TEST_HOME, "parley")

pytest_plugins = ["tests.plugins.pipewire"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("audio") is not None:
            item.add_marker(pytest.mark.xdist_group("room"))


class LoopErrors:
    """Collects exceptions that reached the loop's exception handler during one test."""

    def __init__(self) -> None:
        self.contexts: list[dict] = []

    def handler(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        self.contexts.append(context)
        loop.default_exception_handler(context)


@pytest.fixture
def qloop(qapp):
    """A fresh qasync loop on the session's QApplication, closed after the test."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    try:
        loop.close()
    finally:
        asyncio.set_event_loop(None)


def _run_async_test(pyfuncitem: pytest.Function) -> None:
    testfunction = pyfuncitem.obj
    argnames = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in argnames}
    loop: asyncio.AbstractEventLoop | None = pyfuncitem.funcargs.get("qloop")
    own_loop = loop is None
    if own_loop:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    errors = LoopErrors()
    loop.set_exception_handler(errors.handler)
    try:
        # pytest-timeout's SIGALRM cannot stop a test on a qasync loop (the exception lands inside a
        # loop callback, which qasync catches), so the test's own timeout is enforced here too: a
        # stuck await fails the test, its cleanup runs, and the suite goes on.
        loop.run_until_complete(asyncio.wait_for(testfunction(**kwargs), _async_timeout(pyfuncitem)))
        # Let cancelled/finished tasks report before judging.
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        if own_loop:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            asyncio.set_event_loop(None)
    real = [c for c in errors.contexts if not isinstance(c.get("exception"), asyncio.CancelledError)]
    if real:
        first = real[0]
        raise AssertionError(f"background task failed: {first.get('message')}") from first.get("exception")


def _async_timeout(item: pytest.Function) -> float:
    """The test's pytest-timeout (marker or ini), less a margin so this one fires first."""
    marker = item.get_closest_marker("timeout")
    limit = float(marker.args[0]) if marker is not None and marker.args else float(item.config.getini("timeout") or 120)
    return max(1.0, limit - 5.0)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        _run_async_test(pyfuncitem)
        return True
    return None


_exit_status = 0


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config):
    """Never let a hang at interpreter exit eat CI's 90 minutes.

    Non-daemon threads (executor workers, a stuck audio stream) are joined by the interpreter at exit;
    normally that takes moments. A daemon watchdog started here gives it 60 s, then prints every
    thread still alive with its stack and exits with pytest's own status. If exit is prompt, the
    watchdog simply dies with the process.
    """
    import sys
    import threading
    import time
    import traceback

    def watchdog() -> None:
        time.sleep(60)
        frames = sys._current_frames()
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and thread.is_alive():
                print(f"\n!! thread {thread.name!r} still alive 60 s after the tests:", file=sys.stderr)
                traceback.print_stack(frames.get(thread.ident), file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(_exit_status or 1)

    threading.Thread(target=watchdog, name="exit-watchdog", daemon=True).start()
