"""A GPT-Live session left running stops at the spending limit: the observatory prices the scripted
``session.usage.updated`` stream per second, the governor stops, and the controller's spending stop closes the
session (silence is billed too, so muting is not enough) — one opened meanwhile is closed again — until the user
goes on, when a new session opens with the conversation so far. Against the scripted Live peer."""

from __future__ import annotations

import asyncio
from typing import Any

from desktop_app.controller.controller import Controller
from desktop_app.controller.dialects import dialect_for
from desktop_app.controller.spend_hold import CLOSED_WHILE_STOPPED
from desktop_app.controller.states import Conn
from desktop_app.observe.observatory import Observatory
from desktop_app.observe.spend import Level, SpendLimits
from desktop_app.realtime.session_config import SessionConfig
from tests.controller.peer import FakeAudio
from tests.live import frames as F
from tests.live.peer import LivePeer
from tests.live.test_context_across_sessions import seeded, session_opens, turn, wait_for

CONFIG = SessionConfig(model="gpt-live-1")


async def test_a_live_session_is_closed_at_the_spending_limit_and_reopened_with_its_context_after_ok():
    loop = asyncio.get_running_loop()
    obs = Observatory(model="gpt-live-1", limits=SpendLimits(session_usd=0.01, day_usd=None),  # 12 seconds
                      schedule=loop.call_soon)
    async with LivePeer() as peer:
        async def target() -> tuple[str, dict[str, str]]:
            return peer.url, {}

        audio = FakeAudio()
        ctl = Controller(target=target, audio=audio, config=CONFIG, make_core=dialect_for(CONFIG.model),
                         frame_observer=obs.frame_observer, metrics=obs, max_retries=3)

        def spend_changed(status: Any) -> None:  # what the window does (ui/observe_docks.py)
            ctl.spending.set(status.level is Level.STOP, status.sentence)

        obs.on_spend = spend_changed
        await ctl.connect()
        await session_opens(peer, ctl, 1)
        await turn(peer, audio, ctl, "My favourite colour is green.", "Noted.")
        await peer.send(F.ev("session.usage.updated", usage={"seconds": 6}))
        await asyncio.sleep(0.05)
        assert ctl.view.connection is Conn.CONNECTED
        await peer.send(F.ev("session.usage.updated", usage={"seconds": 13}))  # left running: past $0.01
        await peer.next("session.close")
        await wait_for(lambda: ctl.view.connection is Conn.CLOSED)
        assert ctl.spending.active and ctl.view.mic.value == "muted"
        assert ctl.view.notice is not None and CLOSED_WHILE_STOPPED in ctl.view.notice.sentence
        assert ctl.usage().live_seconds == 13 and obs.spend.stopped
        # Connecting again while the stop holds would bill every second: that session is closed at once.
        await ctl.connect()
        await peer.connected(2)
        second = await peer.next("session.start")
        await peer.send(F.started(client_event_id=second["event_id"]))
        await peer.next("session.close")
        await wait_for(lambda: ctl.view.connection is Conn.CLOSED)
        # The user's OK: a new session, with what was said before.
        obs.spend.acknowledge()
        third = await session_opens(peer, ctl, 3)
        assert seeded(third) == [("user", "My favourite colour is green."), ("assistant", "Noted.")]
        assert not ctl.spending.active and ctl.view.mic.value != "muted"
        await ctl.close()


async def test_a_realtime_stop_keeps_the_session_open():
    """The Realtime stop stays as it was: the microphone is off, the session stays (nothing is billed while
    nobody talks)."""
    from tests.controller.peer import ScriptedPeer
    from tests.realtime import frames as R

    async with ScriptedPeer() as peer:
        async def target() -> tuple[str, dict[str, str]]:
            return peer.url, {}

        ctl = Controller(target=target, audio=FakeAudio(), config=SessionConfig(), max_retries=0)
        await ctl.connect()
        await peer.connected()
        await peer.send(R.session_created())
        await wait_for(lambda: ctl.view.connection is Conn.CONNECTED)
        ctl.spending.set(True, "limit reached")
        await asyncio.sleep(0.1)
        assert ctl.view.connection is Conn.CONNECTED and ctl.view.notice is not None
        assert CLOSED_WHILE_STOPPED not in ctl.view.notice.sentence
        await ctl.close()
