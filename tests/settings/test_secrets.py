"""KeyStore against real keyring backends: a file backend, the fail backend, and a Secret Service."""

from __future__ import annotations

import logging
import traceback

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.backends.chainer import ChainerBackend

from desktop_app.errors import CredentialError
from desktop_app.log import redact
from desktop_app.settings.profiles import AzureProfile, CustomProfile, EphemeralProfile, OpenAIProfile
from desktop_app.settings.secrets import SERVICE, KeyStore, keyring_status, mask_key

KEY = "sk-proj-Zq81mVx03LrT7bNc4kHw"
AZURE_KEY = "0123456789abcdef0123456789abcdef"
OPENAI = OpenAIProfile(name="OpenAI")
AZURE = AzureProfile(name="Azure", resource="contoso", deployment="rt")


def test_mask_key_shows_only_the_kind_and_the_last_four():
    assert mask_key(KEY) == "sk-…4kHw"
    assert mask_key("ek_68b0c3d2e1f0a9b8c7d6") == "ek_…c7d6"
    assert mask_key(AZURE_KEY) == "…cdef"
    assert mask_key("short") == "…" and mask_key(None) == "(none)"


def test_file_backend_round_trip_under_service_parley(file_keyring, tmp_path):
    store = KeyStore(file_keyring, environ={}, allow_insecure=True)
    assert store.get_key(OPENAI) is None
    store.set_key(OPENAI, f"  {KEY}\n")
    assert store.get_key(OPENAI) == KEY and store.source(OPENAI) == "keyring"
    assert file_keyring.get_password(SERVICE, "OpenAI") == KEY
    assert (tmp_path / "keyring_pass.cfg").exists()
    store.delete_key(OPENAI)
    assert store.get_key(OPENAI) is None
    store.delete_key(OPENAI)  # deleting a missing key is fine


def test_a_plaintext_backend_picked_silently_is_not_treated_as_secure(file_keyring, tmp_path):
    store = KeyStore(file_keyring, environ={})
    usable, name, sentence = store.backend_status()
    assert not usable and name == "keyrings.alt.file.PlaintextKeyring"
    assert "plain file" in sentence and "session only" in sentence
    with pytest.raises(CredentialError) as info:
        store.set_key(OPENAI, KEY)
    assert info.value.user_message == sentence
    assert not (tmp_path / "keyring_pass.cfg").exists()  # nothing was written


def test_no_backend_gives_a_clear_error_and_a_session_only_key_works():
    store = KeyStore(fail.Keyring(), environ={})
    usable, name, sentence = store.backend_status()
    assert (usable, name) == (False, "keyring.backends.fail.Keyring")
    assert sentence.startswith("API keys cannot be saved because no secure keyring is available")
    with pytest.raises(CredentialError, match="unsafe keyring backend"):
        store.set_key(OPENAI, KEY)
    assert store.get_key(OPENAI) is None and store.source(OPENAI) is None
    store.set_session_key(OPENAI, KEY)
    assert store.get_key(OPENAI) == KEY and store.source(OPENAI) == "session"
    assert KEY not in repr(store) and mask_key(KEY) in repr(store)
    store.set_session_key(OPENAI, None)
    assert store.get_key(OPENAI) is None


def test_environment_overrides_the_keyring_by_profile_kind(file_keyring):
    env = {"OPENAI_API_KEY": "sk-env-0000111122223333", "AZURE_OPENAI_API_KEY": AZURE_KEY}
    store = KeyStore(file_keyring, environ=env, allow_insecure=True)
    store.set_key(OPENAI, KEY)
    assert store.get_key(OPENAI) == env["OPENAI_API_KEY"] and store.source(OPENAI) == "environment"
    assert store.get_key(AZURE) == AZURE_KEY
    assert store.get_key(EphemeralProfile(name="E")) == env["OPENAI_API_KEY"]  # mints at OpenAI
    assert store.get_key(EphemeralProfile(name="Org", mint_url="https://t.example/token")) is None
    assert store.get_key(CustomProfile(name="C", url="ws://h/v1")) is None
    store.set_session_key(OPENAI, "sk-typed-444455556666")
    assert store.get_key(OPENAI) == "sk-typed-444455556666"  # typed this session beats the environment


