"""Tool use for the demo brain, the way a model would: which declared tool fits what was said, its
arguments (valid for the tool's own JSON schema), and the sentence spoken from what the tool returned.

Pure functions, no I/O. A question can hold two requests ("what time is it in Tokyo and what is 17
times 23"): :func:`clauses` splits it, and each clause may become one call. A tool is recognised by its
name (``current_time``, ``calculate``, ``open_url``, ``append_note``, ``read_clipboard`` … or any
name with the same words) and filled by its parameter names; a tool whose required parameters cannot
be filled from the words is not called.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from desktop_app.local_server.numbers import number_words, parse_arithmetic
from desktop_app.local_server.plans import Call

Tool = Mapping[str, Any]

_NEXT_REQUEST = r"(?:what|what's|whats|how|open|note|make|write|take|tell|read|check)\b"
_PLACE = re.compile(r"\b(?:in|at|for)\s+(?P<place>[a-z][a-z .'-]*?)\s*[?.!]*$", re.IGNORECASE)
_DOMAIN = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/\S*)?$")
_SAID_OPS = {"*": "times", "/": "divided by", "+": "plus", "-": "minus"}
_GENERIC = {"get", "list", "tool", "tools", "the", "and", "for", "with", "from", "make", "read"}


def clauses(question: str) -> list[str]:
    """``question`` split at "and" / "also" where a new request starts."""
    parts = re.split(rf"\s*[,;]?\s*\b(?:and also|and then|and|also)\s+(?={_NEXT_REQUEST})", question,
                     flags=re.IGNORECASE)
    return [p.strip(" ,;") for p in parts if p.strip(" ,;")]


def _functions(tools: Sequence[Tool]) -> Sequence[Tool]:
    return [t for t in tools if t.get("type", "function") == "function"]


def _schema(tool: Tool) -> tuple[dict[str, Any], list[str]]:
    params = tool.get("parameters") or tool.get("input_schema") or {}
    return dict(params.get("properties") or {}), list(params.get("required") or [])


def _named(tools: Sequence[Tool], needles: tuple[str, ...], avoid: tuple[str, ...] = ()) -> Sequence[Tool]:
    return [t for t in _functions(tools) if any(n in str(t.get("name", "")).lower() for n in needles)
            and not any(a in str(t.get("name", "")).lower() for a in avoid)]


def _prop(props: dict[str, Any], hints: tuple[str, ...], kinds: tuple[str, ...] = ("string",)) -> str | None:
    for name, schema in props.items():
        kind = (schema or {}).get("type", "string")
        if kind in kinds and any(h in name.lower() for h in hints):
            return name
    return None


def _fits(value: str, schema: Mapping[str, Any]) -> str:
    limit = schema.get("maxLength")
    return value[: int(limit)] if isinstance(limit, int) else value


def _call(tool: Tool, values: dict[str, Any]) -> Call | None:
    """The call with ``values`` (by parameter name), or None when a required parameter is missing."""
    props, required = _schema(tool)
    args = {k: (_fits(v, props[k]) if isinstance(v, str) else v) for k, v in values.items() if k in props}
    if any(name not in args for name in required):
        return None
    return Call(str(tool["name"]), json.dumps(args))


#: Cities the demo hears asked about most: a name the speech recogniser got slightly wrong ("Tokevo")
#: is taken for the closest of these, as a model would understand it.
KNOWN_PLACES = ("Tokyo", "Paris", "London", "New York", "Berlin", "Sydney", "Los Angeles", "San Francisco",
                "Chicago", "Toronto", "Mumbai", "Delhi", "Beijing", "Shanghai", "Singapore", "Seoul", "Moscow",
                "Madrid", "Rome", "Amsterdam", "Dubai", "Cairo", "Mexico City", "Sao Paulo", "Hong Kong")


def place_in(clause: str) -> str | None:
    """ "… in Tokyo" → "Tokyo" (words title-cased, as a city is written; a well-known city heard
    slightly wrong is corrected)."""
    match = _PLACE.search(clause)
    if match is None:
        return None
    place = " ".join(w.capitalize() for w in match.group("place").strip().split())
    if not place:
        return None
    close = difflib.get_close_matches(place, KNOWN_PLACES, n=1, cutoff=0.7)
    return close[0] if close else place


def spoken_url(text: str) -> str | None:
    """ "example dot com" / "www.example.com slash news" → an https URL, or None if it is no address."""
    words = text.lower().strip(" .!?")
    words = re.sub(r"^(?:the\s+)?(?:web\s*site|website|page|site)\s+", "", words)
    words = re.sub(r"\s*\bdot\b\s*", ".", words)
    words = re.sub(r"\s*\bslash\b\s*", "/", words)
    words = words.replace(" ", "")
    words = re.sub(r"^https?://", "", words)
    return f"https://{words}" if _DOMAIN.match(words) else None


# --- one clause → one function call -------------------------------------------------------------


def _clipboard(clause: str, tools: Sequence[Tool]) -> Call | None:
    # Whisper writes it "clip board" now and then (a tools e2e test failed on it)
    if not re.search(r"\bclip[ -]?board\b|\bwhat i (?:just )?copied\b", clause, re.IGNORECASE):
        return None
    return next((c for t in _named(tools, ("clipboard",)) if (c := _call(t, {})) is not None), None)


def _open(clause: str, tools: Sequence[Tool]) -> Call | None:
    match = re.search(r"\bopen\s+(?:up\s+)?(?P<target>.+)$", clause, re.IGNORECASE)
    url = spoken_url(match.group("target")) if match else None
    if url is None:
        return None
    for tool in _named(tools, ("url", "open", "browser", "web", "link")):
        prop = _prop(_schema(tool)[0], ("url", "link", "address", "href", "page"))
        if prop is not None and (call := _call(tool, {prop: url})) is not None:
            return call
    return None


def _note(clause: str, tools: Sequence[Tool]) -> Call | None:
    match = re.search(r"\b(?:(?:make|take) a note|note down|note|write down)\b(?:\s+(?:that|saying))?[:,]?\s+"
                      r"(?P<text>.+?)[.!?]*$", clause, re.IGNORECASE)
    if match is None:
        return None
    text = match.group("text").strip()
    for tool in _named(tools, ("note",), avoid=("read", "search", "list")):
        prop = _prop(_schema(tool)[0], ("text", "note", "content", "body", "message"))
        if prop is not None and (call := _call(tool, {prop: text})) is not None:
            return call
    return None


def _read_notes(clause: str, tools: Sequence[Tool]) -> Call | None:
    if not re.search(r"\b(?:read|what are|what's in|whats in|show)\b.*\bnotes?\b", clause, re.IGNORECASE):
        return None
    return next((c for t in _named(tools, ("note",)) if "read" in str(t.get("name", "")).lower()
                 and (c := _call(t, {})) is not None), None)


def _time(clause: str, tools: Sequence[Tool]) -> Call | None:
    if not re.search(r"\btime\b|\bclock\b", clause, re.IGNORECASE):
        return None
    place = place_in(clause)
    for tool in _named(tools, ("time", "clock"), avoid=("convert",)):
        prop = _prop(_schema(tool)[0], ("zone", "city", "location", "place", "where", "tz"))
        call = _call(tool, {prop: place} if prop is not None and place else {})
        if call is not None:
            return call
    return None


def _arithmetic(clause: str, tools: Sequence[Tool]) -> Call | None:
    sum_ = parse_arithmetic(clause)
    tool = next(iter(_named(tools, ("sum", "add", "calc", "math", "arith"))), None)
    if sum_ is None or tool is None:
        return None
    a, op, b = sum_
    props = list(_schema(tool)[0].items())
    tidy = [int(x) if float(x).is_integer() else x for x in (a, b)]
    numeric = [k for k, v in props if (v or {}).get("type") in ("number", "integer")]
    strings = [k for k, v in props if (v or {}).get("type") == "string"]
    if len(numeric) >= 2:
        return Call(str(tool["name"]), json.dumps({numeric[0]: tidy[0], numeric[1]: tidy[1]}))
    if strings:
        return Call(str(tool["name"]), json.dumps({strings[0]: f"{tidy[0]} {op} {tidy[1]}"}))
    return Call(str(tool["name"]), json.dumps({"a": tidy[0], "b": tidy[1]}))


#: In order: a note's words may hold anything (a time, a sum), so the note comes first.
INTENTS: tuple[Callable[[str, Sequence[Tool]], Call | None], ...] = (
    _note, _clipboard, _open, _read_notes, _time, _arithmetic)


def function_calls(question: str, tools: Sequence[Tool]) -> list[Call]:
    """The calls the question asks for, one per clause that a declared function fits."""
    out = []
    for clause in clauses(question):
        call = next((c for intent in INTENTS if (c := intent(clause, tools)) is not None), None)
        if call is not None:
            out.append(call)
    return out


def mcp_choice(question: str, mcp_tools: Sequence[Tool]) -> tuple[Tool, str] | None:
    """An MCP tool (as listed) whose name's words are in the question, with its arguments."""
    words = set(re.findall(r"[a-z]+", question.lower()))
    for tool in mcp_tools:
        parts = {p for p in re.split(r"[_\-\s.]+", str(tool.get("name", "")).lower()) if len(p) > 3}
        if not (parts - _GENERIC) & words:
            continue
        props, required = _schema(tool)
        values: dict[str, Any] = {}
        place = place_in(question)
        where = _prop(props, ("city", "location", "place", "where", "zone"))
        if where is not None and place:
            values[where] = place
        query = _prop(props, ("query", "text", "topic", "q", "question", "words"))
        if query is not None:
            values[query] = question.strip(" ?.!")
        if all(name in values for name in required):
            args = {k: (_fits(v, props[k]) if isinstance(v, str) else v) for k, v in values.items()}
            return tool, json.dumps(args)
    return None


