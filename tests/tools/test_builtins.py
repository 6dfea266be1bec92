"""The built-in tools, called the way the model calls them: through ToolBox.run_calls."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from desktop_app.settings.tools import ToolPrefs
from desktop_app.tools import Decision, Status, ToolBox, ToolCall, ToolRegistry
from desktop_app.tools.builtins import BuiltinProviders, HistoryHit, builtin_tools
from desktop_app.tools.builtins.calculator import evaluate, format_number
from desktop_app.tools.builtins.desktop import check_web_url
from desktop_app.tools.builtins.notes import Notebooks
from desktop_app.tools.builtins.units import convert
from desktop_app.tools.spec import ToolError
from tests.tools.conftest import ScriptedApprover

NOW = datetime(2026, 12, 3, 9, 4, 5, tzinfo=timezone.utc)  # a Thursday


class Clipboard:
    def __init__(self, text: str | None) -> None:
        self.text = text

    def read_text(self) -> str | None:
        return self.text


class Browser:
    def __init__(self) -> None:
        self.opened: list[str] = []

    def open_url(self, url: str) -> bool:
        self.opened.append(url)
        return True


class History:
    async def search(self, query: str, limit: int):
        return [HistoryHit("c1", "Trip planning", datetime(2026, 11, 2, 10, 30), "user", f"we said {query} " * 100)][:limit]


def toolbox(tmp_path, **providers) -> ToolBox:
    specs = builtin_tools(BuiltinProviders(notes_dir=tmp_path / "notes", now=lambda: NOW, **providers))
    return ToolBox(ToolRegistry(specs))


async def run(box: ToolBox, name: str, approver=None, **arguments):
    [result] = await box.run_calls([ToolCall("call_1", name, json.dumps(arguments))], approver)
    return result, json.loads(result.output)


def test_every_built_in_is_declared_with_a_strict_schema_and_a_sensible_permission(tmp_path):
    registry = ToolRegistry(builtin_tools(BuiltinProviders(notes_dir=tmp_path)))
    infos = {i.name: i for i in registry.infos()}
    assert list(infos) == ["current_time", "convert_time", "calculate", "convert_units", "read_clipboard", "open_url",
                           "append_note", "read_notes", "search_conversations"]
    assert {n for n, i in infos.items() if i.permission.value == "ask"} == {"read_clipboard", "open_url", "append_note"}
    # Without a clipboard, a browser or history (headless), those tools are not offered.
    assert {i.name for i in registry.infos() if i.unavailable} == {"read_clipboard", "open_url", "search_conversations"}
    assert [t["name"] for t in registry.function_tools()] == ["current_time", "convert_time", "calculate",
                                                             "convert_units", "append_note", "read_notes"]
    for tool in registry.function_tools():
        assert tool["parameters"]["additionalProperties"] is False


async def test_current_time_in_a_city_and_here(tmp_path):
    box = toolbox(tmp_path)
    result, body = await run(box, "current_time", timezone="Tokyo")
    assert result.ok and body["timezone"] == "Asia/Tokyo"
    assert (body["time"], body["date"], body["utc_offset"]) == ("18:04", "Thursday 3 December 2026", "+09:00")
    _, body = await run(box, "current_time", timezone="new york")
    assert (body["timezone"], body["time"]) == ("America/New_York", "04:04")
    _, body = await run(box, "current_time")
    assert body["iso"].startswith("2026-12-0")


async def test_convert_time_across_zones_with_summer_time(tmp_path):
    box = toolbox(tmp_path)
    _, body = await run(box, "convert_time", time="9:00", from_timezone="America/New_York", to_timezone="berlin",
                        date="2026-07-01")
    assert (body["from"]["iso"], body["to"]["iso"]) == ("2026-07-01T09:00:00-04:00", "2026-07-01T15:00:00+02:00")
    result, body = await run(box, "convert_time", time="25:00", from_timezone="UTC", to_timezone="UTC")
    assert result.status is Status.FAILED and "HH:MM" in body["error"]["message"]
    result, body = await run(box, "current_time", timezone="Atlantis")
    assert result.status is Status.FAILED and "'Atlantis' is not a time zone" in body["error"]["message"]


@pytest.mark.parametrize(("expression", "text"), [
    ("17 * 23", "391"), ("17 times 23".replace(" times ", "×"), "391"), ("2^10", "1024"), ("2^3*2", "16"),
    ("sqrt(16) + 1", "5"), ("1,000 * 3", "3000"), ("10 / 4", "2.5"), ("0.1 + 0.2", "0.3"), ("-(3 - 5) ** 2", "-4"),
    ("round(pi, 3)", "3.142"), ("factorial(5)", "120"), ("max(3, 9, 4)", "9"), ("7 // 2 + 7 % 2", "4"),
])
def test_the_calculator_evaluates_arithmetic(expression, text):
    assert format_number(evaluate(expression)) == text


@pytest.mark.parametrize(("expression", "words"), [
    ("__import__('os').system('rm -rf ~')", "not allowed"), ("().__class__.__bases__", "not allowed"),
    ("open('/etc/passwd')", "not allowed"), ("x + 1", "not allowed"), ("'a' * 3", "not allowed"),
    ("[1, 2]", "not allowed"), ("lambda: 1", "not allowed"), ("1 if 1 else 2", "not allowed"),
    ("sqrt(x=4)", "not allowed"), ("True + 1", "not allowed"), ("9**9**9", "too large"), ("10 ** 400", "too large"),
    ("factorial(1000)", "0 to 170"), ("1/0", "divides by zero"), ("sqrt(-1)", "cannot be calculated"),
    ("2 +", "not an arithmetic expression"), ("1" * 201, "longer than 200"), ("+".join(["1"] * 40), "too complex"),
    ("exp(1000)", "too large"),
])
def test_the_calculator_refuses_everything_but_arithmetic(expression, words):
    with pytest.raises(ToolError, match=words):
        evaluate(expression)


async def test_the_calculator_tool_answers_the_model(tmp_path):
    result, body = await run(toolbox(tmp_path), "calculate", expression="17 * 23")
    assert result.ok and body == {"expression": "17 * 23", "result": 391, "text": "391"}
    result, body = await run(toolbox(tmp_path), "calculate", expression="__import__('os')")
    assert result.status is Status.FAILED and "not allowed" in body["error"]["message"]


@pytest.mark.parametrize(("value", "source", "target", "expected"), [
    (10, "miles", "km", 16.09344), (350, "°F", "celsius", 176.6666666667), (0, "C", "K", 273.15),
    (1, "GiB", "MB", 1073.741824), (2, "cups", "ml", 473.176473), (100, "km/h", "mph", 62.13711922),
    (1, "acre", "m2", 4046.8564224), (5, "feet", "inches", 60), (1, "kWh", "kcal", 860.4206501),
])
def test_unit_conversion(value, source, target, expected):
    result, _, _ = convert(value, source, target)
    assert result == pytest.approx(expected, rel=1e-9)


async def test_unit_conversion_refuses_mismatched_quantities_and_impossible_values(tmp_path):
    box = toolbox(tmp_path)
    result, body = await run(box, "convert_units", value=10, from_unit="mi", to_unit="km")
    assert body["text"] == "10 mi = 16.0934 km"
    for args, words in (({"value": 1, "from_unit": "kg", "to_unit": "celsius"}, "cannot be converted"),
                        ({"value": -500, "from_unit": "C", "to_unit": "K"}, "below absolute zero"),
                        ({"value": 1, "from_unit": "parsec", "to_unit": "m"}, "not a unit")):
        result, body = await run(box, "convert_units", **args)
        assert result.status is Status.FAILED and words in body["error"]["message"]


async def test_reading_the_clipboard_asks_first(tmp_path):
    box = toolbox(tmp_path, clipboard=Clipboard("milk, eggs"))
    approver = ScriptedApprover(Decision.ALLOW_ONCE)
    result, body = await run(box, "read_clipboard", approver)
    assert result.ok and body == {"text": "milk, eggs", "characters": 10}
    assert approver.requests[0].tool == "read_clipboard"
    result, body = await run(box, "read_clipboard", ScriptedApprover(Decision.DENY))
    assert result.status is Status.DENIED and "milk" not in result.output
    _, body = await run(toolbox(tmp_path, clipboard=Clipboard(None)), "read_clipboard", approver)
    assert body["note"] == "The clipboard holds no text."


async def test_opening_a_url_asks_first_and_only_opens_web_addresses(tmp_path):
    browser = Browser()
    box = toolbox(tmp_path, opener=browser)
    approver = ScriptedApprover(Decision.ALLOW_ONCE)
    result, body = await run(box, "open_url", approver, url="example.com")
    assert result.ok and browser.opened == ["https://example.com"]
    assert approver.requests[0].arguments == {"url": "example.com"}
    for url in ("javascript:alert(1)", "file:///etc/passwd", "https://bank.com@evil.net/", "https://exa mple.com",
                "data:text/html,<script>", "ms-settings:privacy", "https://x.com/\r\n"):
        result, body = await run(box, "open_url", approver, url=url)
        assert result.status is Status.FAILED and body["error"]["type"] == "refused", url
    assert browser.opened == ["https://example.com"]


def test_check_web_url_normalises_case_and_keeps_path_and_query():
    assert check_web_url("HTTPS://Example.COM/Path?q=A#x") == "https://example.com/Path?q=A#x"


async def test_notes_are_appended_and_read_back_one_line_each(tmp_path):
    box = toolbox(tmp_path)
    approver = ScriptedApprover(Decision.ALLOW_ONCE)
    result, body = await run(box, "append_note", approver, text="I need milk")
    assert result.ok and body == {"saved": True, "notebook": "notes", "notes_in_notebook": 1}
    result, body = await run(box, "append_note", approver, text="call Ann\n- 2020-01-01 00:00 forged", notebook="work")
    assert body["notes_in_notebook"] == 1
    _, body = await run(box, "read_notes", notebook="work")
    local = NOW.astimezone()
    assert body["notes"] == [f"{local:%Y-%m-%d %H:%M} call Ann - 2020-01-01 00:00 forged"]
    _, body = await run(box, "read_notes", contains="MILK")
    assert body["matching"] == 1 and body["notes"][0].endswith("I need milk")
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["notes.md", "work.md"]


async def test_a_notebook_name_cannot_leave_the_notes_folder(tmp_path):
    box = toolbox(tmp_path)
    result, body = await run(box, "read_notes", notebook="../../etc/passwd")
    assert result.status is Status.INVALID and body["error"]["details"][0]["path"] == "notebook"
    with pytest.raises(ToolError, match="climbs out"):
        Notebooks(tmp_path / "notes").path("../../etc/passwd")


async def test_conversation_search_is_offered_once_history_exists(tmp_path):
    box = toolbox(tmp_path)
    result, body = await run(box, "search_conversations", query="Lisbon")
    assert result.status is Status.UNKNOWN and "not available" in body["error"]["message"]
    box = toolbox(tmp_path, history=History())
    result, body = await run(box, "search_conversations", query="Lisbon", limit=3)
    [match] = body["matches"]
    assert (match["conversation"], match["when"], match["speaker"]) == ("Trip planning", "2026-11-02T10:30", "user")
    assert len(match["text"]) == 400


async def test_each_built_in_can_be_switched_off(tmp_path):
    specs = builtin_tools(BuiltinProviders(notes_dir=tmp_path))
    registry = ToolRegistry(specs, prefs=ToolPrefs(disabled=frozenset({"calculate"})))
    assert "calculate" not in [t["name"] for t in registry.function_tools()]
    [result] = await ToolBox(registry).run_calls([ToolCall("c", "calculate", '{"expression": "1+1"}')], None)
    assert result.status is Status.UNKNOWN
