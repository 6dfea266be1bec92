"""The SessionEditor and the ToolSlot on their own (issue #17): no controller, no socket. Each part gets
the real sans-I/O protocol core it drives (Realtime; GPT-Live where the dialect changes the rule) and the
frames it makes the core send are checked against the SDK's client union. The editor's debounce timer
runs on a fake loop the test fires by hand, so nothing waits on the clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from desktop_app.controller import session_editor
from desktop_app.controller.config import vad_view_from_config
from desktop_app.controller.session_editor import UPDATE_DEBOUNCE_S, SessionEditor
from desktop_app.controller.tool_slot import INTERRUPTED, ToolSlot
from desktop_app.controller.view import ViewModel
from desktop_app.controller.view_state import VadView, ViewState
from desktop_app.live.connection import LiveConnection
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.events import ErrorEvent
from desktop_app.realtime.session_config import ServerVad, SessionConfig
from desktop_app.tools import ToolBox, ToolRegistry
from tests.controller.test_tools_flow import Gate
from tests.live import test_connection as live
from tests.live.oracle import validate_live_client_event
from tests.realtime import frames as F
from tests.realtime.oracle import validate_client_event

# What the server's session.created says (tests/realtime/frames.py): the editor asks for the same to start.
ASKED = SessionConfig(voice="alloy", instructions="Your knowledge cutoff is 2023-10. You are a helpful assistant.",
                      turn_detection=ServerVad(silence_duration_ms=200))


class Timer:
    def __init__(self, delay: float, callback: Callable[[], None]) -> None:
        self.delay, self.callback, self.cancelled = delay, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """``call_later`` only records; :meth:`fire` runs the timers still standing, as the loop would."""

    def __init__(self) -> None:
        self.timers: list[Timer] = []

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        self.timers.append(Timer(delay, callback))
        return self.timers[-1]

    @property
    def standing(self) -> list[Timer]:
        return [t for t in self.timers if not t.cancelled]

    def fire(self) -> None:
        for timer in self.standing:
            timer.cancelled = True
            timer.callback()


class Sent:
    """The flush callback: takes the core's frames, each checked by the SDK oracle."""

    def __init__(self, core: Callable[[], Dialect | None], live: bool = False) -> None:
        self._core, self._live = core, live
        self.frames: list[dict[str, Any]] = []

    def __call__(self) -> None:
        core = self._core()
        for text in core.frames_to_send() if core is not None else ():
            frame = json.loads(text)
            (validate_live_client_event if self._live else validate_client_event)(frame)
            self.frames.append(frame)

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == type_]


@pytest.fixture
def loop(monkeypatch: pytest.MonkeyPatch) -> FakeLoop:
    fake = FakeLoop()
    monkeypatch.setattr(session_editor, "asyncio", SimpleNamespace(get_running_loop=lambda: fake))
    return fake


def editor_on_a_session(answering: list[bool] | None = None) -> tuple[SessionEditor, RealtimeConnection, Sent, ViewModel]:
    core = RealtimeConnection()
    view = ViewModel(ViewState(voice=ASKED.voice, instructions=ASKED.instructions or "",
                               vad=vad_view_from_config(ASKED, VadView())), lambda v: None)
    sent = Sent(lambda: core)
    editor = SessionEditor(ASKED, view, lambda: core, sent, answering=lambda: bool(answering and answering[0]))
    editor.opened(core)  # held until session.created, which matches it: nothing to send
    F.feed(core, F.session_created())
    editor.updated(core.session)
    sent()
    return editor, core, sent, view


# --- session editor: the debounce ---------------------------------------------------------------

DRAGS = [
    # slider moves in a burst → the one update's turn_detection (always whole)
    ([{"threshold": 0.6}], {"threshold": 0.6, "silence_duration_ms": 200}),
    ([{"threshold": 0.6}, {"threshold": 0.7}, {"threshold": 0.8}], {"threshold": 0.8, "silence_duration_ms": 200}),
    ([{"silence_duration_ms": 400}, {"threshold": 0.7}], {"threshold": 0.7, "silence_duration_ms": 400}),
]


@pytest.mark.parametrize("moves,sent_td", DRAGS)
def test_a_burst_of_slider_moves_shows_at_once_and_becomes_one_whole_update_after_it_settles(loop, moves, sent_td):
    editor, _core, sent, view = editor_on_a_session()
    for move in moves:
        editor.update_vad(send=True, **move)
        assert all(getattr(view.state.vad, k) == v for k, v in move.items())  # shown at once
    assert sent.of("session.update") == []  # nothing before the sliders settle
    assert [t.delay for t in loop.standing] == [UPDATE_DEBOUNCE_S]  # each move restarted the one timer
    assert len(loop.timers) == len(moves)
    loop.fire()
    [update] = sent.of("session.update")
    td = update["session"]["audio"]["input"]["turn_detection"]
    assert td == {"type": "server_vad", "threshold": sent_td["threshold"], "prefix_padding_ms": 300,
                  "silence_duration_ms": sent_td["silence_duration_ms"], "idle_timeout_ms": None,
                  "create_response": True, "interrupt_response": True}


