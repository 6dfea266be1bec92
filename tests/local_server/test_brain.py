"""The demo assistant's deterministic brain: intents, instructions and tool calls, as a table."""

from __future__ import annotations

import json

import pytest

from desktop_app.local_server.brain import GREETING, IDENTITY, STORY, Call, Say, number_words, parse_arithmetic, think

ANSWERS = [
    ("Hello!", GREETING),
    ("Good morning", GREETING),
    ("What are you?", IDENTITY),
    ("What is 2 plus 3?", "Two plus three is five."),
    ("what is twenty three times four", "Twenty three times four is ninety two."),
    ("What is 10 divided by 4?", "Ten divided by four is two point five."),
    ("seven minus nine", "Seven minus nine is minus two."),
    ("what is 5 divided by 0", "Dividing by zero has no answer, I am afraid."),
    ("Repeat after me: the cat sat on the mat", "You said: the cat sat on the mat"),
    ("Tell me a long story.", STORY),
    ("Why is the sky blue?", "You asked: Why is the sky blue. I am only a small offline demo, so I can greet you, "
                             "tell the time, do sums and tell a story."),
]


@pytest.mark.parametrize("question, answer", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_answers(question, answer):
    assert think([("user", question)]) == Say(answer)


def test_the_story_is_long_enough_to_interrupt():
    assert len(STORY.split()) > 150


REPEAT_PREVIOUS = ["repeat what I said", "Repeat what I said.", "What did I just say?", "What did I say?",
                   "what did i just say", "Can you repeat what I said?", "Say that back to me", "Say it again.",
                   "Could you say that again?", "Repeat that, please.", "Repeat.", "What was it I said?"]


@pytest.mark.parametrize("question", REPEAT_PREVIOUS)
def test_asking_what_i_said_repeats_the_previous_utterance_not_the_question(question):
    history = [("user", "the sky is green"), ("assistant", "ok"), ("user", question)]
    assert think(history) == Say("You said: the sky is green")


REPEAT_WORDS = [
    ("Repeat after me: the cat sat on the mat", "the cat sat on the mat"),
    ("Repeat after me: two plus two", "two plus two"),  # a sum to repeat, not to work out
    ("Repeat after me: what did I say", "what did I say"),
    ("repeat the word banana", "the word banana"),
]


@pytest.mark.parametrize("question, said", REPEAT_WORDS, ids=[q for q, _ in REPEAT_WORDS])
def test_repeat_with_words_says_those_words(question, said):
    assert think([("user", "the sky is green"), ("user", question)]) == Say(f"You said: {said}")


def test_repeat_skips_utterances_nobody_understood_and_says_when_there_is_nothing():
    history = [("user", "the sky is green"), ("assistant", "ok"), ("user", ""), ("user", "What did I just say?")]
    assert think(history) == Say("You said: the sky is green")
    assert think([("user", "What did I just say?")]) == Say("You said: nothing yet")
    assert think([("user", "the sky is green"), ("user", "What time did I say?")]).text.startswith("It is ")


def test_the_time_is_read_from_the_clock():
    assert think([("user", "What time is it?")], now=0).text.startswith("It is ")


@pytest.mark.parametrize("instructions", ["Answer in one sentence.", "Be brief.", "Keep it concise please"])
def test_one_sentence_instructions_cut_the_answer(instructions):
    assert think([("user", "tell me a story")], instructions=instructions) == Say(STORY.split(". ")[0] + ".")


def test_tools_are_called_with_their_own_parameter_names():
    add = {"type": "function", "name": "add", "parameters": {"properties": {"x": {"type": "integer"}, "y": {"type": "number"}}}}
    calc = {"type": "function", "name": "calculator", "parameters": {"properties": {"expression": {"type": "string"}}}}
    clock = {"type": "function", "name": "get_current_time", "parameters": {"properties": {}}}
    assert think([("user", "what is 2 plus 3")], tools=[add]) == Call("add", json.dumps({"x": 2, "y": 3}))
    assert think([("user", "what is 6 times 7")], tools=[calc]) == Call("calculator", json.dumps({"expression": "6 * 7"}))
    assert think([("user", "what time is it")], tools=[clock, add]) == Call("get_current_time", "{}")
    assert isinstance(think([("user", "what time is it")], tools=[clock], tool_choice="none"), Say)
    assert think([("user", "hello")], tools=[clock]) == Say(GREETING)


def test_a_function_output_is_spoken():
    history = [("user", "what time is it"), ("function_call:get_time", "{}"),
               ("function_call_output:get_time", json.dumps({"time": "14:05"}))]
    assert think(history) == Say("The time is 14:05.")
    assert think([("function_call_output:add", "5")]) == Say("The result is five.")


def test_idle_prompt():
    assert "still there" in think([], idle=True).text


def test_number_words_and_arithmetic_parsing():
    assert [number_words(n) for n in (0, 13, 42, 100, 1005, 2.25)] == [
        "zero", "thirteen", "forty two", "one hundred", "one thousand five", "two point two five"]
    assert parse_arithmetic("What is 2 plus 3?") == (2.0, "+", 3.0)
    assert parse_arithmetic("nine times eight") == (9.0, "*", 8.0)
    assert parse_arithmetic("hello there") is None
