"""The model list as the endpoint knows it: ``GET /v1/models``, filtered to realtime, live and
transcription models, cached in Parley's data folder.

The known models (:mod:`desktop_app.realtime.models`) are always offered; a refresh adds the ids the
account can use that Parley does not know yet (they show "price unknown"). Offline-safe: a failed
refresh leaves the cache as it was and says why in one sentence; a damaged cache reads as no cache.

Which endpoint: OpenAI (and ephemeral profiles minting at OpenAI) ask ``https://api.openai.com/v1/models``;
a custom ``ws(s)://host/…/realtime`` endpoint asks ``http(s)://host/…/models``. Azure lists deployments,
not models, and the offline demo serves only the known models: neither is refreshed.

The HTTP call is stdlib ``urllib`` in ``asyncio.to_thread`` with redirects refused (the key must not be
forwarded elsewhere), as in :mod:`.ephemeral`.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from desktop_app import __version__, paths
from desktop_app.errors import AuthError, ConnectionLost, CredentialError, RemoteError
from desktop_app.log import get_logger, redact, register_secret
from desktop_app.realtime.models import KNOWN_TRANSCRIPTION_MODELS, VOICE_MODEL_IDS, is_valid_model_id
from desktop_app.settings.ephemeral import _network_reason
from desktop_app.settings.profiles import CustomProfile, EphemeralProfile, OpenAIProfile, Profile
from desktop_app.settings.secrets import KeyStore

log = get_logger("settings")

OPENAI_MODELS_URL = "https://api.openai.com/v1/models"
CACHE_FILE = "models.json"
CACHE_VERSION = 1
_NOT_REALTIME = ("transcribe", "whisper", "tts", "translat", "diarize", "search", "embedding")


def default_cache_path() -> Path:
    """``models.json`` in Parley's data folder (``PARLEY_HOME`` moves it)."""
    return paths.data_dir() / CACHE_FILE


@dataclass(frozen=True, slots=True)
class ModelList:
    """Model ids an endpoint offers, split by use; ``fetched_at`` is unix seconds (0: never fetched)."""

    realtime: tuple[str, ...] = ()
    transcription: tuple[str, ...] = ()
    source: str = ""
    fetched_at: float = 0.0
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def realtime_choices(self) -> tuple[str, ...]:
        """The picker's list: known models first (in their order), then new ids alphabetically."""
        return _merge(VOICE_MODEL_IDS, self.realtime)

    def transcription_choices(self) -> tuple[str, ...]:
        return _merge(KNOWN_TRANSCRIPTION_MODELS, self.transcription)


def _merge(known: Sequence[str], fetched: Iterable[str]) -> tuple[str, ...]:
    return tuple(known) + tuple(sorted(set(fetched) - set(known)))


