"""Named, ordered migration steps between settings-file layouts (qutebrowser's habit, not friture's
key sniffing).

A step takes the raw key → value mapping of a file at version ``from_version`` and returns the mapping
at ``from_version + 1``. Steps are pure functions on dicts, so they are tested without Qt or files.
Keys a step does not know are carried over untouched (another version of Parley may own them).

History:

* **v1** — the first prototype's layout (files without ``schema_version`` are v1): VAD settings under
  ``vad/``, the push-to-talk key under ``audio/ptt_key``, and ``session/transcription_model`` where an
  empty value meant "off".
* **v2** — VAD keys live under ``turn_detection/`` (named after the protocol's
  ``audio.input.turn_detection``), ``input/ptt_key``, ``session/input_transcription_model`` with an
  explicit ``off``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.log import get_logger
from desktop_app.settings.schema import SCHEMA_VERSION

log = get_logger("settings")

Raw = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Migration:
    """One step from ``from_version`` to ``from_version + 1``."""

    from_version: int
    name: str
    apply: Callable[[Raw], Raw]


def _rename(raw: Raw, old: str, new: str, convert: Callable[[Any], Any] = lambda v: v) -> None:
    if old in raw:
        value = raw.pop(old)
        raw.setdefault(new, convert(value))  # a key already at its new place wins


def _v1_to_v2(raw: Raw) -> Raw:
    out = dict(raw)
    for key in [k for k in out if k.startswith("vad/")]:
        _rename(out, key, "turn_detection/" + key[len("vad/") :])
    _rename(out, "audio/ptt_key", "input/ptt_key")
    _rename(
        out,
        "session/transcription_model",
        "session/input_transcription_model",
        lambda v: "off" if v in ("", None) else v,
    )
    return out


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "move vad/* to turn_detection/*, ptt key to input/, explicit 'off' transcription", _v1_to_v2),
)


def migrate(raw: Mapping[str, Any], from_version: int) -> Raw:
    """``raw`` brought from ``from_version`` to :data:`SCHEMA_VERSION` by every step in order.

    ``schema_version`` in the result is the new version. Raises ``ValueError`` for a version newer
    than this code knows (the caller refuses such files) or one with no path forward.
    """
    if from_version > SCHEMA_VERSION:
        raise ValueError(f"settings schema {from_version} is newer than {SCHEMA_VERSION}")
    out = dict(raw)
    version = from_version
    for step in MIGRATIONS:
        if step.from_version < version:
            continue
        if step.from_version != version:
            raise ValueError(f"no migration from settings schema {version}")
        log.info("= settings: migrating v%d → v%d: %s", version, version + 1, step.name)
        out = step.apply(out)
        version += 1
    if version != SCHEMA_VERSION:
        raise ValueError(f"no migration from settings schema {version}")
    out["schema_version"] = str(SCHEMA_VERSION)
    return out