def test_every_key_read_or_set_is_redacted_from_logs(file_keyring, caplog):
    store = KeyStore(file_keyring, environ={"AZURE_OPENAI_API_KEY": AZURE_KEY}, allow_insecure=True)
    with caplog.at_level(logging.DEBUG, logger="parley"):
        store.set_key(OPENAI, KEY)
        store.get_key(AZURE)
    assert redact(f"key={AZURE_KEY} other={KEY}") == "key=[REDACTED] other=[REDACTED]"
    assert all(KEY not in r.getMessage() and AZURE_KEY not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("bad", ["", "   ", "sk-abc def", None])
def test_malformed_keys_are_refused_without_echoing_them(file_keyring, bad):
    store = KeyStore(file_keyring, environ={}, allow_insecure=True)
    with pytest.raises(CredentialError) as info:
        store.set_key(OPENAI, bad)
    assert "does not look like an API key" in info.value.user_message


def test_keyring_failures_become_credential_errors_without_the_key():
    class Broken(fail.Keyring):
        def set_password(self, service, username, password):
            from keyring.errors import PasswordSetError

            raise PasswordSetError(f"dbus said no to {password}")

    store = KeyStore(Broken(), environ={})  # a backend from an unknown module counts as secure
    with pytest.raises(CredentialError) as info:
        store.set_key(OPENAI, KEY)
    assert "could not be saved to the system keyring" in info.value.user_message
    assert KEY not in str(info.value) and KEY not in repr(info.value) and KEY not in info.value.user_message
    assert info.value.__context__ is None  # the backend's error (it quoted the key) is not chained
    assert KEY not in "".join(traceback.format_exception(info.value))


def test_secret_service_round_trip(secret_service):
    store = KeyStore(secret_service, environ={})
    usable, name, _ = store.backend_status()
    assert usable and name == "keyring.backends.SecretService.Keyring"
    store.set_key(AZURE, AZURE_KEY)
    assert store.get_key(AZURE) == AZURE_KEY
    assert secret_service.get_password(SERVICE, "Azure") == AZURE_KEY
    store.delete_key(AZURE)
    assert store.get_key(AZURE) is None


def test_keys_never_reach_the_settings_file(file_keyring, tmp_path):
    from desktop_app.settings.store import SettingsStore

    settings = SettingsStore(tmp_path / "settings.ini")
    keys = KeyStore(file_keyring, environ={}, allow_insecure=True)
    settings.update(profiles=(OPENAI, AZURE), active_profile="Azure")
    keys.set_key(OPENAI, KEY)
    keys.set_key(AZURE, AZURE_KEY)
    keys.set_session_key(OPENAI, "sk-session-77778888999")
    stored = (tmp_path / "settings.ini").read_text()
    assert "contoso" in stored
    assert KEY not in stored and AZURE_KEY not in stored and "sk-session" not in stored


class MemoryKeyring(KeyringBackend):
    """A stand-in for an OS keyring (third-party module, so it counts as secure)."""

    priority = 1

    def __init__(self):
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        self.data.pop((service, username))


def chainer(*members):
    class Chain(ChainerBackend):
        backends = list(members)

    return Chain()


def test_a_chainer_is_bypassed_for_its_best_safe_member(file_keyring, tmp_path):
    safe = MemoryKeyring()
    store = KeyStore(chainer(safe, file_keyring), environ={})
    usable, name, _ = store.backend_status()
    assert usable and name.endswith("MemoryKeyring")
    store.set_key(OPENAI, KEY)
    assert safe.data == {(SERVICE, "OpenAI"): KEY} and not (tmp_path / "keyring_pass.cfg").exists()


def test_a_chainer_of_only_plaintext_members_is_not_usable(file_keyring):
    usable, _, sentence = keyring_status(chainer(file_keyring))
    assert not usable and "plain file" in sentence
    assert not keyring_status(chainer()).usable


def test_the_keyring_backend_is_chosen_only_when_a_stored_key_is_needed(monkeypatch):
    """Choosing the backend imports every backend keyring knows (the Secret Service's loads
    ``cryptography``, ~11 MiB of the window's memory): a key from the environment or from this
    session never pays for it (issue #23)."""
    import keyring as keyring_module

    chosen: list[int] = []
    backend = fail.Keyring()

    def get_keyring():
        chosen.append(1)
        return backend

    monkeypatch.setattr(keyring_module, "get_keyring", get_keyring)
    keys = KeyStore(environ={"OPENAI_API_KEY": "sk-from-the-environment-0123456789"})
    assert keys.get_key(OPENAI) == "sk-from-the-environment-0123456789"
    keys.set_session_key(AZURE, "azure-session-key-0123456789abcdef")
    assert keys.get_key(AZURE) == "azure-session-key-0123456789abcdef" and keys.source(AZURE) == "session"
    assert chosen == [] and "not chosen yet" in repr(keys)
    assert not keys.backend_status().usable  # the first question about the keyring itself chooses it, once
    assert keys.get_key(CustomProfile(name="Lab", url="ws://127.0.0.1:9/v1/realtime")) is None
    assert chosen == [1]
