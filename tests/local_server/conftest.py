"""Shared servers for the local-server tests: each runs on its own thread, so every test (on its own
fresh loop) can connect to it, and the speech models load once for the whole run."""

from __future__ import annotations

import pytest

from desktop_app.local_server import LocalServer
from desktop_app.local_server.speech import shutdown_workers

#: Protocol tests: unpaced audio, the fast eSpeak voice, no speech recognition (transcripts unused).
FAST = dict(pace=0, tts="espeak", asr="none", text_word_ms=0, seed=1)


@pytest.fixture(scope="module")
def server():
    """A fast server (unpaced, eSpeak, no ASR) shared by one test module."""
    with LocalServer(port=0, **FAST) as srv:
        yield srv


@pytest.fixture(scope="module")
def paced_server():
    """Audio paced in real time, eSpeak voice, no ASR: for barge-in and pacing tests."""
    with LocalServer(port=0, pace=1.0, tts="espeak", asr="none", seed=2) as srv:
        yield srv


@pytest.fixture(scope="session", autouse=True)
def _speech_workers():
    """The speech worker processes are shared by every server in the run; end them at its end."""
    yield
    shutdown_workers(wait=True)
