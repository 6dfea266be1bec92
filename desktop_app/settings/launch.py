"""``parley --url URL [--model M]``: where this one run connects, without touching the saved settings.

:func:`run_override` turns the two options into a :class:`RunOverride`. Its profile is a temporary
custom profile (:class:`CommandLineProfile`) and :meth:`RunOverride.apply` lays it over a settings
snapshot — the profile added and made active, the model replaced — so everything downstream (target,
controller, window) works as with a saved profile. The snapshot it returns is never given to
:meth:`SettingsStore.update`: the file keeps the user's own profiles and model.

The model is, in order: ``--model``; else the URL's ``model=`` query; else the saved model. It is taken
out of the URL so one value goes on the wire (``connect_target`` adds it back).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from desktop_app.realtime.models import is_valid_model_id
from desktop_app.settings.profiles import OPENAI_KEY_ENV, CustomProfile
from desktop_app.settings.schema import Settings

PROFILE_NAME_PREFIX = "Command line"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandLineProfile(CustomProfile):
    """A custom endpoint given on the command line, for this run only.

    Its key comes from ``OPENAI_API_KEY`` (as in headless mode) or a key entered for this session;
    a custom endpoint without a key connects without ``Authorization``.
    """

    kind: ClassVar[str] = "custom"
    temporary: ClassVar[bool] = True

    @property
    def key_env_var(self) -> str | None:
        return OPENAI_KEY_ENV


@dataclass(frozen=True, slots=True)
class RunOverride:
    """What ``--url``/``--model`` change for this run; None fields leave the saved value."""

    profile: CommandLineProfile | None = None
    model: str | None = None

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with the temporary profile active and the model replaced (never saved)."""
        changes: dict[str, Any] = {}
        if self.profile is not None:
            others = tuple(p for p in settings.profiles if p.name != self.profile.name)
            changes.update(profiles=(*others, self.profile), active_profile=self.profile.name)
        if self.model is not None:
            changes["model"] = self.model
        return dataclasses.replace(settings, **changes) if changes else settings


def run_override(url: str | None, model: str | None) -> RunOverride:
    """The override for ``--url``/``--model``; ``ValueError`` with one sentence for bad input."""
    if model is not None and not is_valid_model_id(model):
        raise ValueError(f"--model {model!r} is not a model id (letters, digits and . _ : / -).")
    if url is None:
        return RunOverride(model=model)
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"--url must be a ws:// or wss:// address with a host, such as "
                         f"wss://api.openai.com/v1/realtime (got {url!r}).")
    query = parse_qsl(parts.query, keep_blank_values=True)
    in_url = [value for key, value in query if key == "model"]
    if model is None and in_url:
        model = in_url[-1]
        if not is_valid_model_id(model):
            raise ValueError(f"The URL's model={model!r} is not a model id.")
    bare = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "model"])))
    name = f"{PROFILE_NAME_PREFIX} · {parts.netloc}"[:64].strip()
    return RunOverride(profile=CommandLineProfile(name=name, url=bare), model=model)


def with_model(url: str, model: str) -> str:
    """``url`` with its ``model=`` query set to ``model`` (headless reads the model from the URL)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "model"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("model", model)])))
