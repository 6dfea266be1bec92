"""The demo assistant's deterministic "brain": what to answer, given the conversation.

It understands a handful of intents — greeting, what it is, the time, arithmetic, "repeat what I
said", a long story (long enough to interrupt) — and otherwise reflects the question back. It obeys
the instructions it can ("answer in one sentence", "be brief"). When the response may use tools and
one fits (a time tool, a sum/calculator tool), it asks for a function call instead of answering, and
when the conversation ends with that call's output, it speaks the result.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_NUMBER_WORDS = {w: i for i, w in enumerate(_UNITS)} | {w: 10 * i for i, w in enumerate(_TENS) if w}
_OPS = {
    "plus": "+", "add": "+", "and": "+", "+": "+",
    "minus": "-", "subtract": "-", "-": "-",
    "times": "*", "multiplied": "*", "x": "*", "*": "*",
    "divided": "/", "over": "/", "/": "/",
}
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


@dataclass(frozen=True, slots=True)
class Say:
    """Answer with this text."""

    text: str


@dataclass(frozen=True, slots=True)
class Call:
    """Ask the client to run a tool."""

    name: str
    arguments: str


def number_words(n: float) -> str:
    """A number as words ("forty two", "minus three", "two point five"); digits above a million."""
    if n < 0:
        return "minus " + number_words(-n)
    if n != int(n):
        whole, _, frac = f"{n:.2f}".rstrip("0").partition(".")
        return number_words(int(whole)) + " point " + " ".join(_UNITS[int(d)] for d in frac)
    n = int(n)
    if n < 20:
        return _UNITS[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _UNITS[n % 10])
    if n < 1000:
        rest = n % 100
        return _UNITS[n // 100] + " hundred" + ("" if rest == 0 else " and " + number_words(rest))
    if n < 1_000_000:
        rest = n % 1000
        return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))
    return str(n)


def _tokens(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?|[a-z]+|[+\-*/]", text.lower().replace("×", "*"))


def _number(tokens: list[str], i: int) -> tuple[float | None, int]:
    """The number starting at ``tokens[i]`` (digits or words like "twenty three") and the next index."""
    if i >= len(tokens):
        return None, i
    tok = tokens[i]
    if re.fullmatch(r"\d+(?:\.\d+)?", tok):
        return float(tok), i + 1
    if tok in _NUMBER_WORDS:
        value = _NUMBER_WORDS[tok]
        if value >= 20 and i + 1 < len(tokens) and tokens[i + 1] in _NUMBER_WORDS and _NUMBER_WORDS[tokens[i + 1]] < 10:
            return float(value + _NUMBER_WORDS[tokens[i + 1]]), i + 2
        return float(value), i + 1
    return None, i


def parse_arithmetic(text: str) -> tuple[float, str, float] | None:
    """``(a, op, b)`` from "what is two plus three", "7 times 6", "10 divided by 4"; else None."""
    tokens = _tokens(text)
    for i in range(len(tokens)):
        a, j = _number(tokens, i)
        if a is None or j >= len(tokens) or tokens[j] not in _OPS:
            continue
        op = _OPS[tokens[j]]
        k = j + 1
        while k < len(tokens) and tokens[k] in ("by", "to"):
            k += 1
        b, _ = _number(tokens, k)
        if b is not None:
            return a, op, b
    return None


def compute(a: float, op: str, b: float) -> float | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return None if b == 0 else a / b


_OP_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}


def _find_tool(tools: list[dict[str, Any]], *needles: str) -> dict[str, Any] | None:
    for tool in tools:
        if tool.get("type", "function") != "function":
            continue
        name = str(tool.get("name", "")).lower()
        if any(n in name for n in needles):
            return tool
    return None


def _sum_arguments(tool: dict[str, Any], a: float, op: str, b: float) -> str:
    """Fill the tool's own parameter names: two numbers, or one expression string."""
    props = list(((tool.get("parameters") or {}).get("properties") or {}).items())
    tidy = [int(x) if float(x).is_integer() else x for x in (a, b)]
    numeric = [k for k, v in props if (v or {}).get("type") in ("number", "integer")]
    if len(numeric) >= 2:
        return json.dumps({numeric[0]: tidy[0], numeric[1]: tidy[1]})
    strings = [k for k, v in props if (v or {}).get("type") == "string"]
    if strings:
        return json.dumps({strings[0]: f"{tidy[0]} {op} {tidy[1]}"})
    return json.dumps({"a": tidy[0], "b": tidy[1]})


def _apply_instructions(text: str, instructions: str) -> str:
    lowered = (instructions or "").lower()
    if re.search(r"one sentence|single sentence|be brief|briefly|short answer|concise", lowered):
        first = re.match(r".+?[.!?](\s|$)", text)
        return first.group(0).strip() if first else text
    return text


def _speak_result(output: str, name: str) -> str:
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


def think(
    history: list[tuple[str, str]],
    *,
    instructions: str = "",
    tools: list[dict[str, Any]] | None = None,
    tool_choice: Any = "auto",
    idle: bool = False,
    now: float | None = None,
) -> Say | Call:
    """Decide the reply. ``history`` is ``(kind, text)`` per item, oldest first, where kind is
    ``user``, ``assistant``, ``function_call:<name>`` or ``function_call_output:<name>``."""
    tools = [] if tool_choice == "none" else list(tools or [])
    if idle:
        return Say(_apply_instructions(IDLE_PROMPT, instructions))
    if history and history[-1][0].startswith("function_call_output:"):
        name = history[-1][0].split(":", 1)[1]
        return Say(_apply_instructions(_speak_result(history[-1][1], name), instructions))
    users = [text for kind, text in history if kind == "user"]
    question = users[-1] if users else ""
    lowered = question.lower()
    said = _repeat(question, users[:-1])
    if said is not None:  # before the other intents: "repeat after me: two plus two" is not a sum
        return Say(_apply_instructions(f"You said: {said}", instructions))
    arithmetic = parse_arithmetic(question)
    if arithmetic is not None:
        tool = _find_tool(tools, "sum", "add", "calc", "math", "arith")
        if tool is not None:
            return Call(tool["name"], _sum_arguments(tool, *arithmetic))
        a, op, b = arithmetic
        result = compute(a, op, b)
        said = f"{number_words(a)} {_OP_WORDS[op]} {number_words(b)}"
        answer = (f"{said.capitalize()} is {number_words(result)}." if result is not None
                  else "Dividing by zero has no answer, I am afraid.")
        return Say(_apply_instructions(answer, instructions))
    if re.search(r"\bstory\b|\btale\b", lowered):
        return Say(_apply_instructions(STORY, instructions))
    if re.search(r"\btime\b|\bclock\b", lowered):
        tool = _find_tool(tools, "time", "clock")
        if tool is not None:
            return Call(tool["name"], "{}")
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
