"""``tools.toml``: the user's own HTTP and command tools, validated entry by entry.

Each ``[[tool]]`` entry is checked completely before it is used; every problem names the file, the
line and the field (``tools.toml:14: tool “weather”, field “url”: …``). A broken entry disables only
itself; the others load. A file that is not TOML at all loads no tools and says where it broke.
See :data:`TEMPLATE` (what "Edit…" creates) for the format.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desktop_app.log import get_logger
from desktop_app.settings.tools import PERMISSIONS, SECRET_NAME, TOOL_NAME
from desktop_app.tools.secrets import SecretSource
from desktop_app.tools.security import PLACEHOLDER, SECRET_PLACEHOLDER
from desktop_app.tools.spec import DEFAULT_MAX_OUTPUT, DEFAULT_RATE_PER_MINUTE, DEFAULT_TIMEOUT_S, Permission, ToolSpec
from desktop_app.tools.user_tools.command_tool import DEFAULT_ENV, CommandRunner, CommandToolConfig, argv_problems
from desktop_app.tools.user_tools.http_tool import HttpRunner, HttpToolConfig, header_templates_ok
from desktop_app.tools.user_tools.template import TEMPLATE

log = get_logger("tools")

FILE_NAME = "tools.toml"
COMMON = {"name", "type", "description", "permission", "side_effects", "timeout", "max_output", "rate_limit", "params"}
HTTP_KEYS = COMMON | {"method", "url", "allowed_hosts", "headers", "body", "max_redirects"}
COMMAND_KEYS = COMMON | {"argv", "cwd", "env", "path_params", "allowed_folders"}
PARAM_KEYS = {"type", "description", "required", "enum", "max_length", "pattern", "minimum", "maximum"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

__all__ = ["FILE_NAME", "TEMPLATE", "ToolFileProblem", "UserToolEntry", "UserTools", "ensure_tools_file", "load_user_tools"]


@dataclass(frozen=True, slots=True)
class ToolFileProblem:
    """One problem in the tools file, placed as exactly as the file allows."""

    file: str
    line: int
    tool: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"tool “{self.tool}”" if self.tool else "the file"
        what = f", field “{self.field}”" if self.field else ""
        return f"{self.file}:{self.line}: {where}{what}: {self.message}"


@dataclass(frozen=True, slots=True)
class UserToolEntry:
    """One ``[[tool]]`` entry: its tool when valid, else the problems that disabled it."""

    name: str
    line: int
    kind: str
    spec: ToolSpec | None
    problems: tuple[ToolFileProblem, ...] = ()
    secrets: tuple[str, ...] = ()  # names of the keyring secrets its headers use


@dataclass(frozen=True, slots=True)
class UserTools:
    """The loaded file: entries in file order, and problems with the file as a whole."""

    path: Path
    entries: tuple[UserToolEntry, ...] = ()
    problems: tuple[ToolFileProblem, ...] = ()

    @property
    def specs(self) -> list[ToolSpec]:
        return [e.spec for e in self.entries if e.spec is not None]

    @property
    def all_problems(self) -> list[ToolFileProblem]:
        return [*self.problems, *(p for e in self.entries for p in e.problems)]


def ensure_tools_file(folder: Path) -> Path:
    """The tools file in ``folder``, created from :data:`TEMPLATE` (examples, all commented) if missing."""
    from desktop_app.paths import ensure_dir

    path = ensure_dir(folder) / FILE_NAME
    if not path.exists():
        path.write_text(TEMPLATE, encoding="utf-8")
    return path


class _Invalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def load_user_tools(path: Path, secrets: SecretSource, *, reserved: frozenset[str] = frozenset()) -> UserTools:
    """Read and validate ``path`` (missing: no tools). ``reserved`` names are taken (the built-ins)."""
    if not path.exists():
        return UserTools(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return UserTools(path, problems=(ToolFileProblem(name, 0, "", "", f"the file cannot be read ({exc})"),))
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        problem = ToolFileProblem(name, int(match.group(1)) if match else 0, "", "", f"not valid TOML: {exc}")
        log.warning("! tools: %s", problem)
        return UserTools(path, problems=(problem,))
    lines = _locate(text)
    file_problems = [ToolFileProblem(name, lines.top.get(key, 1), "", key, "unknown section; tools are [[tool]] entries")
                     for key in document if key != "tool"]
    raw = document.get("tool", [])
    if not isinstance(raw, list):
        file_problems.append(ToolFileProblem(name, lines.top.get("tool", 1), "", "tool", "write each tool as [[tool]]"))
        raw = []
    entries: list[UserToolEntry] = []
    seen: set[str] = set()
    for index, table in enumerate(raw):
        where = lines.entries[index] if index < len(lines.entries) else {"": 1}
        tool_name = str(table.get("name", f"#{index + 1}")) if isinstance(table, dict) else f"#{index + 1}"
        kind = str(table.get("type", "")) if isinstance(table, dict) else ""
        problems: list[ToolFileProblem] = []
        spec: ToolSpec | None = None
        try:
            if tool_name in seen:
                raise _Invalid("name", "another tool in this file has this name")
            if tool_name in reserved:
                raise _Invalid("name", "a built-in tool already has this name")
            spec = _build(table, secrets, name)
        except _Invalid as exc:
            problems.append(ToolFileProblem(name, _line(where, exc.field), tool_name, exc.field, exc.message))
            log.warning("! tools: %s", problems[-1])
        seen.add(tool_name)
        headers = table.get("headers") if isinstance(table, dict) else None
        values = [v for v in headers.values() if isinstance(v, str)] if isinstance(headers, dict) else []
        needed = sorted({n for v in values for n in SECRET_PLACEHOLDER.findall(v)})
        entries.append(UserToolEntry(tool_name, where.get("", 1), kind, spec, tuple(problems), tuple(needed)))
    log.info("= tools: %s: %d tool(s) loaded, %d disabled", path, sum(e.spec is not None for e in entries),
             sum(e.spec is None for e in entries))
    return UserTools(path, tuple(entries), tuple(file_problems))


def _build(table: Any, secrets: SecretSource, file_name: str) -> ToolSpec:
    if not isinstance(table, dict):
        raise _Invalid("", "a tool must be a table")
    name = _get(table, "name", str, required=True)
    if not TOOL_NAME.match(name):
        raise _Invalid("name", "use 1–64 letters, digits, _ or -")
    kind = _get(table, "type", str, required=True)
    if kind not in ("http", "command"):
        raise _Invalid("type", "must be \"http\" or \"command\"")
    allowed = HTTP_KEYS if kind == "http" else COMMAND_KEYS
    for key in table:
        if key not in allowed:
            raise _Invalid(key, f"unknown field for a {kind} tool")
    description = _get(table, "description", str, required=True)
    if not description.strip() or len(description) > 1024:
        raise _Invalid("description", "describe in up to 1024 characters when the model should use the tool")
    schema, required = _params(table.get("params", {}))
    timeout = float(_number(table, "timeout", DEFAULT_TIMEOUT_S, 0.1, 120))
    max_output = int(_number(table, "max_output", DEFAULT_MAX_OUTPUT, 200, 1_000_000, integer=True))
    rate = int(_number(table, "rate_limit", DEFAULT_RATE_PER_MINUTE, 1, 600, integer=True))
    permission = _get(table, "permission", str)
    if permission is not None and permission not in PERMISSIONS:
        raise _Invalid("permission", f"must be one of {', '.join(PERMISSIONS)}")
    if kind == "http":
        config = _http(table, list(schema["properties"]), required)
        run: Any = HttpRunner(config, secrets, max_output_chars=max_output)
        default_effects = config.method != "GET"
    else:
        command = _command(table, schema, required)
        run = CommandRunner(command, max_output_chars=max_output)
        default_effects = True
    side_effects = _get(table, "side_effects", bool)
    return ToolSpec(
        name=name, description=description, parameters=schema, run=run, source=file_name,
        side_effecting=default_effects if side_effects is None else side_effects,
        permission=Permission(permission) if permission else None,
        timeout_s=timeout, max_output_chars=max_output, rate_per_minute=rate,
    )


def _http(table: Mapping[str, Any], params: list[str], required: set[str]) -> HttpToolConfig:
    method = _get(table, "method", str) or "GET"
    if method.upper() not in METHODS:
        raise _Invalid("method", f"must be one of {', '.join(METHODS)}")
    url = _get(table, "url", str, required=True)
    parts = urlsplit(SECRET_PLACEHOLDER.sub("", url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid("url", "must be an http:// or https:// address")
    if "{" in parts.netloc or "{" in parts.scheme:
        raise _Invalid("url", "placeholders are allowed in the path and query only, never in the host")
    if SECRET_PLACEHOLDER.search(url):
        raise _Invalid("url", "secrets go in headers, not in the URL (URLs end up in logs and histories)")
    for placeholder in PLACEHOLDER.findall(url):
        if placeholder not in params:
            raise _Invalid("url", f"{{{placeholder}}} is not one of the tool's params")
        if placeholder not in required:
            raise _Invalid(f"params.{placeholder}", "a parameter used in the URL must be required")
    own = parts.hostname + (f":{parts.port}" if parts.port else "")
    hosts = _get(table, "allowed_hosts", list) or [own]
    if not all(isinstance(h, str) and h.strip() and "/" not in h for h in hosts):
        raise _Invalid("allowed_hosts", "list host names such as \"api.example.com\" or \"*.example.com\"")
    from desktop_app.tools.security import host_allowed

    if not host_allowed(url.replace("{", "").replace("}", ""), hosts):
        raise _Invalid("allowed_hosts", f"the URL's own host {own} is not in the list")
    headers = _get(table, "headers", dict) or {}
    if not all(isinstance(v, str) for v in headers.values()):
        raise _Invalid("headers", "header values must be strings")
    for problem in header_templates_ok(headers, params):
        raise _Invalid("headers", problem)
    for secret in (s for v in headers.values() for s in SECRET_PLACEHOLDER.findall(v)):
        if not SECRET_NAME.match(secret):
            raise _Invalid("headers", f"{secret!r} is not a valid secret name")
    body = _get(table, "body", str) or ("json" if method.upper() in ("POST", "PUT", "PATCH") else "none")
    if body not in ("json", "none"):
        raise _Invalid("body", "must be \"json\" or \"none\"")
    redirects = int(_number(table, "max_redirects", 3, 0, 10, integer=True))
    return HttpToolConfig(method.upper(), url, tuple(hosts), dict(headers), body, redirects)


def _command(table: Mapping[str, Any], schema: Mapping[str, Any], required: set[str]) -> CommandToolConfig:
    params = list(schema["properties"])
    argv = table.get("argv")
    if isinstance(argv, str):
        raise _Invalid("argv", "argv is a list of words, not a shell command line: write [\"ls\", \"-l\"]")
    if not isinstance(argv, list):
        raise _Invalid("argv", "a list of strings is required")
    for problem in argv_problems(argv, params):
        raise _Invalid("argv", problem)
    cwd_text = _get(table, "cwd", str)
    cwd = Path(cwd_text).expanduser() if cwd_text else None
    if cwd is not None and not cwd.is_dir():
        raise _Invalid("cwd", f"{cwd} is not a folder")
    env = _get(table, "env", list)
    if env is not None and not all(isinstance(e, str) and _ENV_NAME.match(e) for e in env):
        raise _Invalid("env", "list environment variable names, such as [\"PATH\", \"HOME\"]")
    path_params = _get(table, "path_params", list) or []
    for param in path_params:
        if param not in params or schema["properties"][param].get("type") != "string":
            raise _Invalid("path_params", f"{param!r} is not one of the tool's string params")
    folders = [Path(f).expanduser() for f in (_get(table, "allowed_folders", list) or [])]
    if path_params and not folders:
        raise _Invalid("allowed_folders", "path params need the folders they may point into")
    for folder in folders:
        if not folder.is_dir():
            raise _Invalid("allowed_folders", f"{folder} is not a folder")
    return CommandToolConfig(tuple(argv), cwd, tuple(env) if env is not None else DEFAULT_ENV,
                             tuple(path_params), tuple(folders))


def _params(raw: Any) -> tuple[dict[str, Any], set[str]]:
    if not isinstance(raw, dict):
        raise _Invalid("params", "write each parameter as [tool.params.NAME]")
    properties: dict[str, Any] = {}
    required: set[str] = set()
    for pname, spec in raw.items():
        where = f"params.{pname}"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", pname) or not isinstance(spec, dict):
            raise _Invalid(where, "a parameter is a table named with letters, digits and _")
        for key in spec:
            if key not in PARAM_KEYS:
                raise _Invalid(f"{where}.{key}", "unknown field for a parameter")
        kind = spec.get("type")
        if kind not in ("string", "integer", "number", "boolean"):
            raise _Invalid(f"{where}.type", "must be string, integer, number or boolean")
        prop: dict[str, Any] = {"type": kind}
        if isinstance(spec.get("description"), str):
            prop["description"] = spec["description"]
        if "enum" in spec:
            if not isinstance(spec["enum"], list) or not spec["enum"]:
                raise _Invalid(f"{where}.enum", "must be a non-empty list")
            prop["enum"] = spec["enum"]
        if kind == "string":
            prop["maxLength"] = int(_number(spec, "max_length", 1000, 1, 100_000, integer=True, prefix=where))
            if "pattern" in spec:
                try:
                    re.compile(spec["pattern"])
                except (re.error, TypeError) as exc:
                    raise _Invalid(f"{where}.pattern", f"not a regular expression ({exc})") from None
                prop["pattern"] = spec["pattern"]
        for bound in ("minimum", "maximum"):
            if bound in spec:
                prop[bound] = _number(spec, bound, 0, -1e15, 1e15, prefix=where)
        properties[pname] = prop
        if spec.get("required", True) is True:
            required.add(pname)
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": sorted(required)}
    return schema, required


def _get(table: Mapping[str, Any], key: str, kind: type, *, required: bool = False) -> Any:
    value = table.get(key)
    if value is None:
        if required:
            raise _Invalid(key, "is required")
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _Invalid(key, f"must be {'a ' + kind.__name__ if kind is not list else 'a list'}")
    return value


def _number(table: Mapping[str, Any], key: str, default: float, low: float, high: float, *,
            integer: bool = False, prefix: str = "") -> float:
    value = table.get(key, default)
    where = f"{prefix}.{key}" if prefix else key
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise _Invalid(where, "must be a whole number" if integer else "must be a number")
    if not low <= value <= high:
        raise _Invalid(where, f"must be between {low:g} and {high:g}")
    return value


@dataclass
class _Lines:
    top: dict[str, int] = field(default_factory=dict)
    entries: list[dict[str, int]] = field(default_factory=list)


def _locate(text: str) -> _Lines:
    """Where each entry and each of its fields starts, from the text (tomllib gives no positions)."""
    found = _Lines()
    current: dict[str, int] | None = None
    prefix = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if re.match(r"^\[\[\s*tool\s*\]\]", stripped):
            current, prefix = {"": number}, ""
            found.entries.append(current)
            continue
        header = re.match(r"^\[\s*tool\.([^\]]+?)\s*\]", stripped)
        if header and current is not None:
            prefix = ".".join(part.strip().strip('"') for part in header.group(1).split("."))
            current.setdefault(prefix, number)
            continue
        if stripped.startswith("["):
            current, prefix = None, ""
            name = stripped.strip("[] ")
            found.top.setdefault(name.split(".")[0], number)
            continue
        key = re.match(r'^"?([A-Za-z0-9_.\- ]+?)"?\s*=', stripped)
        if key is None:
            continue
        path = ".".join(part.strip().strip('"') for part in key.group(1).split("."))
        if current is not None:
            current.setdefault(f"{prefix}.{path}" if prefix else path, number)
        else:
            found.top.setdefault(path.split(".")[0], number)
    return found


def _line(where: Mapping[str, int], field_path: str) -> int:
    parts = field_path.split(".") if field_path else []
    while parts:
        if ".".join(parts) in where:
            return where[".".join(parts)]
        parts.pop()
    return where.get("", 1)
