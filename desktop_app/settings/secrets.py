"""API keys: in the OS keyring, from the environment, or held in memory for this session only.

Where a profile's key comes from, first match wins:

1. a **session-only** key the user typed this session (:meth:`KeyStore.set_session_key`) — never
   written anywhere;
2. the environment: ``OPENAI_API_KEY`` (OpenAI and OpenAI-minted ephemeral profiles) or
   ``AZURE_OPENAI_API_KEY`` (Azure) — overrides the stored key for this process;
3. the OS keyring (``keyring``), service ``parley``, user name = profile name.

A keyring backend counts as usable only if it keeps secrets safe: the ``fail``/``null`` backends are
not usable, and neither are ``keyrings.alt``'s plaintext-file backends, which ``keyring`` picks
*silently* when they are installed. Parley never stores a key in a plain file behind the user's
back: :meth:`KeyStore.set_key` raises :class:`CredentialError` with one sentence, and the UI offers a
session-only key instead. Tests opt in to a file backend with ``allow_insecure=True``.

Every key read or set goes through :func:`desktop_app.log.register_secret`, so it is redacted from
every log line. Keys never appear in exception text or ``repr``: :func:`mask_key` shows ``sk-…wxyz``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import NamedTuple, TypeVar

import keyring
import keyring.backend
import keyring.errors
from keyring.backends.chainer import ChainerBackend

from desktop_app.errors import CredentialError
from desktop_app.log import get_logger, redact, register_secret
from desktop_app.settings.profiles import Profile, mask_key

__all__ = ["SERVICE", "BackendStatus", "KeyStore", "backend_name", "keyring_status", "mask_key", "resolve_backend"]

log = get_logger("settings")

SERVICE = "parley"

_T = TypeVar("_T")


class BackendStatus(NamedTuple):
    """Whether keys can be stored safely, the backend's name, and one sentence for the user."""

    usable: bool
    name: str
    sentence: str


