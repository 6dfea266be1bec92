"""Numbers as the demo brain hears and says them: digits or words in, words out.

``parse_arithmetic("what is seventeen times 23")`` → ``(17.0, "*", 23.0)``; ``number_words(391)`` →
``"three hundred and ninety one"`` (the synthesizer then says what a person would).
"""

from __future__ import annotations

import re

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


OP_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}


