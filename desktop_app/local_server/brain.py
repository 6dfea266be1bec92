"""The demo assistant's deterministic "brain": what to answer, given the conversation.

It understands a handful of intents — greeting, what it is, the time, arithmetic, "repeat what I
said", a long story (long enough to interrupt) — and otherwise reflects the question back. It obeys
the instructions it can ("answer in one sentence", "be brief"). When the response may use tools and
some fit (:mod:`.brain_tools`: the time somewhere, a sum, open a web page, a note, the clipboard — two
at once when asked for two things), it calls them instead of answering, and when the conversation
ends with their outputs, it speaks an answer built from them. An MCP tool the session listed is used
the same way: first an approval request when the server's entry requires one, then the call itself.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from desktop_app.local_server.brain_tools import function_calls, mcp_choice, speak_output
from desktop_app.local_server.numbers import OP_WORDS, compute, number_words, parse_arithmetic
from desktop_app.local_server.plans import AskMcp, Call, Calls, Plan, Say, UseMcp

__all__ = ["GREETING", "IDENTITY", "IDLE_PROMPT", "STORY", "AskMcp", "Call", "Calls", "Plan", "Say", "UseMcp",
           "number_words", "parse_arithmetic", "think"]

STORY = (
    "Once upon a time, in a small town by the sea, there lived a lighthouse keeper named Ada. "
    "Every evening she climbed the one hundred and twelve steps of her tower and lit the great lamp. "
    "Ships from far away harbours trusted her light to guide them past the rocks. "
    "One stormy night the lamp went dark, and Ada heard a ship's horn somewhere in the fog. "
    "She gathered every candle in the house and lined them along the gallery rail. "
    "The little flames flickered in the wind, but together they made a warm and steady glow. "
    "The captain saw it, turned his ship away from the rocks, and sailed safely into the bay. "
    "The next morning the whole town came to thank her, carrying baskets of bread and fresh fish. "
    "Ada smiled and said that a light is only useful when someone keeps it burning. "
    "And from that day on, every house in town kept a candle ready for stormy nights."
)
GREETING = "Hello! I am Parley's offline demo assistant. Ask me the time, a sum, or for a story."
IDENTITY = (
    "I am a small assistant built into Parley. I run entirely on this computer, "
    "with offline speech recognition and synthesis, and no connection to OpenAI."
)
IDLE_PROMPT = "Are you still there? Ask me anything when you are ready."


def _apply_instructions(text: str, instructions: str) -> str:
    lowered = (instructions or "").lower()
    if re.search(r"one sentence|single sentence|be brief|briefly|short answer|concise", lowered):
        first = re.match(r".+?[.!?](\s|$)", text)
        return first.group(0).strip() if first else text
    return text


def _speak_result(output: str, name: str) -> str:
    known = speak_output(name, output)
    if known is not None:
        return known
    try:
        value = json.loads(output)
    except ValueError:
        value = output
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = number_words(value)
    if isinstance(value, dict):
        value = ", ".join(f"{k} {v}" for k, v in value.items())
    label = "time" if "time" in name.lower() else "result"
    return f"The {label} is {value}."


# "What did I (just) say?", "what was it I said", "can you repeat what I said", "say that back to me",
# "say it again": the user's previous utterance, never the question itself.
_ASKS_PREVIOUS = re.compile(
    r"\bwhat (did|do) i (just )?say\b|\bwhat (was|is) (it|that) (that )?i (just )?said\b|\bwhat i (just )?said\b"
    r"|\bsay (that|it|this) (back|again)\b|\bsay again\b|\brepeat (that|it|this) back\b")
_REPEAT = re.compile(r"\brepeat( after me)?\b[:,]?\s*(?P<said>.*)$", re.IGNORECASE)
# "Repeat that please", "could you repeat it again for me": nothing to repeat but the previous utterance.
_FILLER = {"that", "it", "this", "please", "again", "back", "for", "to", "me", "once", "more", "now", "the", "last",
           "thing", "sentence", "one", "time"}


def _repeat(question: str, earlier: list[str]) -> str | None:
    """What to say back if ``question`` asks for a repetition, else None: the words after "repeat
    (after me)", or the user's previous utterance (``earlier``: what the user said before, oldest first)."""
    match = _REPEAT.search(question)
    said = match.group("said").strip() if match else ""
    if match and match.group(1) and said:
        return said  # "repeat after me: …" says what follows, whatever it is
    if not _ASKS_PREVIOUS.search(question.lower()):
        if match is None:
            return None
        if said and not set(re.findall(r"[a-z]+", said.lower())) <= _FILLER:
            return said  # "repeat the word banana"
    previous = [text.strip() for text in earlier if text.strip()]  # an utterance nobody understood is skipped
    return previous[-1] if previous else "nothing yet"


