"""The echo check on user transcripts."""

import pytest

from desktop_app.controller.echo import is_echo

STORY = "Once upon a time, in a small town by the sea, there lived a lighthouse keeper named Ada."


@pytest.mark.parametrize("user,echo", [
    ("in a small town by the sea", True),                       # verbatim
    ("in a small town by this sea there lived", True),           # one word garbled by the ASR
    ("once upon a time in a small town", True),
    ("what time is it", False),                                  # a real question
    ("stop please stop", False),
    ("town", False),                                             # too short to judge
    ("by the sea", False),                                       # three words: an answer, never judged
    ("a small town by", True),                                   # short: word for word, one run
    ("a small town near", False),                                # short with a miss: not echo
    ("in a small lighthouse town", False),
    ("tell me about the sea and the town", False),               # shares words, not the sentence
])
def test_transcripts_repeating_the_assistant_are_echo(user, echo):
    assert is_echo(user, [STORY]) is echo


def test_no_assistant_words_means_no_echo():
    assert is_echo("in a small town by the sea", []) is False
