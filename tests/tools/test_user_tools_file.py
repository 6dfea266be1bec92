"""tools.toml: validated at load, problems name the file, line and field; a broken entry disables itself."""

from __future__ import annotations

import textwrap

import pytest

from desktop_app.tools import ToolRegistry
from desktop_app.tools.builtins import BuiltinProviders, builtin_tools
from desktop_app.tools.secrets import MemorySecrets
from desktop_app.tools.user_tools import TEMPLATE, ensure_tools_file, load_user_tools

GOOD = """\
[[tool]]
name = "weather"
type = "http"
description = "Weather for a city."
url = "https://api.example.com/weather?city={city}"
[tool.headers]
Authorization = "Bearer {secret:weather}"
[tool.params.city]
type = "string"
max_length = 80
"""


def load(tmp_path, text: str, **kw):
    path = tmp_path / "tools.toml"
    path.write_text(text)
    return load_user_tools(path, MemorySecrets(), **kw)


def test_the_template_loads_no_tools_and_no_problems_and_its_examples_are_valid(tmp_path):
    path = ensure_tools_file(tmp_path / "tools")
    assert path.read_text() == TEMPLATE
    assert load_user_tools(path, MemorySecrets()).entries == ()
    lines = TEMPLATE.splitlines()
    examples = "\n".join(line[2:] if line.startswith("# ") and ("=" in line or line[2:].startswith("[")) else ""
                         for line in lines[lines.index("# [[tool]]"):])  # the examples, uncommented
    (tmp_path / "Documents").mkdir()
    loaded = load(tmp_path, examples.replace("~/Documents", str(tmp_path / "Documents")))
    assert [e.name for e in loaded.entries] == ["weather", "folder_size"] and loaded.all_problems == []


def test_a_valid_http_entry_becomes_a_strict_tool(tmp_path):
    loaded = load(tmp_path, GOOD)
    [spec] = loaded.specs
    assert (spec.name, spec.source, spec.side_effecting, spec.default_permission.value) == ("weather", "tools.toml",
                                                                                          False, "allow")
    assert spec.parameters == {"type": "object", "properties": {"city": {"type": "string", "maxLength": 80}},
                               "required": ["city"]}
    registry = ToolRegistry()
    registry.set_user_tools(loaded.specs)
    assert registry.function_tools()[0]["parameters"]["additionalProperties"] is False


BROKEN = [
    # (what is wrong, the entry's extra/changed lines, field, words, line of the field within the entry)
    ("no name", ("name", None), "name", "is required", 1),
    ("bad name", ("name", '"get weather"'), "name", "letters, digits", 2),
    ("unknown type", ("type", '"python"'), "type", '"http" or "command"', 3),
    ("typo field", ("urls", '"x"'), "urls", "unknown field for a http tool", 6),
    ("placeholder in host", ("url", '"https://{city}.example.com/"'), "url", "never in the host", 5),
    ("secret in URL", ("url", '"https://api.example.com/?k={secret:weather}"'), "url", "secrets go in headers", 5),
    ("unknown placeholder", ("url", '"https://api.example.com/{town}"'), "url", "{town} is not one of", 5),
    ("file scheme", ("url", '"file:///etc/passwd"'), "url", "http:// or https://", 5),
    ("host not allowed", ("allowed_hosts", '["other.example.com"]'), "allowed_hosts", "own host api.example.com", 6),
    ("bad method", ("method", '"TRACE"'), "method", "GET, POST", 6),
    ("timeout too long", ("timeout", "600"), "timeout", "between 0.1 and 120", 6),
    ("bad permission", ("permission", '"sometimes"'), "permission", "allow, ask, deny", 6),
    ("bool as number", ("max_output", "true"), "max_output", "whole number", 6),
]


