"""Is a user transcript just the assistant's own voice, heard back through the speakers?

Pure text logic: a transcript counts as echo when nearly all of its words appear, in order, within
the assistant's recent words. The recognizer garbles echo a little, so the match is on normalised
words and tolerates a small share of misses in a long transcript; a short one (under
``EXACT_BELOW`` words) must appear word for word, in one run, and fewer than ``MIN_WORDS`` words are
never judged: "the blue one" or "yes please do" is an answer, even right after the assistant said it.
The controller only asks about speech that started while the assistant was audible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9']+")
MIN_WORDS = 4
EXACT_BELOW = 6
MATCH_SHARE = 0.8


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def is_echo(user_text: str, assistant_texts: Iterable[str]) -> bool:
    """True when ``user_text`` repeats the assistant's recent words (in order, ≥ 80 % of them)."""
    said = words(user_text)
    if len(said) < MIN_WORDS:
        return False
    heard = [w for text in assistant_texts for w in words(text)]
    if not heard:
        return False
    if len(said) < EXACT_BELOW:
        n = len(said)
        return any(heard[i : i + n] == said for i in range(len(heard) - n + 1))
    # Longest in-order match of the user's words inside the assistant's words (greedy subsequence).
    best = 0
    for start in range(len(heard)):
        matched, pos = 0, start
        for word in said:
            try:
                found = heard.index(word, pos, min(len(heard), pos + 4))
            except ValueError:
                continue
            matched += 1
            pos = found + 1
        best = max(best, matched)
        if best == len(said):
            break
    return best / len(said) >= MATCH_SHARE
