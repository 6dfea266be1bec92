"""Command tools: a program run with an argv built from a template — never through a shell.

The program is fixed by the tools file; arguments only fill placeholders inside argv elements
(:func:`~desktop_app.tools.security.fill_argv`), parameters marked as paths are confined to the
allowed folders, the working directory is fixed, and the environment holds only the variables the
entry lists. Output is read up to the cap and the rest drained unread, so a program that prints
10 MB costs no memory. A cancelled or timed-out call kills the whole process group.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.log import get_logger
from desktop_app.tools.security import confine_path, fill_argv, filtered_env, scalar_text
from desktop_app.tools.spec import CallContext, ToolError

log = get_logger("tools")

_CHUNK = 65_536
#: Passed to a command when its entry lists no ``env``.
DEFAULT_ENV = ("PATH", "LANG", "LC_ALL", "HOME")


@dataclass(frozen=True, slots=True)
class CommandToolConfig:
    """A validated ``type = "command"`` entry of the tools file."""

    argv: tuple[str, ...]
    cwd: Path | None = None
    env: tuple[str, ...] = DEFAULT_ENV
    path_params: tuple[str, ...] = ()
    allowed_folders: tuple[Path, ...] = ()


async def _read_capped(stream: asyncio.StreamReader, limit: int) -> tuple[bytes, int]:
    """The first ``limit`` bytes of ``stream`` and its total length; the rest is read and dropped."""
    kept = bytearray()
    total = 0
    while chunk := await stream.read(_CHUNK):
        total += len(chunk)
        if len(kept) < limit:
            kept += chunk[: limit - len(kept)]
    return bytes(kept), total


class CommandRunner:
    """Runs one command tool: ``await runner(arguments, context)``."""

    def __init__(self, config: CommandToolConfig, *, max_output_chars: int, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.limit = max(100, max_output_chars - 500)  # room for the JSON around it and the note
        self._environ = environ

    def build(self, arguments: Mapping[str, Any]) -> tuple[list[str], dict[str, str], Path | None]:
        """argv, environment and working directory for ``arguments`` (every check applied)."""
        values = dict(arguments)
        base = self.config.cwd
        for name in self.config.path_params:
            if name in values:
                values[name] = str(confine_path(scalar_text(values[name]), list(self.config.allowed_folders), base=base))
        argv = fill_argv(self.config.argv, values)
        env = filtered_env(self.config.env, self._environ)
        program = shutil.which(argv[0], path=env.get("PATH", os.defpath)) if not os.path.isabs(argv[0]) else argv[0]
        if program is None:
            raise ToolError(f"The program {argv[0]!r} was not found.")
        return [program, *argv[1:]], env, base

    async def __call__(self, arguments: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        argv, env, cwd = self.build(arguments)
        log.info("> tools: run %s (cwd %s, env %s)", argv, cwd or "(default)", sorted(env))
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=sys.platform != "win32",
            )
        except OSError as exc:
            raise ToolError(f"The program could not be started ({exc.strerror or type(exc).__name__}).") from None
        assert process.stdout is not None and process.stderr is not None
        try:
            (out, out_total), (err, err_total) = await asyncio.gather(
                _read_capped(process.stdout, self.limit), _read_capped(process.stderr, 16_000))
            code = await process.wait()
        except BaseException:  # cancelled or timed out: the program and its children go too
            _kill(process)
            await process.wait()
            raise
        log.info("< tools: exit %s, %d bytes out, %d bytes err", code, out_total, err_total)
        result: dict[str, Any] = {"exit_code": code, "stdout": out.decode("utf-8", errors="replace")}
        if err:
            result["stderr"] = err.decode("utf-8", errors="replace")
        if out_total > len(out):
            result["note"] = f"The program printed {out_total:,} bytes; only the first {len(out):,} are shown."
        return result


def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    try:
        if sys.platform == "win32":
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def argv_problems(argv: Sequence[str], params: Sequence[str]) -> list[str]:
    """Problems with an argv template at load time."""
    from desktop_app.tools.security import placeholders

    problems = []
    if not argv or not all(isinstance(a, str) for a in argv):
        return ["argv must be a non-empty list of strings"]
    if placeholders(argv[0]):
        problems.append("the program (argv[0]) must be fixed, not a placeholder")
    if len(argv) == 1 and " " in argv[0].strip() and not os.path.exists(argv[0]):
        problems.append("argv is a list of words, not a shell command line: write [\"ls\", \"-l\"], not \"ls -l\"")
    for element in argv:
        for name in placeholders(element):
            if name not in params:
                problems.append(f"{{{name}}} in argv is not one of the tool's params")
    return problems