@pytest.mark.parametrize(("case", "change", "field", "words", "line"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_entry_is_disabled_alone_with_file_line_and_field(tmp_path, case, change, field, words, line):
    key, value = change
    lines = GOOD.splitlines()
    index = next((i for i, text in enumerate(lines) if text.startswith(f"{key} =")), None)
    if index is not None:
        if value is None:
            del lines[index]
        else:
            lines[index] = f"{key} = {value}"
    else:
        lines.insert(5, f"{key} = {value}")
    other = GOOD.replace('"weather"', '"forecast"').replace("Weather", "Forecast")
    text = "\n".join(lines) + "\n\n" + other
    loaded = load(tmp_path, text)
    [problem] = loaded.all_problems
    assert (problem.file, problem.field, problem.line) == ("tools.toml", field, line), str(problem)
    assert words in problem.message
    assert str(problem).startswith(f"tools.toml:{line}: tool “")
    assert [s.name for s in loaded.specs] == ["forecast"]  # the other entry still loads
    assert loaded.entries[0].spec is None and loaded.entries[0].problems == (problem,)


def test_problems_in_params_name_the_parameter_line(tmp_path):
    text = GOOD.replace('type = "string"\nmax_length = 80', 'type = "strng"')
    [problem] = load(tmp_path, text).all_problems
    assert (problem.field, problem.line) == ("params.city.type", 9)
    text = GOOD + 'colour = "red"\n'
    [problem] = load(tmp_path, text).all_problems
    assert (problem.field, problem.line, problem.message) == ("params.city.colour", 11, "unknown field for a parameter")
    text = GOOD.replace('type = "string"', 'type = "string"\nrequired = false')
    [problem] = load(tmp_path, text).all_problems
    assert (problem.field, problem.message) == ("params.city", "a parameter used in the URL must be required")


def test_command_entries_are_checked(tmp_path):
    base = '[[tool]]\nname = "ls"\ntype = "command"\ndescription = "List."\n'
    cases = [
        ('argv = "ls -l ~"\n', "argv", "not a shell command line"),
        ('argv = ["{prog}"]\n[tool.params.prog]\ntype = "string"\n', "argv", "must be fixed"),
        ('argv = ["ls", "{dir}"]\n', "argv", "{dir} in argv is not one of"),
        ('argv = ["ls"]\ncwd = "/no/such/folder"\n', "cwd", "is not a folder"),
        ('argv = ["ls"]\nenv = ["PATH; rm"]\n', "env", "environment variable names"),
        ('argv = ["ls", "{p}"]\npath_params = ["p"]\n[tool.params.p]\ntype = "string"\n', "allowed_folders",
         "need the folders"),
    ]
    for body, field, words in cases:
        [problem] = load(tmp_path, base + body).all_problems
        assert problem.field == field and words in problem.message, (body, str(problem))


def test_names_clashing_with_each_other_or_a_built_in_are_refused(tmp_path):
    reserved = frozenset(s.name for s in builtin_tools(BuiltinProviders(notes_dir=tmp_path)))
    text = GOOD + "\n" + GOOD + "\n" + GOOD.replace('"weather"', '"calculate"')
    loaded = load(tmp_path, text, reserved=reserved)
    assert [str(p).split(": ", 1)[1] for p in loaded.all_problems] == [
        "tool “weather”, field “name”: another tool in this file has this name",
        "tool “calculate”, field “name”: a built-in tool already has this name",
    ]
    assert [p.line for p in loaded.all_problems] == [13, 24]
    assert len(loaded.specs) == 1


def test_a_file_that_is_not_toml_loads_nothing_and_says_where(tmp_path):
    loaded = load(tmp_path, GOOD + "\nname = = broken\n")
    [problem] = loaded.problems
    assert problem.line == 12 and "not valid TOML" in problem.message and loaded.entries == ()
    loaded = load(tmp_path, '[weather]\nurl = "x"\n')
    assert [str(p) for p in loaded.problems] == ["tools.toml:1: the file, field “weather”: unknown section; tools are [[tool]] entries"]
    assert load_user_tools(tmp_path / "missing.toml", MemorySecrets()).entries == ()
