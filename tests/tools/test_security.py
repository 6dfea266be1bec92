"""The injection table for the pure checks: every attempt is refused or made harmless."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from desktop_app.tools.security import (
    check_header_value, check_url_host, confine_path, fill_argv, fill_url, filtered_env, host_allowed,
)
from desktop_app.tools.spec import ToolError

TEMPLATE = "https://api.example.com/v1/items/{item}?q={query}"


@pytest.mark.parametrize("value", [
    "../../etc/passwd", "a/b", "x?admin=1", "x#frag", "@evil.com", "x&token=1", "%2e%2e/", "a b", "\r\nHost: evil",
    "https://evil.com/",
])
def test_url_placeholders_are_percent_encoded_and_cannot_change_the_urls_structure(value):
    url = fill_url(TEMPLATE, {"item": value, "query": value})
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname) == ("https", "api.example.com")
    assert parts.path.startswith("/v1/items/") and parts.path.count("/") == 3  # no new path segments
    assert parts.fragment == "" and parts.query.count("=") == 1 and "&" not in parts.query
    assert "\r" not in url and "\n" not in url and " " not in url
    assert "/../" not in url


def test_a_missing_placeholder_argument_is_refused():
    with pytest.raises(ToolError, match="needs the argument 'query'"):
        fill_url(TEMPLATE, {"item": "1"})


HOSTS = [
    ("https://api.example.com/x", ["api.example.com"], True),
    ("https://API.Example.com./x", ["api.example.com"], True),
    ("https://api.example.com:8443/x", ["api.example.com"], False),  # another port
    ("https://api.example.com:8443/x", ["api.example.com:8443"], True),
    ("https://evil.com/x", ["api.example.com"], False),
    ("https://api.example.com.evil.com/x", ["api.example.com"], False),
    ("https://eu.api.example.com/x", ["*.example.com"], True),
    ("https://example.com/x", ["*.example.com"], False),  # wildcard = subdomains only
    ("https://notexample.com/x", ["*.example.com"], False),
    ("https://example.com.evil.net/x", ["*.example.com"], False),
    ("http://127.0.0.1:8080/x", ["127.0.0.1:8080"], True),
    ("http://127.0.0.1:9090/x", ["127.0.0.1:8080"], False),
    ("http://localhost/x", ["localhost"], True),
    ("http://[::1]:8080/x", ["[::1]:8080"], True),
]


@pytest.mark.parametrize(("url", "allowed", "ok"), HOSTS)
def test_hosts_are_matched_exactly_against_the_allowlist(url, allowed, ok):
    assert host_allowed(url, allowed) is ok


@pytest.mark.parametrize(("url", "words"), [
    ("file:///etc/passwd", "Only http and https"),
    ("ftp://api.example.com/x", "Only http and https"),
    ("http://api.example.com/x", "only fetches https"),
    ("https://user:pw@api.example.com/x", "user name or password"),
    ("https://evil.com/x", "evil.com is not in this tool's allowed hosts"),
])
def test_check_url_host_refuses_other_schemes_credentials_and_hosts(url, words):
    with pytest.raises(ToolError, match=words) as caught:
        check_url_host(url, ["api.example.com"], allow_http=False)
    assert caught.value.kind == "refused"


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b"])
def test_header_values_with_cr_lf_or_nul_are_refused(value):
    with pytest.raises(ToolError, match="line break or NUL"):
        check_header_value("X-Token", value)
    assert check_header_value("X-Token", "Bearer abc.def") == "Bearer abc.def"


def test_argv_elements_stay_whole_and_a_shell_string_is_just_text():
    argv = fill_argv(["grep", "-r", "--", "{pattern}", "{folder}"], {"pattern": "; rm -rf ~", "folder": "$(reboot)"})
    assert argv == ["grep", "-r", "--", "; rm -rf ~", "$(reboot)"]
    assert fill_argv(["echo", "--name={name}"], {"name": "-x"}) == ["echo", "--name=-x"]


def test_an_argument_that_would_be_read_as_an_option_is_refused_unless_options_ended():
    with pytest.raises(ToolError, match="read as an option"):
        fill_argv(["ls", "{path}"], {"path": "--help"})
    assert fill_argv(["ls", "--", "{path}"], {"path": "--help"}) == ["ls", "--", "--help"]
    with pytest.raises(ToolError, match="NUL"):
        fill_argv(["ls", "--", "{path}"], {"path": "a\x00b"})
    with pytest.raises(ToolError, match="cannot be put"):
        fill_argv(["ls", "{path}"], {"path": ["a", "b"]})


@pytest.fixture
def folders(tmp_path: Path):
    inside = tmp_path / "allowed"
    (inside / "sub").mkdir(parents=True)
    (inside / "sub" / "file.txt").write_text("ok")
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "key.txt").write_text("nope")
    os.symlink(outside, inside / "escape")
    os.symlink(outside / "key.txt", inside / "key-link.txt")
    os.symlink(inside / "sub", inside / "inner-link")
    return inside, outside


def test_paths_inside_the_allowed_folder_resolve(folders):
    inside, _ = folders
    assert confine_path("sub/file.txt", [inside]) == (inside / "sub" / "file.txt").resolve()
    assert confine_path(str(inside / "sub"), [inside]) == (inside / "sub").resolve()
    assert confine_path("inner-link/file.txt", [inside]) == (inside / "sub" / "file.txt").resolve()  # a link inside


@pytest.mark.parametrize("attempt", [
    "../../etc/passwd", "sub/../../secret/key.txt", "sub/../file.txt", "..", "..\\..\\windows",
    "/etc/passwd", "escape/key.txt", "key-link.txt", "~/.ssh/id_rsa", "", "a\x00b",
])
def test_path_escapes_are_refused(folders, attempt):
    inside, _ = folders
    with pytest.raises(ToolError) as caught:
        confine_path(attempt, [inside])
    assert caught.value.kind == "refused"


def test_only_allowlisted_environment_variables_reach_a_command():
    environ = {"PATH": "/usr/bin", "HOME": "/home/u", "OPENAI_API_KEY": "sk-secret", "LANG": "C"}
    assert filtered_env(["PATH", "LANG", "MISSING"], environ) == {"PATH": "/usr/bin", "LANG": "C"}
