"""Secrets that tools use (API tokens for HTTP tools and MCP servers), kept in the OS keyring by name.

A user tool's header says ``Authorization = "Bearer {secret:weather}"`` and an MCP server names its
``token_name``; the value lives in the keyring under service :data:`SERVICE`, user name = the
secret's name, never in a settings or tools file. The same safety rule as API keys applies
(:mod:`desktop_app.settings.secrets`): a plaintext-file keyring is not used unless a test opts in.
Every value read is registered with the log redactor, so it never reaches a log line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import keyring
import keyring.backend
import keyring.errors

from desktop_app.errors import CredentialError
from desktop_app.log import get_logger, register_secret
from desktop_app.settings.secrets import BackendStatus, keyring_status, resolve_backend
from desktop_app.settings.tools import SECRET_NAME

log = get_logger("tools")

SERVICE = "parley-tools"


class SecretSource(Protocol):
    """Where tools get secrets by name."""

    def get(self, name: str) -> str | None:
        """The secret called ``name``, or None if it is not set."""
        ...


class ToolSecrets:
    """Tool secrets in the keyring. ``set``/``delete`` raise :class:`CredentialError` with one sentence."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None, *, allow_insecure: bool = False,
                 chosen_by: Callable[[], keyring.backend.KeyringBackend] | None = None) -> None:
        """``chosen_by`` gives the backend at the first use instead (the window: the API keys' store,
        which chooses lazily — choosing imports every backend, ~11 MiB, issue #23)."""
        self._requested = backend
        self._chosen_by = chosen_by
        self._allow_insecure = allow_insecure
        self._chosen: tuple[BackendStatus, keyring.backend.KeyringBackend] | None = None

    def _keyring(self) -> tuple[BackendStatus, keyring.backend.KeyringBackend]:
        if self._chosen is None:
            requested = (self._requested if self._requested is not None else
                         self._chosen_by() if self._chosen_by is not None else keyring.get_keyring())
            chosen, _ = resolve_backend(requested)
            self._chosen = (keyring_status(requested, allow_insecure=self._allow_insecure),
                            chosen if chosen is not None else requested)
        return self._chosen

    @property
    def status(self) -> BackendStatus:
        return self._keyring()[0]

    @property
    def _backend(self) -> keyring.backend.KeyringBackend:
        return self._keyring()[1]

    def get(self, name: str) -> str | None:
        if not self.status.usable or not SECRET_NAME.match(name):
            return None
        try:
            value = self._backend.get_password(SERVICE, name)
        except keyring.errors.KeyringError as exc:
            log.error("! tools: the keyring could not read the secret %r: %s", name, type(exc).__name__)
            return None
        register_secret(value)
        return value or None

    def set(self, name: str, value: str) -> None:
        if not SECRET_NAME.match(name):
            raise CredentialError(f"A secret name must be letters, digits, '.', '_' or '-', not “{name}”.")
        if not value or any(ch in value for ch in "\r\n\x00"):
            raise CredentialError("A secret must be one line of text.")
        if not self.status.usable:
            raise CredentialError(self.status.sentence.replace("API keys", "Tool secrets"))
        register_secret(value)
        try:
            self._backend.set_password(SERVICE, name, value)
        except keyring.errors.KeyringError as exc:
            raise CredentialError(f"The secret “{name}” could not be saved in the system keyring; unlock it and "
                                  "try again.", detail=type(exc).__name__) from None
        log.info("= tools: secret %r stored in the keyring", name)

    def delete(self, name: str) -> None:
        if not self.status.usable:
            return
        try:
            self._backend.delete_password(SERVICE, name)
        except keyring.errors.PasswordDeleteError:
            pass  # not stored: already the wanted state
        except keyring.errors.KeyringError as exc:
            raise CredentialError(f"The secret “{name}” could not be removed from the keyring.",
                                  detail=type(exc).__name__) from None


class MemorySecrets:
    """Secrets held in memory (headless runs, tests)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self._values = dict(values or {})
        for value in self._values.values():
            register_secret(value)

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def set(self, name: str, value: str) -> None:
        register_secret(value)
        self._values[name] = value
