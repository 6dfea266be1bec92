"""The controller's state machines, walked as tables."""

from __future__ import annotations

import pytest

from desktop_app.controller.states import (
    CONN_TABLE, TURN_TABLE, Conn, ConnEvent, Mic, MicMachine, Turn, TurnEvent, step,
)

C, CE = Conn, ConnEvent

CONNECTION_PATHS = [
    # (events, final state)
    ([CE.CONNECT, CE.OPENED], C.CONNECTED),
    ([CE.CONNECT, CE.FATAL], C.FAILED),                                   # bad key: no retry
    ([CE.CONNECT, CE.OPENED, CE.LOST, CE.RETRY, CE.OPENED], C.CONNECTED),  # drop, reconnect
    ([CE.CONNECT, CE.OPENED, CE.LOST, CE.RETRY, CE.LOST, CE.RETRY, CE.FATAL], C.FAILED),
    ([CE.CONNECT, CE.OPENED, CE.RECYCLE, CE.OPENED], C.CONNECTED),        # 60-minute refresh
    ([CE.CONNECT, CE.OPENED, CE.CLOSE], C.CLOSED),
    ([CE.CONNECT, CE.OPENED, CE.CLOSE, CE.CONNECT, CE.OPENED], C.CONNECTED),
    ([CE.CONNECT, CE.FATAL, CE.CONNECT], C.CONNECTING),                    # retry by hand after failure
]


@pytest.mark.parametrize("events,final", CONNECTION_PATHS)
def test_connection_paths_end_in_the_expected_state(events, final):
    state = C.DISCONNECTED
    for event in events:
        state, handled = step(CONN_TABLE, state, event)
        assert handled, f"{event} not handled in {state}"
    assert state is final


@pytest.mark.parametrize("state,event", [
    (C.DISCONNECTED, CE.OPENED), (C.FAILED, CE.LOST), (C.CLOSED, CE.RETRY), (C.CONNECTED, CE.CONNECT),
])
def test_connection_events_without_an_entry_change_nothing(state, event):
    assert step(CONN_TABLE, state, event) == (state, False)


T, TE = Turn, TurnEvent

TURN_PATHS = [
    ("hands-free voice turn", T.IDLE,
     [TE.READY_HANDS_FREE, TE.SPEECH_STARTED, TE.SPEECH_STOPPED, TE.COMMITTED, TE.RESPONSE_STARTED,
      TE.AUDIO_STARTED, TE.RESPONSE_FINISHED_HF],
     [T.LISTENING, T.USER_SPEAKING, T.COMMITTING, T.WAITING, T.WAITING, T.ASSISTANT_SPEAKING, T.LISTENING]),
    ("push-to-talk turn", T.IDLE,
     [TE.READY_PTT, TE.SPEECH_STARTED, TE.SPEECH_STOPPED, TE.COMMITTED, TE.AUDIO_STARTED,
      TE.RESPONSE_FINISHED_PTT],
     [T.IDLE, T.USER_SPEAKING, T.COMMITTING, T.WAITING, T.ASSISTANT_SPEAKING, T.IDLE]),
    ("tool call turn", T.WAITING,
     [TE.TOOL_CALLED, TE.TOOL_DONE, TE.RESPONSE_STARTED, TE.AUDIO_STARTED, TE.RESPONSE_FINISHED_HF],
     [T.RUNNING_TOOL, T.WAITING, T.WAITING, T.ASSISTANT_SPEAKING, T.LISTENING]),
    ("barge-in while the assistant speaks", T.ASSISTANT_SPEAKING,
     [TE.SPEECH_STARTED, TE.SPEECH_STOPPED, TE.COMMITTED],
     [T.USER_SPEAKING, T.COMMITTING, T.WAITING]),
    ("barge-in while thinking", T.WAITING, [TE.SPEECH_STARTED], [T.USER_SPEAKING]),
    ("idle timeout commits silence", T.LISTENING, [TE.COMMITTED, TE.RESPONSE_STARTED], [T.WAITING, T.WAITING]),
    ("disconnect from anywhere", T.RUNNING_TOOL, [TE.DISCONNECTED], [T.IDLE]),
    ("rejected PTT commit returns to idle", T.COMMITTING, [TE.RESPONSE_FINISHED_PTT], [T.IDLE]),
]


@pytest.mark.parametrize("name,start,events,states", TURN_PATHS, ids=[p[0] for p in TURN_PATHS])
def test_turn_paths_pass_through_the_expected_states(name, start, events, states):
    state, seen = start, []
    for event in events:
        state, handled = step(TURN_TABLE, state, event)
        assert handled, f"{event} not handled"
        seen.append(state)
    assert seen == states


def test_mode_switch_does_not_drop_an_answer_in_flight():
    assert step(TURN_TABLE, T.ASSISTANT_SPEAKING, TE.READY_PTT) == (T.ASSISTANT_SPEAKING, False)
    assert step(TURN_TABLE, T.LISTENING, TE.READY_PTT) == (T.IDLE, True)


def test_late_speech_stopped_after_the_turn_moved_on_is_ignored():
    assert step(TURN_TABLE, T.WAITING, TE.SPEECH_STOPPED) == (T.WAITING, False)


MIC_STEPS = [
    # (events, state, sending)
    ([], Mic.HANDS_FREE, True),
    (["push_to_talk"], Mic.PTT_RELEASED, False),
    (["push_to_talk", "press"], Mic.PTT_HELD, True),
    (["push_to_talk", "press", "release"], Mic.PTT_RELEASED, False),
    (["mute"], Mic.MUTED, False),
    (["mute", "unmute"], Mic.HANDS_FREE, True),
    (["push_to_talk", "mute", "press"], Mic.MUTED, False),          # muted: a press sends nothing
    (["push_to_talk", "mute", "unmute"], Mic.PTT_RELEASED, False),  # unmute returns to the mode
    (["push_to_talk", "press", "hands_free"], Mic.HANDS_FREE, True),
    (["push_to_talk", "press", "mute"], Mic.MUTED, False),
    (["press"], Mic.HANDS_FREE, True),                              # press means nothing hands-free
]


@pytest.mark.parametrize("events,state,sending", MIC_STEPS)
def test_microphone_machine(events, state, sending):
    mic = MicMachine()
    for event in events:
        mic = mic.transition(event)
    assert mic.state is state
    assert mic.sending is sending


def test_microphone_rejects_unknown_events():
    with pytest.raises(ValueError):
        MicMachine().transition("shout")
