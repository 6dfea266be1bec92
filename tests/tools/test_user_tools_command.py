"""Command user tools: argv only, fixed cwd, filtered environment, confined paths, caps and kills."""

from __future__ import annotations

import json
import os
import select
import sys
import textwrap
from pathlib import Path

import pytest

from desktop_app.tools import Status, ToolBox, ToolCall, ToolRegistry
from desktop_app.tools.secrets import MemorySecrets
from desktop_app.tools.user_tools import load_user_tools

PY = json.dumps(sys.executable)


def command_tool(tmp_path: Path, code: str, *, extra: str = "", params: str = "", args: str = "") -> ToolBox:
    text = textwrap.dedent(f"""\
        [[tool]]
        name = "run"
        type = "command"
        description = "Run a small program."
        permission = "allow"
        argv = [{PY}, "-c", {json.dumps(code)}{args}]
        """) + textwrap.dedent(extra) + textwrap.dedent(params)
    path = tmp_path / "tools.toml"
    path.write_text(text)
    loaded = load_user_tools(path, MemorySecrets())
    assert loaded.all_problems == [], [str(p) for p in loaded.all_problems]
    return ToolBox(ToolRegistry(loaded.specs))


TEXT_PARAM = '[tool.params.text]\ntype = "string"\n'


async def call(box: ToolBox, **arguments):
    [result] = await box.run_calls([ToolCall("c1", "run", json.dumps(arguments))], None)
    return result, json.loads(result.output)


async def test_a_shell_string_in_an_argument_is_one_literal_argv_element(tmp_path):
    box = command_tool(tmp_path, "import sys; print(repr(sys.argv[1:]))", args=', "--", "{text}"', params=TEXT_PARAM)
    for attempt in ("; rm -rf ~", "$(reboot)", "`id`", "a && b | c > /tmp/x", "*"):
        result, body = await call(box, text=attempt)
        assert result.ok and body["exit_code"] == 0
        assert body["stdout"].strip() == repr(["--", attempt])


async def test_an_argument_that_looks_like_an_option_is_refused(tmp_path):
    box = command_tool(tmp_path, "import sys; print(sys.argv[1:])", args=', "{text}"', params=TEXT_PARAM)
    result, body = await call(box, text="--output=/etc/passwd")
    assert result.status is Status.FAILED and "read as an option" in body["error"]["message"]


async def test_the_environment_holds_only_the_listed_variables_and_the_cwd_is_fixed(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-never-leak-1234")
    monkeypatch.setenv("PARLEY_VISIBLE", "yes")
    work = tmp_path / "work"
    work.mkdir()
    box = command_tool(tmp_path, "import os, json; print(json.dumps([sorted(os.environ), os.getcwd()]))",
                       extra=f'env = ["PARLEY_VISIBLE"]\ncwd = {json.dumps(str(work))}\n')
    result, body = await call(box)
    names, cwd = json.loads(body["stdout"])
    assert "OPENAI_API_KEY" not in names and "PARLEY_VISIBLE" in names
    assert set(names) <= {"PARLEY_VISIBLE", "LC_CTYPE"}  # Python may add LC_CTYPE itself
    assert Path(cwd).resolve() == work.resolve()


@pytest.fixture
def folders(tmp_path):
    allowed = tmp_path / "docs"
    allowed.mkdir()
    (allowed / "todo.txt").write_text("milk")
    secret = tmp_path / "private"
    secret.mkdir()
    (secret / "key.txt").write_text("sk-private")
    os.symlink(secret / "key.txt", allowed / "link.txt")
    return allowed


@pytest.mark.parametrize(("attempt", "ok"), [
    ("todo.txt", True), ("../private/key.txt", False), ("../../etc/passwd", False), ("/etc/passwd", False),
    ("link.txt", False),
])
async def test_path_parameters_stay_inside_the_allowed_folders(tmp_path, folders, attempt, ok):
    box = command_tool(tmp_path, "import sys; print(open(sys.argv[1]).read())", args=', "{file}"',
                       extra=f'cwd = {json.dumps(str(folders))}\npath_params = ["file"]\n'
                             f'allowed_folders = [{json.dumps(str(folders))}]\n',
                       params='[tool.params.file]\ntype = "string"\n')
    result, body = await call(box, file=attempt)
    if ok:
        assert result.ok and body["stdout"].strip() == "milk"
    else:
        assert result.status is Status.FAILED and body["error"]["type"] == "refused"
        assert "sk-private" not in result.output


async def test_10_mb_of_output_is_capped_without_holding_it(tmp_path):
    box = command_tool(tmp_path, "import sys; sys.stdout.write('x' * 10_000_000); print('END', file=sys.stderr)",
                       extra="max_output = 3000\n")
    result, body = await call(box)
    assert result.ok and len(result.output) <= 3000
    assert body["stdout"] == "x" * 2500 and body["stderr"] == "END\n"
    assert body["note"] == "The program printed 10,000,000 bytes; only the first 2,500 are shown."


async def test_the_output_note_tells_the_model_how_much_was_printed(tmp_path):
    box = command_tool(tmp_path, "import sys; sys.stdout.write('y' * 100_000)", extra="max_output = 20000\n")
    result, body = await call(box)
    assert result.ok and not result.truncated
    assert body["note"] == "The program printed 100,000 bytes; only the first 19,500 are shown."
    assert body["stdout"] == "y" * 19_500


async def test_a_command_over_its_timeout_is_stopped(tmp_path):
    box = command_tool(tmp_path, "import time; time.sleep(60)", extra="timeout = 0.3\n")
    result, body = await call(box)
    assert result.status is Status.TIMEOUT and "did not finish within 0.3 s" in body["error"]["message"]


async def test_cancelling_a_command_kills_it_and_its_children(tmp_path):
    import asyncio

    fifo = tmp_path / "pids"
    os.mkfifo(fifo)
    code = ("import os, subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
            f"open({str(fifo)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}'); time.sleep(60)")
    box = command_tool(tmp_path, code, extra="timeout = 60\n")
    task = asyncio.ensure_future(box.run_calls([ToolCall("c1", "run", "{}")], None))
    pids = await asyncio.to_thread(lambda: [int(p) for p in fifo.read_text().split()])  # both are running now
    handles = [os.pidfd_open(pid) for pid in pids]  # held, so the pids cannot be reused meanwhile
    try:
        assert box.cancel() == 1
        [result] = await task
        assert result.status is Status.CANCELLED
        # A pidfd turns readable when its process has exited: wait for that, not for time to pass.
        exited = await asyncio.to_thread(lambda: [bool(select.select([fd], [], [], 10)[0]) for fd in handles])
        assert exited == [True, True]
    finally:
        for fd in handles:
            os.close(fd)


async def test_commands_run_under_the_apps_qasync_loop(tmp_path, qloop):
    box = command_tool(tmp_path, "print('hello from argv')")
    result, body = await call(box)
    assert result.ok and body["stdout"] == "hello from argv\n"


async def test_a_program_that_does_not_exist_is_one_sentence(tmp_path):
    (tmp_path / "tools.toml").write_text(textwrap.dedent("""\
        [[tool]]
        name = "run"
        type = "command"
        description = "d"
        permission = "allow"
        argv = ["parley-no-such-program-xyz"]
        """))
    box = ToolBox(ToolRegistry(load_user_tools(tmp_path / "tools.toml", MemorySecrets()).specs))
    result, body = await call(box)
    assert result.status is Status.FAILED and body["error"]["message"] == "The program 'parley-no-such-program-xyz' was not found."
