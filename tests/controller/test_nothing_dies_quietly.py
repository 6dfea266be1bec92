"""Issue #15 item 4: a background task that dies is logged, told to the user, and becomes a state
change — a dead reader is a closed connection that reconnects; loop callbacks that raise reach the
banner through the loop's exception handler."""

from __future__ import annotations

import asyncio
import logging

from desktop_app.controller.states import Conn
from desktop_app.tasks import INTERNAL_ERROR, install_loop_handler, running, spawn
from tests.controller.peer import EchoAwareAudio, ScriptedPeer
from tests.controller.test_controller import assistant_answer, start, wait_for
from tests.realtime import frames as F


class BrokenCanceller(EchoAwareAudio):
    """A port whose echo check raises: the event handler that asks it crashes the link's reader."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False

    def near_end_speech(self, window_ms: float = 300.0):
        if self.broken:
            self.broken = False
            raise RuntimeError("the canceller fell over")
        return None


async def test_a_handler_that_raises_kills_the_link_which_reconnects_and_says_so(caplog):
    caplog.set_level(logging.INFO)
    async with ScriptedPeer() as peer:
        audio = BrokenCanceller()
        s = await start(peer, audio=audio)
        ctl = s.ctl
        ctl.connection.backoff = lambda tries: iter([0.01] * tries)
        await assistant_answer(peer, "Once upon a time", 1500)
        await wait_for(lambda: audio.is_playing)
        audio.broken = True
        await peer.send(F.speech_started("item_U9"))
        # The dead link is a dropped connection: never "Connected" over it, and a new session follows.
        await wait_for(lambda: ctl.view.connection is Conn.RECONNECTING)
        assert ctl.view.notice is not None and INTERNAL_ERROR in ctl.view.notice.sentence
        await peer.connected(2)
        await peer.send(F.session_created())
        await wait_for(lambda: ctl.view.connection is Conn.CONNECTED)
        assert any("task link.reader crashed" in r.getMessage() for r in caplog.records)
        assert any("the canceller fell over" in (r.exc_text or "") for r in caplog.records if r.exc_info)
        await ctl.close()
    assert not running("link.")  # both tasks of both links ended


async def test_a_crash_is_handed_to_its_owner_and_a_cancel_is_not_a_crash():
    crashes: list[BaseException] = []

    async def boom() -> None:
        raise ValueError("boom")

    async def forever() -> None:
        await asyncio.Event().wait()

    spawn(boom(), name="t.boom", on_crash=crashes.append)
    quiet = spawn(forever(), name="t.forever", on_crash=crashes.append)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    quiet.cancel()
    await asyncio.sleep(0)
    assert [str(c) for c in crashes] == ["boom"]
    assert not running("t.")


async def test_the_loop_handler_tells_the_user_about_a_callback_that_raised():
    told: list[str] = []
    loop = asyncio.get_running_loop()
    before = loop.get_exception_handler()
    install_loop_handler(loop, told.append)
    try:
        def callback() -> None:
            raise KeyError("no such item")

        loop.call_soon(callback)
        await asyncio.sleep(0.01)
        assert told == [INTERNAL_ERROR]
    finally:
        loop.set_exception_handler(before)