def backend_name(backend: keyring.backend.KeyringBackend) -> str:
    """``module.Class`` of a keyring backend, as the key store and the self-check name it."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _unsafe_reason(backend: keyring.backend.KeyringBackend) -> str | None:
    """Why ``backend`` cannot keep a key safe, or ``None`` if it can."""
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return "no secure keyring is available"
    if module.startswith("keyrings.alt"):
        # Plaintext files; the "encrypted" file backend asks for its password on a terminal.
        return "the only keyring available stores keys in a plain file"
    return None


def resolve_backend(
    backend: keyring.backend.KeyringBackend,
) -> tuple[keyring.backend.KeyringBackend | None, str | None]:
    """``(the backend keys go to, None)``, or ``(None, why none is safe)``.

    ``keyring``'s chainer (chosen whenever several backends exist, e.g. Secret Service *and*
    keyrings.alt on a developer's desktop) reads from every member and writes to the first that
    accepts. Parley talks to its highest-priority safe member directly instead, so no read or write
    ever touches a plaintext member.
    """
    if isinstance(backend, ChainerBackend):
        members = list(backend.backends)  # sorted by priority, highest first
        for member in members:
            if _unsafe_reason(member) is None:
                return member, None
        reasons = [_unsafe_reason(member) for member in members]
        return None, next((r for r in reasons if r and "plain file" in r), "no secure keyring is available")
    reason = _unsafe_reason(backend)
    return (None, reason) if reason else (backend, None)


def keyring_status(
    backend: keyring.backend.KeyringBackend | None = None, *, allow_insecure: bool = False
) -> BackendStatus:
    """``(usable, name, sentence)`` for ``backend`` (default: what ``keyring`` would use)."""
    backend = backend if backend is not None else keyring.get_keyring()
    chosen, reason = resolve_backend(backend)
    if chosen is not None:
        name = backend_name(chosen)
        return BackendStatus(True, name, f"API keys are stored in the system keyring ({name}).")
    name = backend_name(backend)
    if allow_insecure:
        return BackendStatus(True, name, f"API keys are stored in an insecure test keyring ({name}).")
    return BackendStatus(
        False,
        name,
        f"API keys cannot be saved because {reason} ({name}); enter the key for this session "
        "only, or install and unlock a system keyring (GNOME Keyring, KWallet).",
    )


def _clean_key(key: str) -> str:
    key = key.strip() if isinstance(key, str) else ""
    if not key or any(ch.isspace() for ch in key):
        raise CredentialError(
            "That does not look like an API key: paste it again without spaces or line breaks.",
            detail="rejected an empty key or one containing whitespace",
        )
    return key


class KeyStore:
    """Reads and writes profile keys (see the module docstring for the order of sources)."""

    def __init__(
        self,
        backend: keyring.backend.KeyringBackend | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        allow_insecure: bool = False,
    ) -> None:
        self._requested = backend
        self._allow_insecure = allow_insecure
        self._chosen: tuple[BackendStatus, keyring.backend.KeyringBackend] | None = None
        self._environ = os.environ if environ is None else environ
        self._session: dict[str, str] = {}

    def __repr__(self) -> str:
        session = {name: mask_key(key) for name, key in self._session.items()}
        backend = self._chosen[0].name if self._chosen is not None else "not chosen yet"
        return f"KeyStore(backend={backend!r}, session_keys={session!r})"

    def _keyring(self) -> tuple[BackendStatus, keyring.backend.KeyringBackend]:
        """The backend, chosen at its first use: choosing imports every backend keyring knows (the
        Secret Service's loads ``cryptography``, ~11 MiB), which a session whose key comes from the
        environment or this session — or the offline demo, which needs none — never pays for."""
        if self._chosen is None:
            requested = self._requested if self._requested is not None else keyring.get_keyring()
            chosen, _ = resolve_backend(requested)
            status = keyring_status(requested, allow_insecure=self._allow_insecure)
            self._chosen = (status, chosen if chosen is not None else requested)
        return self._chosen

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        """The keyring in use (tool secrets live in the same one, under their own service name);
        asking chooses it."""
        return self._keyring()[1]

    def backend_status(self) -> BackendStatus:
        """``(usable, name, sentence)`` for the settings dialog and the start-up log."""
        return self._keyring()[0]

    def source(self, profile: Profile) -> str | None:
        """Where :meth:`get_key` would find this profile's key: session, environment, keyring, or None."""
        if profile.name in self._session:
            return "session"
        if profile.key_env_var and self._environ.get(profile.key_env_var, "").strip():
            return "environment"
        if self.backend_status().usable and self._read_keyring(profile) is not None:
            return "keyring"
        return None

    def get_key(self, profile: Profile) -> str | None:
        """The key for ``profile``, or ``None`` if there is none anywhere."""
        key = self._session.get(profile.name)
        if key is None and profile.key_env_var:
            key = self._environ.get(profile.key_env_var, "").strip() or None
        if key is None and self.backend_status().usable:
            key = self._read_keyring(profile)
        register_secret(key)
        return key

    def set_key(self, profile: Profile, key: str) -> None:
        """Store ``key`` for ``profile`` in the keyring; :class:`CredentialError` if that is not safe."""
        key = _clean_key(key)
        register_secret(key)
        status = self.backend_status()
        if not status.usable:
            log.warning("! settings: key for %r not saved: %s", profile.name, status.name)
            raise CredentialError(status.sentence, detail=f"unsafe keyring backend {status.name}")
        self._backend_call("saved to", profile, lambda: self._keyring()[1].set_password(SERVICE, profile.name, key))
        self._session.pop(profile.name, None)  # the stored key is now the one to use
        log.info("= settings: key for profile %r stored in %s (%s)", profile.name, status.name, mask_key(key))

    def set_session_key(self, profile: Profile, key: str | None) -> None:
        """Hold ``key`` in memory for this process only (``None`` forgets it). Never written anywhere."""
        if key is None:
            self._session.pop(profile.name, None)
            return
        key = _clean_key(key)
        register_secret(key)
        self._session[profile.name] = key
        log.info("= settings: session-only key for profile %r (%s)", profile.name, mask_key(key))

    def delete_key(self, profile: Profile) -> None:
        """Forget the stored and the session key of ``profile`` (a missing key is not an error)."""
        self._session.pop(profile.name, None)
        if not self.backend_status().usable:
            return

        def delete() -> None:
            try:
                self._keyring()[1].delete_password(SERVICE, profile.name)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored: already the wanted state

        self._backend_call("removed from", profile, delete)
        log.info("= settings: key for profile %r deleted", profile.name)

    def _read_keyring(self, profile: Profile) -> str | None:
        key = self._backend_call("read from", profile, lambda: self._keyring()[1].get_password(SERVICE, profile.name))
        register_secret(key)
        return key or None

    def _backend_call(self, verb: str, profile: Profile, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except keyring.errors.KeyringError as exc:
            failure = self._keyring_error(verb, profile, exc)
        # Raised outside the handler so the backend's exception, which may quote its arguments,
        # is not chained onto ours (``from None`` would still keep it as ``__context__``).
        raise failure

    def _keyring_error(self, verb: str, profile: Profile, exc: Exception) -> CredentialError:
        # Backend messages do not carry the secret, but redact anyway: they may echo arguments.
        detail = redact(f"{type(exc).__name__}: {exc}")
        log.error("! settings: keyring failed for profile %r: %s", profile.name, detail)
        return CredentialError(
            f"The API key for '{profile.name}' could not be {verb} the system keyring; unlock the "
            "keyring and try again, or enter the key for this session only.",
            detail=detail,
        )