def test_push_to_talk_slider_moves_show_but_send_nothing(loop):
    editor, _core, sent, view = editor_on_a_session()
    editor.update_vad(send=False, threshold=0.9)
    assert view.state.vad.threshold == 0.9 and loop.timers == [] and sent.frames == []


def test_an_update_due_after_the_session_closed_waits_for_the_next_connection(loop):
    editor, core, sent, _view = editor_on_a_session()
    editor.update_vad(send=True, threshold=0.6)
    core.receive_closed(1006)
    loop.fire()
    assert sent.frames == [] and editor.config.turn_detection.threshold == 0.6  # kept for the next session
    fresh = RealtimeConnection()
    editor.opened(fresh)
    F.feed(fresh, F.session_created())
    assert json.loads(fresh.frames_to_send()[0])["session"]["audio"]["input"]["turn_detection"]["threshold"] == 0.6


def test_an_invalid_value_is_refused_locally_with_the_view_rolled_back(loop):
    editor, _core, sent, view = editor_on_a_session()
    editor.update_vad(send=True, threshold=1.5)
    assert loop.timers == [] and sent.frames == []
    assert view.state.vad.threshold == 0.5 and editor.config.turn_detection.threshold == 0.5
    assert view.state.notice is not None and "between 0 and 1" in view.state.notice.sentence


def test_a_voice_change_after_the_voice_locked_is_refused_and_the_picker_restored(loop):
    editor, _core, sent, view = editor_on_a_session()
    editor.set_voice("cedar", locked=True)
    assert view.state.voice == "alloy" and loop.timers == [] and editor.config.voice == "alloy"
    assert "next conversation" in view.state.notice.sentence


def test_a_new_speed_asked_for_during_an_answer_goes_after_it(loop):
    answering = [True]
    editor, _core, sent, _view = editor_on_a_session(answering)
    editor.set_options(speed=1.2)
    loop.fire()
    assert sent.of("session.update") == []  # only the speed changed, and it waits for the answer
    answering[0] = False
    editor.answer_finished()
    [update] = sent.of("session.update")
    assert update["session"]["audio"]["output"]["speed"] == 1.2
    with pytest.raises(ValueError):
        editor.set_options(voice="cedar")  # not a live option


# --- session editor: the updates in flight and rollback ------------------------------------------

def sent_update(loop: FakeLoop, editor: SessionEditor, sent: Sent, **vad: Any) -> str:
    editor.update_vad(send=True, **vad)
    loop.fire()
    return str(sent.of("session.update")[-1]["event_id"])


@pytest.mark.parametrize("caused_by,ours", [("mine", True), ("event_someone_else", False), (None, False)])
def test_an_error_rolls_the_view_back_only_when_it_answers_one_of_our_updates(loop, caused_by, ours):
    editor, core, sent, view = editor_on_a_session()
    event_id = sent_update(loop, editor, sent, threshold=0.7, silence_duration_ms=650)
    assert view.state.vad.threshold == 0.7
    F.feed(core, F.error("invalid_value", "Invalid threshold.", caused_by=event_id if caused_by == "mine" else caused_by))
    [error] = [e for e in core.events_received() if isinstance(e, ErrorEvent)]
    assert editor.refused(error.error.event_id, error.error.message) is ours
    if ours:  # back to the server's effective session, with the reason
        assert (view.state.vad.threshold, view.state.vad.silence_duration_ms) == (0.5, 200)
        assert editor.config.turn_detection == core.session.turn_detection
        assert view.state.notice.sentence == "The server refused the new settings: Invalid threshold."
        assert editor.refused(event_id, "again") is False  # answered once
    else:
        assert view.state.vad.threshold == 0.7 and view.state.notice is None


def test_a_refused_voice_and_instructions_roll_back_too(loop):
    editor, core, sent, view = editor_on_a_session()
    editor.set_voice("cedar", locked=False)
    editor.set_instructions("Speak like a pirate.")
    loop.fire()
    [update] = sent.of("session.update")
    F.feed(core, F.error("invalid_value", "No.", caused_by=update["event_id"]))
    assert editor.refused(update["event_id"], "No.")
    assert (view.state.voice, view.state.instructions) == ("alloy", ASKED.instructions)
    assert (editor.config.voice, editor.config.instructions) == ("alloy", ASKED.instructions)


