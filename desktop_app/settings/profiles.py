"""Endpoint profiles: where Parley connects and how it authenticates — never the key itself.

A profile is a small frozen dataclass persisted in the settings store (see :func:`profile_from_dict`
and :meth:`Profile.to_dict`); its API key lives in the keyring under the profile's name
(:mod:`desktop_app.settings.secrets`). Five kinds (realtime-protocol.md §1):

========== ============================================================= ===========================
kind       WebSocket URL                                                 auth header
========== ============================================================= ===========================
openai     ``wss://api.openai.com/v1/realtime?model=M``                  ``Authorization: Bearer``
azure      ``wss://<resource>.openai.azure.com/openai/v1/realtime``       ``api-key`` (or Bearer for
           ``?model=<deployment>``                                        an Entra token)
custom     any ``ws(s)://`` URL (self-hosted, another ``parley serve``)   Bearer, only if a key is set
local      the embedded server's URL, filled in at runtime               none
ephemeral  ``wss://api.openai.com/v1/realtime?model=M`` with a            ``Authorization: Bearer
           short-lived client secret minted first (``ephemeral.py``)      ek_…``
========== ============================================================= ===========================

:meth:`Profile.connect_target` turns a profile, a key and a model into a :class:`ConnectTarget`
(URL + headers) for the transport. Its ``repr`` masks every header value.

Every profile names its transport (``transport``): ``websocket`` (the default) or ``webrtc``, a call
set up at the same host's ``…/realtime/calls`` (OpenAI's ``/v1/realtime/calls``; Azure's GA path
``/openai/v1/realtime/calls`` on the resource, with the same ``api-key`` or Entra token), see
``desktop_app/transport/calls.py``.

A GPT-Live model (``gpt-live-*``) connects to the same server's ``…/live/sessions`` with no query
(:func:`live_session_url`; OpenAI ``wss://api.openai.com/v1/live/sessions``, Azure
``wss://<resource>.openai.azure.com/openai/v1/live/sessions``); an ephemeral profile cannot (Live has
no client secrets).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from desktop_app.errors import ConfigError, CredentialError
from desktop_app.log import register_secret
from desktop_app.realtime.models import is_live_model

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
OPENAI_LIVE_URL = "wss://api.openai.com/v1/live/sessions"
OPENAI_CLIENT_SECRETS_URL = "https://api.openai.com/v1/realtime/client_secrets"
OPENAI_KEY_ENV = "OPENAI_API_KEY"
AZURE_KEY_ENV = "AZURE_OPENAI_API_KEY"

_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_SENSITIVE_HEADERS = ("authorization", "api-key")
#: How a profile's conversations travel; the first is the default (until WebRTC measures better).
TRANSPORTS = ("websocket", "webrtc")


def mask_key(key: str | None) -> str:
    """A form of ``key`` safe to show or log: ``sk-…wxyz``, ``ek_…wxyz``; short keys show nothing."""
    if not key:
        return "(none)"
    prefix = ""
    for known in ("sk-", "ek_"):
        if key.startswith(known):
            prefix = known
    tail = key[-4:] if len(key) >= 12 else ""
    return f"{prefix}…{tail}"


def _mask_header(name: str, value: str) -> str:
    if name.lower() not in _SENSITIVE_HEADERS:
        return value
    scheme, _, credential = value.partition(" ")
    if credential and scheme.lower() in ("bearer", "basic"):
        return f"{scheme} {mask_key(credential)}"
    return mask_key(value)


@dataclass(frozen=True, slots=True)
class ConnectTarget:
    """Where the transport connects and which headers it sends. ``repr``/``str`` mask credentials."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = {name: _mask_header(name, value) for name, value in self.headers.items()}
        return f"ConnectTarget(url={self.url!r}, headers={shown!r})"

    __str__ = __repr__


