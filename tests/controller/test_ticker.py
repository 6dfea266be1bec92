"""Idle means idle (issue #23): the controller's tick runs at 20 Hz while something is going on and
sleeps (1 Hz, for the planned refresh only) once a conversation has settled; anything the controller
publishes — a server event, an intent, a local onset — wakes it."""

from __future__ import annotations

from desktop_app.controller.states import Turn
from desktop_app.controller.ticker import IDLE_TICK_S, TICK_S, Ticker
from tests.controller.peer import ScriptedPeer
from tests.controller.test_controller import A1, R1, U1, assistant_answer, start, wait_for
from tests.realtime import frames as F


async def test_the_clock_ticks_fast_while_busy_slowly_once_settled_and_stops_without_a_connection():
    answers: list[bool | None] = [False, False, True]
    ticker = Ticker(lambda: answers.pop(0) if answers else True)
    assert not ticker.running
    ticker.wake()  # a stopped clock stays stopped: nothing to watch before a session starts
    assert not ticker.running
    ticker.start()
    assert ticker.running and not ticker.settled
    await wait_for(lambda: ticker.ticks == 3)
    assert ticker.settled  # the third tick found nothing going on: the next is IDLE_TICK_S away
    ticker.wake()  # something happened
    assert not ticker.settled
    await wait_for(lambda: ticker.ticks == 4)
    ticker.stop()
    assert not ticker.running
    answers[:] = [None]
    ticker.start()
    await wait_for(lambda: ticker.ticks == 5)
    assert not ticker.running  # no connection: the clock stopped itself
    assert TICK_S < IDLE_TICK_S


async def test_a_settled_conversation_sleeps_and_a_turn_wakes_it():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        ctl, audio = s.ctl, s.audio
        await wait_for(lambda: ctl.ticker.settled)  # connected, listening, nothing playing or pending
        ticks = ctl.ticker.ticks
        audio.speak(400)  # the microphone streams: 20 frames go out while the clock sleeps
        for _ in range(20):
            await peer.next("input_audio_buffer.append", skip=())
        assert ctl.ticker.settled and ctl.ticker.ticks - ticks <= 2  # not one tick per frame or per 50 ms
        await peer.send(F.speech_started(U1))
        await wait_for(lambda: ctl.view.turn is Turn.USER_SPEAKING)
        assert not ctl.ticker.settled  # the server's event woke it
        await peer.send(F.speech_stopped(U1), F.committed(U1), F.item_added(F.user_audio_item(U1)),
                        F.item_done(F.user_audio_item(U1)))
        await assistant_answer(peer, "Five.", 400)
        await wait_for(lambda: ctl.view.turn is Turn.ASSISTANT_SPEAKING)
        assert not ctl.ticker.settled  # playing: the tick watches for its end
        done = F.assistant_item(A1, "completed", transcript="Five.")
        await peer.send(F.audio_done(R1, A1), F.item_done(done), F.output_item_done(R1, done),
                        F.response_done(R1, output=[done]))
        await wait_for(lambda: not ctl.connection.core.response_pending)  # the answer is done at the server…
        ticks = ctl.ticker.ticks
        await wait_for(lambda: ctl.ticker.ticks >= ticks + 3)
        assert not ctl.ticker.settled and ctl.view.turn is Turn.ASSISTANT_SPEAKING  # …but still sounding here
        audio.finish_playing()
        await wait_for(lambda: ctl.view.turn is Turn.LISTENING and not ctl.view.assistant_speaking)
        await wait_for(lambda: ctl.ticker.settled)  # the answer has played: asleep again
        ctl.interrupt()  # an intent wakes it too
        assert not ctl.ticker.settled
        await ctl.close()
        assert not ctl.ticker.running
