"""The settings store: a versioned INI file read into a typed, frozen :class:`Settings` snapshot.

Loading never crashes and never loses a good value:

* a missing file gives the defaults (nothing is written until the first change);
* a file from an older layout is backed up (``<name>.v<N>.bak``) and migrated step by step
  (``migrations.py``);
* a file from a *newer* Parley is refused: it is left byte-for-byte untouched, the defaults are used,
  changes apply for this session only, and :attr:`SettingsStore.notices` carries one sentence saying so;
* a value of the wrong type or out of bounds falls back to its default alone (logged with the detail);
  a profile list keeps its readable profiles;
* a file Qt cannot parse is moved aside to ``<name>.corrupt`` and whatever could be read is kept.

Writes: ``QSettings`` with ``atomicSyncRequired`` (Qt's default, set explicitly here) writes the whole
file through ``QSaveFile`` — a temporary file in the same folder renamed over the old one — so a crash
or a full disk never leaves half a file; Qt also takes a lock file, so two running instances do not
interleave writes. Each change is synced at once and its status checked. That is why there is no
hand-made temp-and-rename here, and no second file format: the INI file *is* the snapshot.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from desktop_app import paths
from desktop_app.errors import ConfigError
from desktop_app.log import get_logger
from desktop_app.settings.migrations import migrate_with_notices
from desktop_app.settings.schema import BY_NAME, SCHEMA, SCHEMA_VERSION, Setting, Settings

log = get_logger("settings")

FILE_NAME = "settings.ini"


def default_settings_path() -> Path:
    """``settings.ini`` in Parley's config directory (``desktop_app.paths``: ``~/.config/Parley`` on
    Linux, Qt's generic config location plus the app's folder; ``PARLEY_HOME`` moves it)."""
    return paths.config_dir() / FILE_NAME


class SettingsStore(QObject):
    """Owns the settings file. Read :attr:`settings`; change with :meth:`update`; ``changed`` tells.

    Build one in the composition root (``app.py``) and pass it in; tests pass a ``path`` in a temp dir.
    """

    changed = Signal(object)  # the new Settings

    def __init__(self, path: Path | str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path) if path is not None else default_settings_path()
        self.read_only = False
        self.notices: list[str] = []
        self._settings = self._load()

    def __repr__(self) -> str:
        return f"SettingsStore(path={str(self.path)!r}, read_only={self.read_only})"

    @property
    def settings(self) -> Settings:
        """The current snapshot (immutable; a new object after every change)."""
        return self._settings

    def update(self, **changes: Any) -> Settings:
        """Validate ``changes`` (field names of :class:`Settings`), apply, save, emit ``changed``.

        Invalid values raise :class:`ConfigError` and change nothing. If saving fails the change still
        applies for this session, ``changed`` is emitted, and a non-fatal :class:`ConfigError` says so.
        """
        clean: dict[str, Any] = {}
        problems: list[str] = []
        for name, value in changes.items():
            decl = BY_NAME.get(name)
            if decl is None or not decl.user_editable:
                problems.append(f"{name} is not a setting that can be changed")
                continue
            try:
                clean[name] = decl.validate(value)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if not problems:
            try:
                new = dataclasses.replace(self._settings, **clean)
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError(
                f"That setting cannot be used: {problems[0]}.", detail="; ".join(problems), fatal=False
            )
        changed = {n: v for n, v in clean.items() if getattr(self._settings, n) != v}
        if not changed:
            return self._settings
        self._settings = new
        try:
            if self.read_only:
                log.info("= settings: not saved (file refused at start): %s", ", ".join(changed))
            else:
                self._write({BY_NAME[n].key: BY_NAME[n].encode(v) for n, v in changed.items()})
                log.info("= settings: saved %s", ", ".join(changed))
        finally:
            self.changed.emit(new)
        return new

    def reset(self, *names: str) -> Settings:
        """Put the named settings (all user-editable ones if none are named) back to their defaults.

        Their keys leave the file rather than being written with today's defaults: a key in the file
        is a choice the user made, an absent one follows whatever default the running Parley has
        (that is how the v3 migration tells who never chose a transcription model).
        """
        chosen = names or tuple(d.name for d in SCHEMA if d.user_editable)
        unknown = [n for n in chosen if n not in BY_NAME or not BY_NAME[n].user_editable]
        if unknown:
            raise ConfigError(f"That setting cannot be reset: {unknown[0]} is not a setting.", fatal=False)
        try:
            new = dataclasses.replace(self._settings, **{n: BY_NAME[n].default for n in chosen})
        except ValueError as exc:  # e.g. the default active profile no longer exists
            raise ConfigError(f"Those settings cannot be reset together: {exc}.", fatal=False) from None
        changed = [n for n in chosen if getattr(self._settings, n) != getattr(new, n)]
        self._settings = new
        try:
            if self.read_only:
                log.info("= settings: reset not saved (file refused at start): %s", ", ".join(chosen))
            elif self.path.exists():
                self._write({}, remove=[BY_NAME[n].key for n in chosen])
                log.info("= settings: reset %s", ", ".join(chosen))
        finally:
            if changed:
                self.changed.emit(new)
        return new

    # -- loading ---------------------------------------------------------------------------------

    def _load(self) -> Settings:
        if not self.path.exists():
            log.info("= settings: no file at %s, using defaults", self.path)
            return Settings()
        qs = self._qsettings()
        raw = {key: qs.value(key) for key in qs.allKeys()}
        status = qs.status()
        del qs
        if status == QSettings.Status.AccessError:  # exists but unreadable: never overwrite it
            self.read_only = True
            self._notice(
                f"Parley could not read your settings file {self.path}, so defaults are used and "
                "changes apply only until Parley quits."
            )
            return Settings()
        damaged = status == QSettings.Status.FormatError
        version = self._stored_version(raw)
        if version > SCHEMA_VERSION:
            self.read_only = True
            self._notice(
                f"Your settings were saved by a newer version of Parley (settings version {version}, "
                f"this one understands {SCHEMA_VERSION}), so they were left untouched and defaults "
                "are used until you update Parley."
            )
            return Settings()
        if damaged:
            self._set_aside_damaged()
        elif version < SCHEMA_VERSION:
            backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
            shutil.copy2(self.path, backup)
            log.info("= settings: old layout v%d kept as %s", version, backup.name)
        if version < SCHEMA_VERSION:
            try:
                raw, sentences = migrate_with_notices(raw, version)
            except ValueError as exc:
                log.warning("! settings: %s; reading the file as it is", exc)
            else:
                for sentence in sentences:
                    self._notice(sentence)
        if damaged or version < SCHEMA_VERSION:
            try:
                self._write(raw, replace_all=True)
            except ConfigError as exc:
                self._notice(exc.user_message)
        return self._settings_from_raw(raw)

    def _stored_version(self, raw: dict[str, Any]) -> int:
        stored = raw.get("schema_version")
        if stored is None:
            return 1 if raw else SCHEMA_VERSION  # v1 files carried no version
        try:
            return int(str(stored).strip())
        except ValueError:
            log.warning("! settings: unreadable schema_version %r, reading as v%d", stored, SCHEMA_VERSION)
            return SCHEMA_VERSION

    def _set_aside_damaged(self) -> None:
        aside = self.path.with_name(self.path.name + ".corrupt")
        os.replace(self.path, aside)
        log.warning("! settings: %s could not be parsed; moved to %s", self.path, aside.name)
        self._notice(
            f"Your settings file was damaged; it was kept as {aside.name} and the settings that "
            "could be read were kept."
        )

    def _settings_from_raw(self, raw: dict[str, Any]) -> Settings:
        values: dict[str, Any] = {}
        reset: list[str] = []
        for decl in SCHEMA:
            if decl.key not in raw or decl.name == "schema_version":
                continue
            try:
                values[decl.name] = decl.decode(raw[decl.key])
            except (ValueError, TypeError) as exc:
                salvaged = self._salvage_items(decl, raw[decl.key])
                if salvaged is not None:
                    values[decl.name] = salvaged
                    continue
                log.warning("! settings: %s = %s is invalid (%s); using the default", decl.key,
                            _short(raw[decl.key]), exc)
                reset.append(decl.name)
        profiles = values.get("profiles", Settings().profiles)
        active = values.get("active_profile", Settings().active_profile)
        if active not in {p.name for p in profiles}:
            log.warning("! settings: active profile %r does not exist; using %r", active, profiles[0].name)
            values["active_profile"] = profiles[0].name
        if reset:
            self._notice(f"Some settings were invalid and were reset to their defaults: {', '.join(reset)}.")
        log.info("= settings: loaded %s (%d stored values)", self.path, len(values))
        try:
            return Settings(**values)
        except ValueError as exc:  # a rule across settings that no single fallback fixed
            log.error("! settings: stored values do not fit together (%s); using defaults", exc)
            self._notice("Your settings did not fit together and were reset to their defaults.")
            return Settings()

    @staticmethod
    def _salvage_items(decl: Setting, raw: Any) -> tuple | None:
        """For a list setting with some bad elements: the good ones, if they form a valid value."""
        if decl.type is not tuple or decl.item is None or not isinstance(raw, str):
            return None
        try:
            items = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(items, list):
            return None
        kept = []
        for item in items:
            try:
                kept.append(decl.item(item))
            except (ValueError, TypeError) as exc:
                log.warning("! settings: dropped an element of %s (%s): %s", decl.key, exc, _short(item))
        try:
            return decl.validate(tuple(kept))
        except ValueError:
            return None

    # -- writing ---------------------------------------------------------------------------------

    def _qsettings(self) -> QSettings:
        qs = QSettings(str(self.path), QSettings.Format.IniFormat)
        qs.setAtomicSyncRequired(True)  # write through QSaveFile: temp file + rename
        return qs

    def _write(self, values: dict[str, Any], *, replace_all: bool = False, remove: list[str] | None = None) -> None:
        try:
            paths.ensure_dir(self.path.parent)
        except OSError as exc:
            raise self._save_error(exc.strerror or str(exc)) from None
        qs = self._qsettings()
        if replace_all:
            qs.clear()
        for key in remove or ():
            qs.remove(key)
        for key, value in values.items():
            qs.setValue(key, value)
        qs.setValue("schema_version", str(SCHEMA_VERSION))
        qs.sync()
        status = qs.status()
        if status != QSettings.Status.NoError:
            raise self._save_error(status.name)

    def _save_error(self, reason: str) -> ConfigError:
        log.error("! settings: could not write %s: %s", self.path, reason)
        return ConfigError(
            f"Parley could not save your settings to {self.path} ({reason}); "
            "the change applies until Parley quits.",
            detail=f"writing {self.path}: {reason}",
            fatal=False,
        )

    def _notice(self, sentence: str) -> None:
        log.warning("! settings: %s", sentence)
        self.notices.append(sentence)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
