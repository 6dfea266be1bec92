"""Typed settings, the versioned QSettings store, endpoint profiles and API-key storage.

* :mod:`~desktop_app.settings.schema` — every setting declared once; the frozen :class:`Settings`.
* :mod:`~desktop_app.settings.store` — :class:`SettingsStore` (INI file, migrations, atomic writes).
* :mod:`~desktop_app.settings.profiles` — endpoint profiles and their :class:`ConnectTarget`.
* :mod:`~desktop_app.settings.secrets` — API keys in the OS keyring (never in the settings file).
* :mod:`~desktop_app.settings.ephemeral` — short-lived client secrets, minted and renewed.

Only ``store`` imports Qt; import it from its module so the rest stays usable without Qt.
"""