# --- what a result sounds like ------------------------------------------------------------------


def _place_of(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def speak_output(name: str, output: str) -> str | None:
    """One sentence for a known tool result shape; None when the shape is not one of them."""
    try:
        value = json.loads(output)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    label = name.replace("_", " ")
    error = value.get("error")
    if isinstance(error, dict):
        kind, message = str(error.get("type", "")), str(error.get("message", ""))
        if kind == "cancelled":
            return f"All right, I stopped the {label} tool."
        if kind == "denied":
            return f"I did not use the {label} tool, because you did not allow it."
        first = re.match(r".+?[.!?](\s|$)", message)
        return f"The {label} tool did not work: {(first.group(0) if first else message).strip()}"
    if "time" in value and "timezone" in value:
        zone = str(value["timezone"])
        where = "" if zone in ("local time", "") else f" in {_place_of(zone)}"
        return f"It is {value['time']}{where}."
    if "expression" in value and "result" in value:
        result = value["result"]
        said = number_words(result) if isinstance(result, (int, float)) and not isinstance(result, bool) else result
        spoken = re.sub(r"\s*([*/+-])\s*", lambda m: f" {_SAID_OPS[m.group(1)]} ", str(value["expression"]))
        spoken = re.sub(r"\d+(?:\.\d+)?", lambda m: number_words(float(m.group())), spoken).strip()
        return f"{spoken[:1].upper()}{spoken[1:]} is {said}."
    if "opened" in value:
        return f"I opened {value['opened']} in your browser."
    if value.get("saved") is True:
        return "I saved that in your notes."
    if "text" in value and "characters" in value:
        return f"Your clipboard says: {str(value['text'])[:300]}"
    if value.get("text") == "" and "note" in value:
        return "Your clipboard holds no text."
    if isinstance(value.get("notes"), list):
        notes = [str(n) for n in value["notes"]]
        return "Your notes say: " + "; ".join(notes[-5:]) + "." if notes else "You have no notes yet."
    return None


def speak_mcp(server_label: str, name: str, output: str | None, error: str | None) -> str:
    """What the assistant says after an MCP call."""
    label = name.replace("_", " ")
    if error:
        return f"The {label} tool on {server_label} failed: {error}"
    return f"The {label} tool says: {output or 'nothing'}"
