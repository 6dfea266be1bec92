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
* **v3** — the input-transcription default moves from ``gpt-4o-mini-transcribe`` (shut down on
  2027-02-26) to ``gpt-live-transcribe``. Nothing in the file moves: the store writes a key only when
  the user changes it (and :meth:`SettingsStore.reset` removes it), so a file *without*
  ``session/input_transcription_model`` is a user who never chose, who was on the old default and now
  follows the new one; they get a one-line notice. A file *with* the key keeps the user's choice; if
  that choice is retiring, the notice says when it stops working.
"""


from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.log import get_logger
from desktop_app.realtime.models import (
    DEFAULT_TRANSCRIPTION_MODEL,
    PREVIOUS_DEFAULT_TRANSCRIPTION_MODEL,
    transcription_shutdown,
)
from desktop_app.settings.schema import SCHEMA_VERSION

log = get_logger("settings")

Raw = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Migration:
    """One step from ``from_version`` to ``from_version + 1``; ``notice`` (given the file before the
    step) is the sentence the user sees about it, if any."""

    from_version: int
    name: str
    apply: Callable[[Raw], Raw]
    notice: Callable[[Raw], str | None] | None = None


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


TRANSCRIPTION_KEY = "session/input_transcription_model"


def _v2_to_v3(raw: Raw) -> Raw:
    return dict(raw)  # an absent key follows the new default by itself; a present one is a choice


def _v2_to_v3_notice(raw: Raw) -> str | None:
    chosen = raw.get(TRANSCRIPTION_KEY)
    if chosen is None:
        shutdown = transcription_shutdown(PREVIOUS_DEFAULT_TRANSCRIPTION_MODEL)
        return (f"Your speech is now transcribed by {DEFAULT_TRANSCRIPTION_MODEL}: {PREVIOUS_DEFAULT_TRANSCRIPTION_MODEL}, "
                f"the previous default, shuts down on {shutdown}.")
    shutdown = transcription_shutdown(str(chosen).strip())
    if shutdown:
        return (f"Your transcription model {str(chosen).strip()} shuts down on {shutdown}; "
                f"choose {DEFAULT_TRANSCRIPTION_MODEL} in the Session tab to keep your transcript.")
    return None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "move vad/* to turn_detection/*, ptt key to input/, explicit 'off' transcription", _v1_to_v2),
    Migration(2, "transcription default gpt-4o-mini-transcribe → gpt-live-transcribe (retiring 2027-02-26)",
              _v2_to_v3, _v2_to_v3_notice),
)


def migrate(raw: Mapping[str, Any], from_version: int) -> Raw:
    """``raw`` brought from ``from_version`` to :data:`SCHEMA_VERSION` by every step in order.

    ``schema_version`` in the result is the new version. Raises ``ValueError`` for a version newer
    than this code knows (the caller refuses such files) or one with no path forward.
    """
    return migrate_with_notices(raw, from_version)[0]


def migrate_with_notices(raw: Mapping[str, Any], from_version: int) -> tuple[Raw, list[str]]:
    """:func:`migrate`, plus the sentences the steps taken have for the user, in order."""
    if from_version > SCHEMA_VERSION:
        raise ValueError(f"settings schema {from_version} is newer than {SCHEMA_VERSION}")
    out = dict(raw)
    notices: list[str] = []
    version = from_version
    for step in MIGRATIONS:
        if step.from_version < version:
            continue
        if step.from_version != version:
            raise ValueError(f"no migration from settings schema {version}")
        log.info("= settings: migrating v%d → v%d: %s", version, version + 1, step.name)
        sentence = step.notice(out) if step.notice is not None else None
        if sentence:
            notices.append(sentence)
        out = step.apply(out)
        version += 1
    if version != SCHEMA_VERSION:
        raise ValueError(f"no migration from settings schema {version}")
    out["schema_version"] = str(SCHEMA_VERSION)
    return out, notices
