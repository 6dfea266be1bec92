"""``parley --self-check`` from source: every section printed, exit status tells the truth."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from keyring.backends import fail

from desktop_app import selfcheck
from desktop_app.errors import CredentialError
from desktop_app.settings.profiles import OpenAIProfile
from desktop_app.settings.secrets import KeyStore
from tests.settings.test_secrets import MemoryKeyring, chainer
from tests.packaging import local_server_available

SECTIONS = ("versions:", "qt platform:", "audio devices:", "keyring:", "directories:", "local server:")
HAVE_LOCAL_SERVER = local_server_available()


def run_self_check(tmp_path, **env_extra):
    env = dict(os.environ, PARLEY_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen", **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", "--self-check"],
        capture_output=True, text=True, timeout=90, env=env,
    )


def test_self_check_prints_every_section_and_exits_by_its_findings(tmp_path):
    out = run_self_check(tmp_path)
    for title in SECTIONS:
        assert title in out.stdout, f"{title} missing from:\n{out.stdout}"
    assert "Qt 6." in out.stdout and "PySide6" in out.stdout and "PortAudio" in out.stdout
    assert "qt platform: offscreen" in out.stdout
    assert "Traceback" not in out.stderr
    if HAVE_LOCAL_SERVER:
        assert out.returncode == 0, out.stdout + out.stderr
        assert "local server: round-trip ok" in out.stdout
        assert "self-check: ok" in out.stdout
        assert " I parley." not in out.stderr  # INFO chatter goes to the log file, not the terminal
    else:
        assert out.returncode == 1
        assert "local server: not available (module missing)" in out.stdout
        assert out.stderr.strip().splitlines()[-1].startswith("parley self-check failed: local server")


def test_self_check_reports_directories_under_parley_home(tmp_path):
    out = run_self_check(tmp_path)
    assert f"logs      {tmp_path / 'logs' / 'parley.log'}" in out.stdout


def _plaintext(tmp_path):
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")
    return backend


def _encrypted(tmp_path):
    from keyrings.alt.file import EncryptedKeyring

    backend = EncryptedKeyring.__new__(EncryptedKeyring)  # its __init__ wants PyCryptodome, not installed
    backend.file_path = str(tmp_path / "crypted_pass.cfg")
    return backend


@pytest.mark.parametrize(
    ("make", "secure", "keys_go_to"),
    [
        (lambda tmp: fail.Keyring(), False, None),
        (_plaintext, False, None),
        # keyrings.alt's "encrypted" file asks for its password on a terminal: the key store refuses it
        (_encrypted, False, None),
        (lambda tmp: MemoryKeyring(), True, None),  # a third-party OS keyring
        (lambda tmp: chainer(MemoryKeyring(), _plaintext(tmp)), True, "MemoryKeyring"),
        (lambda tmp: chainer(_plaintext(tmp)), False, None),
    ],
    ids=["fail", "plaintext", "encrypted-file", "third-party", "chain-with-a-safe-member", "chain-of-plaintext"],
)
def test_the_self_check_calls_a_keyring_secure_exactly_where_the_app_saves_a_key(
    make, secure, keys_go_to, tmp_path, monkeypatch
):
    import keyring

    backend = make(tmp_path)
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    section = selfcheck.check_keyring()
    kind = f"{type(backend).__module__}.{type(backend).__qualname__}"
    assert section.summary == f"{kind} ({'secure' if secure else 'NOT secure'})"
    assert section.failure is None
    refused = "API keys cannot be stored safely here; set OPENAI_API_KEY instead"
    assert (refused in section.lines) is not secure
    if keys_go_to is not None:
        assert any(line.startswith("API keys go to ") and line.endswith(keys_go_to) for line in section.lines)
        assert [line for line in section.lines if line.startswith("via ")][0].endswith("MemoryKeyring")
    store = KeyStore(backend, environ={})
    if secure:
        store.set_key(OpenAIProfile(name="OpenAI"), "sk-proj-Zq81mVx03LrT7bNc4kHw")
        assert store.source(OpenAIProfile(name="OpenAI")) == "keyring"
    else:
        with pytest.raises(CredentialError):
            store.set_key(OpenAIProfile(name="OpenAI"), "sk-proj-Zq81mVx03LrT7bNc4kHw")
    assert not list(tmp_path.glob("*.cfg"))  # the self-check wrote nothing, nor did a refused save


def test_one_crashing_check_fails_the_run_but_the_others_still_print(monkeypatch, capsys):
    def boom():
        raise ValueError("kaput")

    def fine():
        return selfcheck.Section("fine", summary="ok")

    monkeypatch.setattr(selfcheck, "CHECKS", (boom, fine))
    assert selfcheck.run() == selfcheck.EXIT_FAILED
    captured = capsys.readouterr()
    assert "fine: ok" in captured.out
    assert captured.err.strip() == "parley self-check failed: boom: ValueError: kaput"
