"""The checks that stand between the model's arguments and the computer.

Each function either returns a safe value or raises :class:`ToolError` (kind ``refused``) with one
sentence the model can repeat. They are small and pure so the injection tables in the tests can hit
each one directly:

* :func:`fill_url` — ``{param}`` placeholders percent-encoded (``/``, ``?``, ``#``, ``@`` included),
  so an argument can never change the scheme, host, path structure or query of a URL;
* :func:`host_allowed` / :func:`check_url_host` — a URL's host (and port) against an allowlist; run
  again on every redirect hop by the HTTP tool;
* :func:`check_header_value` — CR, LF and NUL refused (header injection / response splitting);
* :func:`fill_argv` — a command as argv elements only, an argument never split and never read as an
  option (a value starting with ``-`` is refused unless ``--`` comes before it);
* :func:`confine_path` — a path inside one of the allowed folders: ``..`` refused outright, and the
  path resolved (symlinks followed) before it is compared, so a link cannot lead outside;
* :func:`filtered_env` — only the environment variables a command tool names.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote, urlsplit

from desktop_app.tools.spec import ToolError

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
SECRET_PLACEHOLDER = re.compile(r"\{secret:([A-Za-z0-9_.-]{1,64})\}")
_FORBIDDEN_HEADER_CHARS = ("\r", "\n", "\x00")


def refused(message: str) -> ToolError:
    return ToolError(message, kind="refused")


def scalar_text(value: Any) -> str:
    """The text of one scalar argument as it goes into a URL, header or argv element."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise refused(f"A {type(value).__name__} cannot be put into a URL, header or command line.")


def placeholders(template: str) -> list[str]:
    """The ``{name}`` placeholders of ``template`` in order (secrets excluded)."""
    return PLACEHOLDER.findall(template)


def fill_url(template: str, arguments: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced by the percent-encoded argument.

    Every reserved character is encoded (``safe=""``), so ``../`` cannot climb the path and
    ``?x=1#``/``@host`` cannot add a query, cut the URL or change its host.
    """
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in arguments:
            raise refused(f"The URL needs the argument {name!r}.")
        return quote(scalar_text(arguments[name]), safe="")

    return PLACEHOLDER.sub(replace, template)


def _host_port(url: str) -> tuple[str, int | None, str]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise refused(f"{url!r} has an invalid port.") from None
    return (parts.hostname or "").lower().rstrip("."), port, parts.scheme.lower()


def host_allowed(url: str, allowed_hosts: Iterable[str]) -> bool:
    """Whether ``url``'s host matches an entry: ``example.com``, ``*.example.com`` or ``host:port``.

    ``*.example.com`` matches subdomains only, never ``example.com.evil.net`` or ``notexample.com``.
    A port in the entry must match exactly; an entry without a port allows the scheme's default
    port only, so ``localhost`` does not open every local service.
    """
    host, port, scheme = _host_port(url)
    if not host:
        return False
    default = {"http": 80, "https": 443}.get(scheme)
    effective = port if port is not None else default
    for entry in allowed_hosts:
        entry = entry.strip().lower()
        pattern, _, entry_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
        wanted_port = int(entry_port) if entry_port else default
        if effective != wanted_port:
            continue
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and host != pattern[2:]:
                return True
        elif host == pattern.strip("[]"):
            return True
    return False


def _has_port(entry: str) -> bool:
    if entry.startswith("["):  # [::1]:8080
        return "]:" in entry
    return entry.count(":") == 1


def check_url_host(url: str, allowed_hosts: Sequence[str], *, allow_http: bool) -> None:
    """Refuse ``url`` unless it is http(s) to an allowed host (http only if the tool was declared so)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise refused(f"Only http and https addresses can be fetched, not {parts.scheme or 'none'}.")
    if parts.scheme == "http" and not allow_http:
        raise refused("This tool only fetches https addresses.")
    if parts.username is not None or parts.password is not None:
        raise refused("Addresses with a user name or password in them are refused.")
    if not host_allowed(url, allowed_hosts):
        host, port, _ = _host_port(url)
        shown = f"{host}:{port}" if port else host
        raise refused(f"The host {shown or '(none)'} is not in this tool's allowed hosts.")


def check_header_value(name: str, value: str) -> str:
    """``value`` if it holds no CR, LF or NUL (they would start a new header or end the request)."""
    if any(ch in value for ch in _FORBIDDEN_HEADER_CHARS):
        raise refused(f"The value of the header {name} contains a line break or NUL and was refused.")
    if len(value) > 8192:
        raise refused(f"The value of the header {name} is longer than 8192 characters.")
    return value


def fill_argv(template: Sequence[str], arguments: Mapping[str, Any]) -> list[str]:
    """The command line: each element of ``template`` with its placeholders filled, never split.

    The program (element 0) is fixed by the tool's author. A substituted value that starts with
    ``-`` would be read as an option (``--output=/etc/x``), so it is refused unless ``--`` (the end
    of options) comes earlier in the template. NUL cannot be passed in argv and is refused too.
    """
    argv: list[str] = []
    options_ended = False
    for index, element in enumerate(template):
        if index > 0 and element == "--":
            options_ended = True
        names = placeholders(element)
        filled = element
        for name in names:
            if name not in arguments:
                raise refused(f"The command needs the argument {name!r}.")
            value = scalar_text(arguments[name])
            if "\x00" in value:
                raise refused(f"The argument {name!r} contains a NUL character.")
            if value.startswith("-") and not options_ended and element.startswith("{"):
                raise refused(f"The argument {name!r} starts with '-' and would be read as an option.")
            filled = filled.replace("{" + name + "}", value)
        argv.append(filled)
    return argv


def confine_path(value: str, allowed_folders: Sequence[Path], *, base: Path | None = None) -> Path:
    """``value`` as a resolved path inside one of ``allowed_folders``; refused otherwise.

    ``..`` anywhere is refused before anything else (even where it would stay inside), because a
    path that climbs is never what a voice request means. Relative paths start at ``base`` (or the
    first folder). The result is resolved with every symlink followed, then compared with the
    resolved folders, so a link inside an allowed folder that points outside it is refused.
    """
    if not value or "\x00" in value:
        raise refused("The path is empty or contains a NUL character.")
    pure = PurePath(value)
    if ".." in pure.parts or ".." in value.replace("\\", "/").split("/"):
        raise refused(f"The path {value!r} climbs out of its folder with '..' and was refused.")
    if not allowed_folders:
        raise refused("This tool has no allowed folders.")
    start = base if base is not None else allowed_folders[0]
    candidate = Path(value).expanduser()
    if not candidate.is_absolute():
        candidate = start / candidate
    resolved = Path(os.path.realpath(candidate))
    for folder in allowed_folders:
        root = Path(os.path.realpath(folder.expanduser()))
        if resolved == root or resolved.is_relative_to(root):
            return resolved
    raise refused(f"The path {value!r} is outside the folders this tool may use.")


#: Always passed on Windows: programs fail to start without them.
_WINDOWS_ESSENTIAL = ("SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP")


def filtered_env(allowed: Iterable[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a command: only the variables named in ``allowed`` that are set."""
    source = os.environ if environ is None else environ
    names = list(allowed)
    if sys.platform == "win32":
        names += list(_WINDOWS_ESSENTIAL)
    return {name: source[name] for name in names if name in source}
