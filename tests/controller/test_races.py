"""Races between what the user does and what the server is doing, against a scripted peer.

Each test here once failed: a local action (clearing, interrupting) crossing a server event or a
connection change left the conversation in a state the user did not ask for.
"""

from __future__ import annotations

import asyncio

from desktop_app.controller.states import Conn
from tests.controller.peer import ScriptedPeer
from tests.controller.test_controller import start, wait_for
from tests.realtime import frames as F


def items_created_after(peer: ScriptedPeer, index: int) -> list[dict]:
    return [f for f in peer.all_frames[index:] if f["type"] == "conversation.item.create"]


async def said(peer: ScriptedPeer, ctl, item_id: str, text: str) -> None:
    item = F.user_text_item(item_id, text)
    await peer.send(F.item_added(item), F.item_done(item))
    await wait_for(lambda: any(e.text == text for e in ctl.view.transcript))


async def test_clearing_twice_before_the_old_session_closes_replays_nothing_old():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        await said(peer, s.ctl, "item_T1", "My password hint is banana.")
        s.ctl.clear_conversation()
        s.ctl.clear_conversation()  # a second click before the old session has closed
        await peer.connected(2)
        mark = len(peer.all_frames)
        await peer.send(F.session_created())
        await s.accept_update()
        await wait_for(lambda: s.ctl.view.connection is Conn.CONNECTED)
        await asyncio.sleep(0.3)
        assert items_created_after(peer, mark) == []  # the cleared conversation stays cleared
        assert s.ctl.view.transcript == ()
        await s.ctl.close()


async def test_clearing_while_an_expired_session_is_being_replaced_replays_nothing_old():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        await said(peer, s.ctl, "item_T1", "My password hint is banana.")
        await peer.send(F.error("session_expired", "Your session hit the maximum duration of 60 minutes."))
        await wait_for(lambda: s.ctl.connection.recycle_pending)
        s.ctl.clear_conversation()
        await peer.close(1001, "")  # the server ends the expired session
        await peer.connected(2)
        mark = len(peer.all_frames)
        await peer.send(F.session_created())
        await s.accept_update()
        await wait_for(lambda: s.ctl.view.connection is Conn.CONNECTED)
        await asyncio.sleep(0.3)
        assert items_created_after(peer, mark) == []
        assert s.ctl.view.transcript == ()
        await s.ctl.close()
