"""Where a connection goes and which key it carries (``controller/endpoint.py``)."""

from __future__ import annotations

import keyring.errors
import pytest

from desktop_app.controller.endpoint import make_target
from desktop_app.errors import CredentialError
from desktop_app.settings.profiles import CustomProfile, OpenAIProfile
from desktop_app.settings.secrets import KeyStore
from tests.gui.harness import MemoryKeyring


class LockedKeyring(MemoryKeyring):
    """A Secret Service that cannot be unlocked (its prompt was dismissed)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Prompt dismissed")


async def test_a_custom_endpoint_sends_its_stored_key():
    keys = KeyStore(MemoryKeyring(), environ={})
    profile = CustomProfile(name="Gateway", url="wss://gateway.example/v1/realtime")
    keys.set_key(profile, "sk-gateway-test-0123456789abcdef")
    url, headers = await make_target(profile, keys, "gpt-realtime-2.1")()
    assert headers == {"Authorization": "Bearer sk-gateway-test-0123456789abcdef"}
    assert "model=gpt-realtime-2.1" in url


async def test_a_custom_endpoint_without_a_key_connects_even_when_the_keyring_is_locked():
    keys = KeyStore(LockedKeyring(), environ={})
    profile = CustomProfile(name="Gateway", url="ws://127.0.0.1:8765/v1/realtime")
    url, headers = await make_target(profile, keys, "gpt-realtime-2.1")()
    assert headers == {} and url.startswith("ws://127.0.0.1:8765/")


async def test_a_profile_that_needs_its_key_says_why_the_keyring_failed():
    keys = KeyStore(LockedKeyring(), environ={})
    with pytest.raises(CredentialError) as failure:
        await make_target(OpenAIProfile(name="OpenAI"), keys, "gpt-realtime-2.1")()
    assert "could not be read from the system keyring" in failure.value.user_message
