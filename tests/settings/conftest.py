"""Fixtures for the settings tests: keyring backends (file, fail, a real Secret Service)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


@pytest.fixture
def file_keyring(tmp_path):
    """keyrings.alt's plaintext file backend, its file in the test's temp dir (tests only)."""
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")
    return backend


@pytest.fixture
def secret_service(tmp_path, monkeypatch):
    """A private D-Bus session with an unlocked gnome-keyring; yields the SecretService backend.

    Skips when the binaries are missing (Debian: ``dbus``, ``gnome-keyring``), except on CI
    (``CI=true``), where their absence is a failure.
    """
    missing = [name for name in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(name) is None]
    if missing:
        reason = f"Secret Service test needs {' and '.join(missing)} (Debian packages: dbus gnome-keyring)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from jeepney import MatchRule, message_bus
    from jeepney.io.blocking import open_dbus_connection
    from keyring.backends.SecretService import Keyring

    runtime, home = tmp_path / "run", tmp_path / "home"
    runtime.mkdir(mode=0o700)
    home.mkdir()
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(home),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    daemon = None
    try:
        address = bus.stdout.readline().strip()
        assert address, "dbus-daemon printed no address"
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        with open_dbus_connection(address) as conn:
            # Wait for the event "org.freedesktop.secrets got an owner", subscribed before the start.
            rule = MatchRule(type="signal", sender="org.freedesktop.DBus", interface="org.freedesktop.DBus",
                             member="NameOwnerChanged", path="/org/freedesktop/DBus")
            rule.add_arg_condition(0, "org.freedesktop.secrets")
            conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5)
            with conn.filter(rule) as owners:
                daemon = subprocess.Popen(
                    ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--foreground"],
                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    text=True, env=env,
                )
                daemon.stdin.write("test-password")
                daemon.stdin.close()
                conn.recv_until_filtered(owners, timeout=10)
        yield Keyring()
    finally:
        for proc in (daemon, bus):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if bus.stdout:
            bus.stdout.close()
