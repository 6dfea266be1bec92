"""Where the voice pack lives and how the app finds it: ``<data>/voicepack/<version>/site`` with
``<data>/voicepack/current.json`` naming the installed version. :func:`activate` puts that ``site``
folder on ``sys.path`` (after the app's own, so engines installed with pip in a source checkout
still win), which is all the speech engines need: they import lazily. The data folder is
:func:`desktop_app.paths.data_dir`, the same for the source run and the bundle.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop_app import paths
from desktop_app.log import get_logger

log = get_logger("voicepack")

CURRENT = "current.json"
#: The module each speech engine of a pack imports (what "found" means for an engine).
ENGINE_MODULES = {"sphinx": "pocketsphinx", "espeak": "espeakng_loader", "whisper": "faster_whisper",
                  "piper": "piper"}


def pack_root() -> Path:
    return paths.data_dir() / "voicepack"


@dataclass(frozen=True, slots=True)
class Installed:
    version: str
    folder: Path
    engines: dict[str, str]

    @property
    def site(self) -> Path:
        return self.folder / "site"

    def describe(self) -> str:
        engines = " and ".join(f"{v} ({'recognition' if k == 'asr' else 'voice'})"
                               for k, v in sorted(self.engines.items()))
        return f"Installed: version {self.version}" + (f", {engines}." if engines else ".")


def installed(root: Path | None = None) -> Installed | None:
    """The installed pack, or None (none, or a damaged record: the log says which)."""
    root = root or pack_root()
    try:
        record = json.loads((root / CURRENT).read_text(encoding="utf-8"))
        folder = root / str(record["version"])
        if not (folder / "site").is_dir():
            log.warning("! voice pack %s is recorded but its folder is missing", record["version"])
            return None
        return Installed(str(record["version"]), folder, {str(k): str(v) for k, v in record.get("engines", {}).items()})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("! voice pack record unreadable: %r", exc)
        return None


def found_engines(pack: Installed) -> dict[str, bool]:
    """For each engine the pack brings: can this process import it now (source run or bundle)?"""
    import importlib.util

    found = {}
    for engine in sorted(set(pack.engines.values())):
        module = ENGINE_MODULES.get(engine)
        try:
            found[engine] = module is not None and importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found[engine] = False
    return found


def activate(root: Path | None = None) -> Installed | None:
    """Make the installed pack's engines importable (idempotent); returns it, or None."""
    pack = installed(root)
    if pack is not None and str(pack.site) not in sys.path:
        sys.path.append(str(pack.site))
        log.info("= voice pack %s active from %s", pack.version, pack.site)
    return pack