def test_the_user_is_told_what_the_server_changed_only_when_nothing_of_ours_is_on_its_way(loop):
    editor, core, sent, view = editor_on_a_session()
    sent_update(loop, editor, sent, silence_duration_ms=500)
    sent_update(loop, editor, sent, silence_duration_ms=600)
    # the server answers the first with a value of its own: the second is still on its way
    F.feed(core, F.session_updated(F.session_obj(audio=_audio(silence_duration_ms=300))))
    editor.updated(core.session)
    assert view.state.notice is None and view.state.vad.silence_duration_ms == 300
    F.feed(core, F.session_updated(F.session_obj(audio=_audio(silence_duration_ms=300))))
    editor.updated(core.session)
    assert view.state.notice.sentence == "The server changed your settings: silence is 300 ms, not 600 ms."
    assert editor.config.turn_detection.silence_duration_ms == 300  # the user's choice is not re-sent


def test_a_new_connection_forgets_the_updates_of_the_last(loop):
    editor, core, sent, view = editor_on_a_session()
    event_id = sent_update(loop, editor, sent, threshold=0.7)
    editor.opened(RealtimeConnection())
    assert editor.refused(event_id, "late") is False and view.state.vad.threshold == 0.7


def _audio(**td: Any) -> dict[str, Any]:
    audio = F.session_obj()["audio"]
    audio["input"]["turn_detection"] = {**audio["input"]["turn_detection"], **td}
    return audio


# --- tool slot ----------------------------------------------------------------------------------

CALL = "function_call"


def call(item_id: str, call_id: str, name: str, arguments: str = '{"q":"x"}') -> dict[str, Any]:
    return {"type": CALL, "id": item_id, "call_id": call_id, "name": name, "arguments": arguments, "status": "completed"}


class Slot:
    """A ToolSlot on a started Realtime core, with what it sent and told."""

    def __init__(self, box: ToolBox | None, core: Dialect | None = None, live: bool = False) -> None:
        if core is None:
            realtime = RealtimeConnection()
            F.feed(realtime, F.session_created())
            core = realtime
        self.core: Dialect = core
        self.sent = Sent(lambda: self.core, live)
        self.view = ViewModel(ViewState(), lambda v: None)
        self.crashes: list[BaseException] = []
        self.answered = 0
        self.open = asyncio.Event()
        self.open.set()
        self.carried: list[tuple[Dialect, list[dict[str, Any]]]] = []
        self.slot = ToolSlot(box, lambda: self.core, self.sent, self.view, self.crashes.append, lambda: None,
                             session_open=self.open, carry=lambda core, items: self.carried.append((core, items)))

    def on_answered(self) -> None:
        self.answered += 1

    def take(self, *items: dict[str, Any], cancelled: bool = False) -> bool:
        return self.slot.take({"output": list(items)}, self.on_answered, cancelled=cancelled)

    async def done(self) -> None:
        while self.slot.busy:
            await asyncio.wait({self.slot._task}, timeout=5)  # type: ignore[arg-type]
        self.sent()
        assert self.crashes == []

    def outputs(self) -> list[tuple[str, dict[str, Any]]]:
        return [(f["item"]["call_id"], json.loads(f["item"]["output"])) for f in self.sent.of("conversation.item.create")
                if f["item"]["type"] == "function_call_output"]


async def test_calls_run_at_once_and_are_answered_in_call_order_then_one_follow_up():
    slow, quick = Gate("slow", {"n": 1}), Gate("quick", {"n": 2})
    s = Slot(ToolBox(ToolRegistry([slow.spec, quick.spec])))
    assert s.take(call("item_F1", "call_1", "slow"), call("item_F2", "call_2", "quick"))
    await asyncio.wait_for(asyncio.gather(slow.started.wait(), quick.started.wait()), 5)  # both running
    assert {run.call_id for run in s.view.state.tools} == {"call_1", "call_2"}
    quick.release.set()
    slow.release.set()
    await s.done()
    assert s.outputs() == [("call_1", {"n": 1}), ("call_2", {"n": 2})]  # call order, not finishing order
    assert [f["type"] for f in s.sent.frames][-1] == "response.create" and len(s.sent.of("response.create")) == 1
    assert s.answered == 1 and s.view.state.tools == ()


async def test_a_response_is_taken_once_and_one_without_calls_not_at_all():
    gate = Gate("slow", {"n": 1})
    s = Slot(ToolBox(ToolRegistry([gate.spec])))
    assert s.take({"type": "message", "id": "item_A1", "role": "assistant", "content": []}) is False
    assert s.take(call("item_F1", "call_1", "slow"))
    assert s.take(call("item_F1", "call_1", "slow")) is False  # the same response.done again
    gate.release.set()
    await s.done()
    assert [c for c, _ in s.outputs()] == ["call_1"]


