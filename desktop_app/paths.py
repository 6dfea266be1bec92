"""Where Parley keeps its files: settings, logs, user tools, data, and its own bundled resources.

One function per place. They ask Qt's :class:`QStandardPaths` for the platform's *generic*
locations and append ``Parley`` themselves, so the answer depends neither on a QApplication
existing nor on its application/organisation names, and is the same from a source checkout and
from a PyInstaller bundle (whose executable name differs).

=========  ===============================  ======================================  ============================
place      Linux                            macOS                                   Windows
=========  ===============================  ======================================  ============================
config     ``~/.config/Parley``             ``~/Library/Preferences/Parley``        ``%LOCALAPPDATA%/Parley``
data       ``~/.local/share/Parley``        ``~/Library/Application Support/Parley``  ``%LOCALAPPDATA%/Parley``
logs       ``~/.local/state/Parley/logs``   ``~/Library/Logs/Parley``               ``%LOCALAPPDATA%/Parley/logs``
tools      ``<config>/tools``               ``<config>/tools``                      ``<config>/tools``
=========  ===============================  ======================================  ============================

(The XDG variables ``XDG_CONFIG_HOME``, ``XDG_DATA_HOME`` and ``XDG_STATE_HOME`` move the Linux ones.)

Setting ``PARLEY_HOME`` puts everything under that one directory instead (``config/``, ``data/``,
``logs/``): tests and portable installs use it. Nothing here creates a directory; callers that write
call :func:`ensure_dir`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "Parley"
LOG_FILE_NAME = "parley.log"
HOME_ENV = "PARLEY_HOME"


def _override() -> Path | None:
    home = os.environ.get(HOME_ENV)
    return Path(home).expanduser() if home else None


def _generic(location_name: str) -> Path:
    """The writable generic location ``location_name`` (a ``QStandardPaths.StandardLocation`` name)."""
    from PySide6.QtCore import QStandardPaths  # QtCore only: no QApplication, no display needed

    location = getattr(QStandardPaths.StandardLocation, location_name)
    path = QStandardPaths.writableLocation(location)
    if not path:  # Qt returns "" when it cannot determine it (no HOME): say so instead of writing to cwd
        raise OSError(f"the platform has no {location_name} for this user (is HOME set?)")
    return Path(path)


def config_dir() -> Path:
    """Directory for Parley's own configuration files (user-editable)."""
    home = _override()
    if home is not None:
        return home / "config"
    return _generic("GenericConfigLocation") / APP_DIR_NAME


def data_dir() -> Path:
    """Directory for data Parley creates and keeps (exports, downloaded voices, caches worth keeping)."""
    home = _override()
    if home is not None:
        return home / "data"
    return _generic("GenericDataLocation") / APP_DIR_NAME


def log_dir() -> Path:
    """Directory of the rotating log file: the platform's place for logs."""
    home = _override()
    if home is not None:
        return home / "logs"
    if sys.platform == "darwin":
        return _generic("HomeLocation") / "Library" / "Logs" / APP_DIR_NAME
    if sys.platform == "win32":
        return data_dir() / "logs"
    # XDG says logs are state ($XDG_STATE_HOME, ~/.local/state), not data.
    return _generic("GenericStateLocation") / APP_DIR_NAME / "logs"


def log_file() -> Path:
    """The rotating log file (``parley.log`` in :func:`log_dir`)."""
    return log_dir() / LOG_FILE_NAME


def tools_dir() -> Path:
    """Directory of the user's own tools (``tools.toml``, see ``desktop_app.tools.user_tools``)."""
    return config_dir() / "tools"


def resources_dir() -> Path:
    """Parley's read-only resources (icons, .desktop file): in the bundle, or in the source tree."""
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller's bootloader
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing, private to the user where the OS allows; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def describe() -> dict[str, Path]:
    """Every place by name, for ``--self-check`` and bug reports."""
    return {
        "config": config_dir(),
        "data": data_dir(),
        "logs": log_file(),
        "tools": tools_dir(),
        "resources": resources_dir(),
    }
