"""``parley --self-check`` from source: every section printed, exit status tells the truth."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from desktop_app import selfcheck
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


@pytest.mark.parametrize(
    ("backend", "secure"),
    [
        ("keyring.backends.fail.Keyring", False),
        ("keyrings.alt.file.PlaintextKeyring", False),
        ("keyrings.alt.file.EncryptedKeyring", True),
        ("keyring.backends.SecretService.Keyring", True),
    ],
)
def test_keyring_security_is_judged_by_backend_kind(backend, secure):
    module, name = backend.rsplit(".", 1)
    fake = type(name, (), {"__module__": module})()
    assert selfcheck._keyring_is_secure(fake) is secure


def test_a_chained_keyring_is_secure_when_any_member_is():
    plain = type("PlaintextKeyring", (), {"__module__": "keyrings.alt.file"})()
    macos = type("Keyring", (), {"__module__": "keyring.backends.macOS"})()
    chain = type("ChainerBackend", (), {"__module__": "keyring.backends.chainer"})()
    chain.backends = [plain, macos]
    assert selfcheck._keyring_is_secure(chain)
    chain.backends = [plain]
    assert not selfcheck._keyring_is_secure(chain)


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