@pytest.mark.parametrize("how", ["barge_in", "cancelled_before_done"])
async def test_a_realtime_barge_in_answers_each_call_cancelled_and_asks_for_nothing(how):
    gate = Gate("slow", {"n": 1})
    s = Slot(ToolBox(ToolRegistry([gate.spec])))
    if how == "barge_in":
        s.take(call("item_F1", "call_1", "slow"))
        await asyncio.wait_for(gate.started.wait(), 5)
        s.slot.barge_in()
    else:  # the user interrupted the answer before its response.done arrived: nothing runs
        s.take(call("item_F1", "call_1", "slow"), cancelled=True)
    await s.done()
    [(call_id, output)] = s.outputs()
    assert call_id == "call_1" and output["error"]["type"] == "cancelled"
    assert s.sent.of("response.create") == [] and s.answered == 0
    assert gate.cancelled is (how == "barge_in") and not (how != "barge_in" and gate.started.is_set())


async def test_without_a_toolbox_each_call_is_answered_unknown_and_the_model_asked_to_explain():
    s = Slot(None)
    s.take(call("item_F1", "call_1", "get_weather"))
    await s.done()
    [(_, output)] = s.outputs()
    assert output["error"]["type"] == "unknown_tool" and len(s.sent.of("response.create")) == 1


async def test_closing_the_conversation_answers_a_running_call_as_ended():
    gate = Gate("slow", {"n": 1})
    s = Slot(ToolBox(ToolRegistry([gate.spec])))
    s.take(call("item_F1", "call_1", "slow"))
    await asyncio.wait_for(gate.started.wait(), 5)
    s.slot.stop()
    await s.done()
    [(_, output)] = s.outputs()
    assert output["error"]["type"] == "cancelled" and output["error"]["message"] == "The conversation ended."
    assert s.sent.of("response.create") == [] and s.answered == 0


async def test_results_that_outlive_their_session_go_into_the_next_one_with_their_calls():
    gate = Gate("slow", {"n": 1})
    s = Slot(ToolBox(ToolRegistry([gate.spec])))
    s.take(call("item_F1", "call_1", "slow"))
    await asyncio.wait_for(gate.started.wait(), 5)
    s.core.receive_closed(1006)  # the connection dropped while the tool ran
    s.open.clear()
    gate.release.set()
    await asyncio.sleep(0)
    assert s.slot.busy  # waiting for a session to answer in
    fresh = RealtimeConnection()
    F.feed(fresh, F.session_created())
    s.core = fresh
    s.open.set()
    await s.done()
    [(core, items)] = s.carried
    assert core is fresh and items == [{"type": CALL, "call_id": "call_1", "name": "slow", "arguments": '{"q":"x"}'}]
    assert s.outputs() == [("call_1", {"n": 1})] and len(s.sent.of("response.create")) == 1 and s.answered == 1


async def test_a_cancelled_batch_sends_nothing_into_another_session():
    gate = Gate("slow", {"n": 1})
    s = Slot(ToolBox(ToolRegistry([gate.spec])))
    s.take(call("item_F1", "call_1", "slow"))
    await asyncio.wait_for(gate.started.wait(), 5)
    s.core.receive_closed(1006)
    s.slot.cancel()  # the user cleared the conversation
    s.core = RealtimeConnection()
    F.feed(s.core, F.session_created())
    await s.done()
    assert s.outputs() == [] and s.carried == [] and s.answered == 0


async def test_a_gpt_live_barge_in_lets_the_delegated_call_finish_and_continues_the_backend():
    conn = live.started(live.replace_tools(live.CONFIG, live.TOOL))
    [done] = [e for e in live.delegated_call(conn, ("call_1", "get_time")) if type(e).__name__ == "ResponseDone"]
    gate = Gate("get_time", {"time": "12:00"})
    s = Slot(ToolBox(ToolRegistry([gate.spec])), core=conn, live=True)
    assert s.slot.take(done.response, s.on_answered)
    await asyncio.wait_for(gate.started.wait(), 5)
    s.slot.barge_in()  # the user talked over the voice: the backend's work is not cancelled by speech
    assert not gate.cancelled
    gate.release.set()
    await s.done()
    [output] = s.sent.of("response.item.create")
    assert output["item"]["call_id"] == "call_1" and json.loads(output["item"]["output"]) == {"time": "12:00"}
    assert INTERRUPTED not in output["item"]["output"]
    assert len(s.sent.of("response.create")) == 1 and s.answered == 1
