"""``parley --headless`` installs the loop's exception handler, as the window does (issue #15 item 4):
a loop callback that raises is logged with its traceback and told in one line on stderr, and the
conversation goes on to its answer."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from desktop_app.app import build_parser
from desktop_app.controller.controller import Controller
from desktop_app.headless.run import EXIT_OK, _run
from desktop_app.local_server.server import LocalServer
from desktop_app.tasks import INTERNAL_ERROR
from tests.helpers.speech import speech_wav

pytestmark = pytest.mark.slow


async def test_a_callback_that_raises_is_logged_told_in_one_line_and_the_run_goes_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_callback() -> None:
        raise ZeroDivisionError("a bug in a loop callback")

    connect = Controller.connect

    async def connect_and_break(self: Controller) -> None:
        asyncio.get_running_loop().call_soon(broken_callback)
        await connect(self)

    monkeypatch.setattr(Controller, "connect", connect_and_break)
    question = speech_wav("What is two plus three?")
    async with LocalServer(port=0) as srv:
        args = build_parser().parse_args(["--headless", "--url", srv.url, "--input", str(question), "--fast",
                                          "--transcript", str(tmp_path / "t.json")])
        with caplog.at_level(logging.ERROR):
            code = await _run(args)
    assert code == EXIT_OK
    assert capsys.readouterr().err.splitlines() == [f"parley: {INTERNAL_ERROR}"]
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ZeroDivisionError]
    assert logged and "a bug in a loop callback" in logged[0].getMessage() + str(logged[0].exc_info[1])
    turns = json.loads((tmp_path / "t.json").read_text())["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant"] and "five" in turns[1]["text"].lower()