def _outputs_spoken(history: list[tuple[str, str]]) -> str | None:
    """The answer from the function outputs that end the conversation (all of one batch), if any."""
    outputs = []
    for kind, text in reversed(history):
        if not kind.startswith("function_call_output:"):
            break
        outputs.append(_speak_result(text, kind.split(":", 1)[1]))
    return " ".join(reversed(outputs)) if outputs else None


def _after_approval(history: list[tuple[str, str]]) -> Say | UseMcp | None:
    """The conversation ends with the answer to an MCP approval request: use the tool, or say why not."""
    if not history or history[-1][0] != "mcp_approval_response":
        return None
    answer = json.loads(history[-1][1])
    requests = [json.loads(text) for kind, text in history if kind == "mcp_approval_request"]
    request = next((r for r in requests if r.get("id") == answer.get("approval_request_id")), None)
    if request is None:
        return None
    if not answer.get("approve"):
        return Say(f"I did not use the {request['name'].replace('_', ' ')} tool on {request['server_label']}, "
                   "because it was not allowed.")
    return UseMcp(request["server_label"], request["name"], request["arguments"], request["id"])


def think(
    history: list[tuple[str, str]],
    *,
    instructions: str = "",
    tools: list[dict[str, Any]] | None = None,
    tool_choice: Any = "auto",
    idle: bool = False,
    now: float | None = None,
    mcp_tools: list[dict[str, Any]] | None = None,
) -> Plan:
    """Decide the reply. ``history`` is ``(kind, text)`` per item, oldest first, where kind is
    ``user``, ``assistant``, ``function_call:<name>``, ``function_call_output:<name>``, or
    ``mcp_approval_request`` / ``mcp_approval_response`` (text: the item as JSON). ``mcp_tools`` are
    the tools the session's MCP servers listed (``server_label``, ``name``, ``input_schema``, and
    ``approval``: whether a call needs the user's approval first)."""
    tools = [] if tool_choice == "none" else list(tools or [])
    mcp_tools = [] if tool_choice == "none" else list(mcp_tools or [])
    if idle:
        return Say(_apply_instructions(IDLE_PROMPT, instructions))
    spoken = _outputs_spoken(history)
    if spoken is not None:
        return Say(_apply_instructions(spoken, instructions))
    approved = _after_approval(history)
    if approved is not None:
        return approved
    users = [text for kind, text in history if kind == "user"]
    question = users[-1] if users else ""
    lowered = question.lower()
    said = _repeat(question, users[:-1])
    if said is not None:  # before the other intents: "repeat after me: two plus two" is not a sum
        return Say(_apply_instructions(f"You said: {said}", instructions))
    calls = function_calls(question, tools) if question else []
    if len(calls) == 1:
        return calls[0]
    if calls:
        return Calls(tuple(calls))
    chosen = mcp_choice(question, mcp_tools) if question else None
    if chosen is not None:
        tool, arguments = chosen
        plan = AskMcp if tool.get("approval", True) else UseMcp
        return plan(str(tool["server_label"]), str(tool["name"]), arguments)
    arithmetic = parse_arithmetic(question)
    if arithmetic is not None:
        a, op, b = arithmetic
        result = compute(a, op, b)
        said = f"{number_words(a)} {OP_WORDS[op]} {number_words(b)}"
        answer = (f"{said.capitalize()} is {number_words(result)}." if result is not None
                  else "Dividing by zero has no answer, I am afraid.")
        return Say(_apply_instructions(answer, instructions))
    if re.search(r"\bstory\b|\btale\b", lowered):
        return Say(_apply_instructions(STORY, instructions))
    if re.search(r"\btime\b|\bclock\b", lowered):
        stamp = time.strftime("%H:%M", time.localtime(now))
        return Say(_apply_instructions(f"It is {stamp} on this computer.", instructions))
    if re.search(r"what are you|who are you|your name|what is parley|what can you do", lowered):
        return Say(_apply_instructions(IDENTITY, instructions))
    if re.search(r"\b(hello|hi|hey|greetings|good (morning|afternoon|evening))\b", lowered) or not question:
        return Say(_apply_instructions(GREETING, instructions))
    reflected = question.rstrip(" ?.!")
    return Say(_apply_instructions(
        f"You asked: {reflected}. I am only a small offline demo, so I can greet you, tell the time, "
        "do sums and tell a story.", instructions))