def split_model_ids(ids: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(realtime, transcription)`` ids among everything ``/v1/models`` lists.

    Realtime: ids with "realtime", and the ``gpt-live-*`` / ``gpt-audio*`` voice models, minus
    transcription, speech synthesis and translation models. Transcription: "transcribe" and "whisper"
    ids (the diarizing model is left out, as in the known list).
    """
    realtime, transcription = set(), set()
    for model_id in ids:
        if not is_valid_model_id(model_id):
            continue
        low = model_id.lower()
        if ("transcribe" in low or "whisper" in low) and "diarize" not in low:
            transcription.add(model_id)
        elif ("realtime" in low or low.startswith(("gpt-live", "gpt-audio"))) and not any(
                word in low for word in _NOT_REALTIME):
            realtime.add(model_id)
    return tuple(sorted(realtime)), tuple(sorted(transcription))


def models_url(profile: Profile) -> str | None:
    """Where this profile's models are listed, or None when it cannot be refreshed."""
    if isinstance(profile, OpenAIProfile) or (isinstance(profile, EphemeralProfile) and not profile.mint_url):
        return OPENAI_MODELS_URL
    if isinstance(profile, CustomProfile):
        parts = urlsplit(profile.url)
        path = parts.path.rstrip("/")
        if not path.endswith("/realtime"):
            return None
        scheme = "https" if parts.scheme == "wss" else "http"
        return urlunsplit((scheme, parts.netloc, path[: -len("realtime")] + "models", "", ""))
    return None


def load_cache(path: Path | None = None) -> ModelList:
    """The cached list, or an empty one when there is none or it cannot be read (logged, never raised)."""
    path = path or default_cache_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ModelList()
    except (OSError, ValueError) as exc:
        log.warning("! settings: model cache %s unreadable (%s); ignoring it", path, exc)
        return ModelList()
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        log.warning("! settings: model cache %s has an unknown layout; ignoring it", path)
        return ModelList()
    realtime, _ = split_model_ids(v for v in data.get("realtime", ()) if isinstance(v, str))
    _, transcription = split_model_ids(v for v in data.get("transcription", ()) if isinstance(v, str))
    fetched = data.get("fetched_at")
    return ModelList(realtime, transcription, str(data.get("source", "")),
                     float(fetched) if isinstance(fetched, (int, float)) else 0.0)


def save_cache(models: ModelList, path: Path | None = None) -> None:
    """Write the cache whole (temporary file + rename), so a crash never leaves half of it."""
    path = path or default_cache_path()
    paths.ensure_dir(path.parent)
    body = {"version": CACHE_VERSION, "source": models.source, "fetched_at": models.fetched_at,
            "realtime": list(models.realtime), "transcription": list(models.transcription)}
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(body, indent=1), encoding="utf-8")
    os.replace(temp, path)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 — stdlib hook
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch_model_ids(url: str, key: str | None, *, timeout_s: float = 10.0) -> list[str]:
    """Every ``data[].id`` of an OpenAI-style model list (blocking; run it in a thread)."""
    host = urlsplit(url).hostname or url
    request = urllib.request.Request(url, method="GET")
    request.add_header("Accept", "application/json")
    request.add_header("User-Agent", f"parley/{__version__}")
    if key:
        register_secret(key)
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with _opener.open(request, timeout=timeout_s) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        detail = redact(f"GET {url}: HTTP {exc.code}")
        log.warning("! settings: %s", detail)
        if exc.code in (401, 403):
            raise AuthError(f"{host} refused the API key when listing models (HTTP {exc.code}).",
                            detail=detail) from None
        raise RemoteError(f"{host} could not list its models (HTTP {exc.code}); the list was kept as it was.",
                          detail=detail, fatal=False) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = _network_reason(exc)
        log.warning("! settings: model list from %s failed: %s", host, reason)
        raise ConnectionLost(f"Could not reach {host} to list models ({reason}); the list was kept as it was.",
                             detail=f"GET {url}: {reason}") from None
    try:
        data = json.loads(payload)
        items = data["data"]
        return [item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]
    except (ValueError, KeyError, TypeError):
        log.warning("! settings: model list from %s is not an OpenAI model list (%d bytes)", host, len(payload))
        raise RemoteError(f"{host} answered the model list request with something else; the list was kept.",
                          detail=f"GET {url}: unexpected body of {len(payload)} bytes", fatal=False) from None


async def refresh_models(profile: Profile, keys: KeyStore, *, cache_path: Path | None = None,
                         timeout_s: float = 10.0) -> ModelList:
    """Fetch, filter and cache the profile's model list; raises a :class:`ParleyError` with one
    sentence when the profile cannot be refreshed or the request fails (the cache is then untouched)."""
    url = models_url(profile)
    if url is None:
        raise CredentialError(f"“{profile.name}” has no model list Parley can read; type a model id instead.",
                              detail=f"no models URL for a {profile.kind} profile")
    key = keys.get_key(profile)
    if not key and profile.needs_key:
        raise CredentialError(f"Add an API key to “{profile.name}” to refresh its model list.",
                              detail=f"no key for {profile.name!r}")
    ids = await asyncio.to_thread(fetch_model_ids, url, key, timeout_s=timeout_s)
    realtime, transcription = split_model_ids(ids)
    models = ModelList(realtime, transcription, url, time.time())
    try:
        save_cache(models, cache_path)
    except OSError as exc:  # the list is still good for this run
        log.warning("! settings: could not write the model cache: %s", exc)
    log.info("= settings: %d realtime and %d transcription models from %s", len(realtime), len(transcription), url)
    return models
