"""Where the next connection goes: the active profile, its key, and (for ephemeral profiles) a
freshly minted client secret — as the controller's ``target()`` coroutine.

One place for the GUI and the headless mode, so both connect exactly alike. The embedded local
server's URL is passed in by the caller that started it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from desktop_app.errors import CredentialError
from desktop_app.log import get_logger, register_secret

from desktop_app.settings.ephemeral import EphemeralKeyProvider
from desktop_app.settings.profiles import EphemeralProfile, LocalProfile, Profile
from desktop_app.settings.secrets import KeyStore

log = get_logger("controller")

Target = Callable[[], Awaitable[tuple[str, dict[str, str]]]]


def make_target(
    profile: Profile,
    keys: KeyStore,
    model: str,
    *,
    local_url: str | None = None,
    session_config: dict[str, Any] | None = None,
) -> Target:
    """A coroutine factory returning ``(url, headers)`` for each (re)connection.

    The key is read at every connection, so a key replaced in the dialog applies on the next
    reconnect; an ephemeral profile's provider caches its secret and renews it before expiry.
    """
    if isinstance(profile, LocalProfile):
        if not local_url:
            raise CredentialError("The offline demo server is not running.", detail="no local_url")
        profile = profile.with_url(local_url)
    provider: EphemeralKeyProvider | None = None

    async def target() -> tuple[str, dict[str, str]]:
        nonlocal provider
        # Every profile that can carry a key sends the one it has (a custom endpoint's is optional:
        # a keyring that cannot be read then costs the key, not the connection).
        key = None
        if profile.sends_key:
            try:
                key = keys.get_key(profile)
            except CredentialError as exc:
                if profile.needs_key:
                    raise
                log.warning("! the keyring could not be read for %r (%s); connecting without a key",
                            profile.name, exc.detail or exc.user_message)
        if key:
            register_secret(key)
        if profile.needs_key and not key:
            raise CredentialError(
                f"No API key is set for “{profile.name}”. Add one with the key button beside the profile.",
                detail=f"profile {profile.name!r} has no key",
            )
        if isinstance(profile, EphemeralProfile):
            if provider is None:
                provider = EphemeralKeyProvider.for_profile(profile, key, session_config)
            secret, _expires = await provider.get()
            register_secret(secret)
            key = secret
        connect = profile.connect_target(key, model)
        return connect.url, dict(connect.headers)

    return target