def _with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to its query string, keeping parameters already there."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def live_session_url(url: str) -> str:
    """GPT-Live's endpoint on the server of ``url``: ``…/realtime`` becomes ``…/live/sessions`` (OpenAI, Azure,
    the local server all serve both there), and no ``model`` query (Live takes it in ``session.start``)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/realtime"):
        path = path[: -len("/realtime")] + "/live/sessions"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "model"]
    return urlunsplit(parts._replace(path=path, query=urlencode(query, quote_via=quote)))


def _require_key(key: str | None, profile: Profile) -> str:
    if not key:
        raise CredentialError(
            f"The endpoint “{profile.name}” needs an API key, and none is stored for it; enter one.",
            detail=f"no key for profile {profile.name!r} ({profile.kind})",
        )
    register_secret(key)
    return key


def _check_ws_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"{what} must be a ws:// or wss:// URL with a host (got {url!r})")


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """One named endpoint. Subclasses fix ``kind``; none of them ever holds a key."""

    kind: ClassVar[str] = ""
    #: A profile for this run only (``--url``): its key is held in memory, never stored.
    temporary: ClassVar[bool] = False
    name: str
    # Stored only once chosen, so a later change of the default reaches those who never chose.
    transport: str = field(default=TRANSPORTS[0], metadata={"omit_default": True})

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a profile needs a non-empty name")
        if self.name != self.name.strip() or len(self.name) > 64:
            raise ValueError(f"profile name {self.name!r} must be trimmed and at most 64 characters")
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)} (got {self.transport!r})")

    @property
    def needs_key(self) -> bool:
        """Whether connecting is impossible without a stored (or environment) key."""
        return True

    @property
    def key_env_var(self) -> str | None:
        """The environment variable that overrides this profile's stored key for the process."""
        return None

    @property
    def sends_key(self) -> bool:
        """Whether a stored key is sent when there is one (optional for a custom endpoint; never
        for the embedded local server)."""
        return True

    def connect_target(self, key: str | None, model: str) -> ConnectTarget:
        """The URL and headers for a WebSocket to ``model`` with ``key``."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The persisted form: ``kind`` plus the fields (runtime-only fields left out)."""
        data: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not f.metadata.get("runtime") and not (f.metadata.get("omit_default") and value == f.default):
                data[f.name] = value
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAIProfile(Profile):
    """OpenAI's own endpoint with a long-lived API key (``Authorization: Bearer sk-…``)."""

    kind: ClassVar[str] = "openai"
    organization: str = ""
    project: str = ""

    @property
    def key_env_var(self) -> str | None:
        return OPENAI_KEY_ENV

    def connect_target(self, key: str | None, model: str) -> ConnectTarget:
        headers = {"Authorization": f"Bearer {_require_key(key, self)}"}
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        if is_live_model(model):
            return ConnectTarget(OPENAI_LIVE_URL, headers)
        return ConnectTarget(_with_query(OPENAI_REALTIME_URL, model=model), headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureProfile(Profile):
    """Azure OpenAI (GA path). ``resource`` is the resource name or a full host name.

    The URL's ``model`` is the *deployment* name. ``auth`` is ``api_key`` (``api-key`` header) or
    ``entra`` (the key is a Microsoft Entra access token, sent as ``Authorization: Bearer``).
    ``transcription_deployment`` is what Azure wants in ``audio.input.transcription.model``.
    """

    kind: ClassVar[str] = "azure"
    resource: str
    deployment: str = ""
    auth: str = "api_key"
    transcription_deployment: str = ""

    def __post_init__(self) -> None:
        Profile.__post_init__(self)
        labels = self.resource.split(".") if isinstance(self.resource, str) else [""]
        if not all(_HOST_LABEL.match(label) for label in labels):
            raise ValueError(f"Azure resource {self.resource!r} is not a resource or host name")
        if self.auth not in ("api_key", "entra"):
            raise ValueError(f"Azure auth must be 'api_key' or 'entra' (got {self.auth!r})")

    @property
    def host(self) -> str:
        return self.resource if "." in self.resource else f"{self.resource}.openai.azure.com"

    @property
    def key_env_var(self) -> str | None:
        return AZURE_KEY_ENV

    def connect_target(self, key: str | None, model: str) -> ConnectTarget:
        key = _require_key(key, self)
        headers = {"api-key": key} if self.auth == "api_key" else {"Authorization": f"Bearer {key}"}
        url = _with_query(f"wss://{self.host}/openai/v1/realtime", model=self.deployment or model)
        return ConnectTarget(live_session_url(url) if is_live_model(model) else url, headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomProfile(Profile):
    """Any Realtime-compatible server at ``url``; a key is optional (sent as Bearer when set)."""

    kind: ClassVar[str] = "custom"
    url: str

    def __post_init__(self) -> None:
        Profile.__post_init__(self)
        _check_ws_url(self.url, "A custom endpoint")

    @property
    def needs_key(self) -> bool:
        return False

    def connect_target(self, key: str | None, model: str) -> ConnectTarget:
        headers = {}
        if key:
            register_secret(key)
            headers["Authorization"] = f"Bearer {key}"
        url = self.url if "model=" in urlsplit(self.url).query else _with_query(self.url, model=model)
        return ConnectTarget(live_session_url(url) if is_live_model(model) else url, headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalProfile(Profile):
    """The embedded local server. Its URL is known only once the server runs: see :meth:`with_url`."""

    kind: ClassVar[str] = "local"
    url: str = field(default="", metadata={"runtime": True})

    @property
    def needs_key(self) -> bool:
        return False

    @property
    def sends_key(self) -> bool:
        return False

    def with_url(self, url: str) -> LocalProfile:
        """This profile pointed at the running server (never persisted)."""
        _check_ws_url(url, "The local server")
        return dataclasses.replace(self, url=url)

    def connect_target(self, key: str | None, model: str) -> ConnectTarget:
        if not self.url:
            raise ConfigError(
                "The local server is not running yet; start it before connecting.",
                detail=f"LocalProfile {self.name!r} has no runtime URL",
            )
        url = _with_query(self.url, model=model)
        return ConnectTarget(live_session_url(url) if is_live_model(model) else url, {})


@dataclass(frozen=True, slots=True, kw_only=True)
class EphemeralProfile(Profile):
    """Connect with a short-lived client secret (``ek_…``) minted just before.

    ``mint_url`` empty: Parley mints at OpenAI's ``/v1/realtime/client_secrets`` with the profile's
    long-lived key. Otherwise it is an organisation's token URL (POST; the long key, if any, is sent as
    Bearer). ``ttl_s`` is the secret's lifetime (10–7200 s); ``realtime_url`` where the secret is used.
    """

    kind: ClassVar[str] = "ephemeral"
    mint_url: str = ""
    ttl_s: int = 600
    realtime_url: str = OPENAI_REALTIME_URL

    def __post_init__(self) -> None:
        Profile.__post_init__(self)
        if self.mint_url and urlsplit(self.mint_url).scheme not in ("http", "https"):
            raise ValueError(f"a token URL must be http(s) (got {self.mint_url!r})")
        if type(self.ttl_s) is not int or not 10 <= self.ttl_s <= 7200:
            raise ValueError(f"client secret lifetime must be 10–7200 s (got {self.ttl_s!r})")
        _check_ws_url(self.realtime_url, "The realtime URL")

    @property
    def effective_mint_url(self) -> str:
        return self.mint_url or OPENAI_CLIENT_SECRETS_URL

    @property
    def needs_key(self) -> bool:
        return not self.mint_url  # an organisation's token URL may authenticate otherwise

    @property
    def key_env_var(self) -> str | None:
        return OPENAI_KEY_ENV if not self.mint_url else None

    def connect_target(self, key: str | None, model: str) -> ConnectTarget:
        """``key`` is the minted client secret here, not the long-lived key."""
        if is_live_model(model):
            raise ConfigError("GPT-Live has no short-lived client secrets; connect with the OpenAI profile and your "
                              "API key to use it.", detail=f"ephemeral profile {self.name!r} with {model}")
        secret = _require_key(key, self)
        return ConnectTarget(
            _with_query(self.realtime_url, model=model), {"Authorization": f"Bearer {secret}"}
        )


PROFILE_KINDS: Mapping[str, type[Profile]] = {
    cls.kind: cls for cls in (OpenAIProfile, AzureProfile, CustomProfile, LocalProfile, EphemeralProfile)
}

DEFAULT_PROFILES: tuple[Profile, ...] = (OpenAIProfile(name="OpenAI"), LocalProfile(name="Local server"))


def profile_from_dict(data: Any) -> Profile:
    """Rebuild a profile from :meth:`Profile.to_dict` output; ``ValueError`` says what is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError(f"a profile must be an object (got {type(data).__name__})")
    kind = data.get("kind")
    cls = PROFILE_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown profile kind {kind!r} (known: {', '.join(PROFILE_KINDS)})")
    allowed = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("runtime")}
    unknown = set(data) - set(allowed) - {"kind"}
    if unknown:
        raise ValueError(f"unknown {kind} profile fields: {', '.join(sorted(unknown))}")
    for name, value in data.items():
        if name == "kind":
            continue
        expected = int if name == "ttl_s" else str
        if type(value) is not expected:
            raise ValueError(f"profile field {name!r} must be {expected.__name__} (got {value!r})")
    try:
        return cls(**{k: v for k, v in data.items() if k != "kind"})
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"{kind} profile: {exc}") from None
