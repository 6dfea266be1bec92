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


BUILT_IN = {  # what a person says → the built-in tool and its arguments (valid for its strict schema)
    "What time is it in Tokyo?": ("current_time", {"timezone": "Tokyo"}),
    "what's the time in new york": ("current_time", {"timezone": "New York"}),
    "What is 17 times 23?": ("calculate", {"expression": "17 * 23"}),
    "open example dot com": ("open_url", {"url": "https://example.com"}),
    "Open www.example.org slash news.": ("open_url", {"url": "https://www.example.org/news"}),
    "Note that I need milk.": ("append_note", {"text": "I need milk"}),
    "Make a note: call the plumber at 5": ("append_note", {"text": "call the plumber at 5"}),
    "What's on my clipboard?": ("read_clipboard", {}),
    "What's on my clip board?": ("read_clipboard", {}),  # as Whisper heard it once in the window's e2e
    "Read my notes": ("read_notes", {}),
}


@pytest.mark.parametrize("question", BUILT_IN)
def test_parleys_own_tools_are_called_with_schema_valid_arguments(question, tmp_path):
    from desktop_app.tools import ToolRegistry
    from desktop_app.tools.builtins import BuiltinProviders, builtin_tools

    class Desk:
        def read_text(self):
            return ""

        def open_url(self, url):
            return True

    registry = ToolRegistry(builtin_tools(BuiltinProviders(clipboard=Desk(), opener=Desk(), notes_dir=tmp_path)))
    plan = think([("user", question)], tools=registry.function_tools())
    name, arguments = BUILT_IN[question]
    assert plan == Call(name, json.dumps(arguments))
    registry.runnable(name)[1].parse(plan.arguments)


def test_two_requests_make_two_calls_and_their_outputs_one_answer():
    from desktop_app.local_server.brain import Calls

    clock = {"type": "function", "name": "current_time", "parameters": {"properties": {"timezone": {"type": "string"}}}}
    calc = {"type": "function", "name": "calculate", "parameters": {"properties": {"expression": {"type": "string"}}}}
    plan = think([("user", "what time is it in Tokyo and what is 17 times 23")], tools=[clock, calc])
    assert plan == Calls((Call("current_time", '{"timezone": "Tokyo"}'), Call("calculate", '{"expression": "17 * 23"}')))
    history = [("user", "…"), ("function_call:current_time", "{}"), ("function_call:calculate", "{}"),
               ("function_call_output:current_time", json.dumps({"timezone": "Asia/Tokyo", "time": "09:30"})),
               ("function_call_output:calculate", json.dumps({"error": {"type": "cancelled", "message": "x"}}))]
    assert think(history) == Say("It is 09:30 in Tokyo. All right, I stopped the calculate tool.")
    assert isinstance(think([("user", "note that I need milk and eggs")], tools=[clock, calc]), Say)


def test_an_mcp_tool_is_used_by_its_name_asking_first_when_the_server_requires_it():
    from desktop_app.local_server.brain import AskMcp, UseMcp

    forecast = {"server_label": "weather", "name": "weather_forecast", "approval": True,
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    question = [("user", "What's the weather in Paris?")]
    assert think(question, mcp_tools=[forecast]) == AskMcp("weather", "weather_forecast", '{"city": "Paris"}')
    assert think(question, mcp_tools=[{**forecast, "approval": False}]) == UseMcp(
        "weather", "weather_forecast", '{"city": "Paris"}')
    assert isinstance(think([("user", "What's the weather?")], mcp_tools=[forecast]), Say)  # no city: no call
    request = {"type": "mcp_approval_request", "id": "mcpr_1", "server_label": "weather", "name": "weather_forecast",
               "arguments": '{"city": "Paris"}'}
    history = [*question, ("mcp_approval_request", json.dumps(request))]
    approve = {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True}
    assert think([*history, ("mcp_approval_response", json.dumps(approve))]) == UseMcp(
        "weather", "weather_forecast", '{"city": "Paris"}', "mcpr_1")
    deny = {**approve, "approve": False}
    assert "not allowed" in think([*history, ("mcp_approval_response", json.dumps(deny))]).text


@pytest.mark.parametrize("heard,place", [("What time is it in Tokevo?", "Tokyo"), ("What time is it in Pariss?", "Paris"),
                                         ("What time is it in Reykjavik?", "Reykjavik")])
def test_a_well_known_city_heard_slightly_wrong_is_corrected_and_others_are_kept(heard, place):
    from desktop_app.local_server.brain_tools import place_in

    assert place_in(heard) == place
