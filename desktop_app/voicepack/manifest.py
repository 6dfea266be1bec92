"""The voice pack's manifest: a small JSON file next to the archive(s) it names.

```json
{"format": 1, "version": "2026.12", "python": "cp311", "platform": "linux-x86_64",
 "engines": {"asr": "sphinx", "tts": "espeak"},
 "files": [{"path": "parley-voices-2026.12-linux-x86_64-cp311.zip", "size": 31457280,
            "sha256": "…64 hex…"}]}
```

``path`` is relative to the manifest's own URL. Each archive holds a ``site/`` folder (Python
packages with their models, added to ``sys.path``) for exactly this Python and platform.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from dataclasses import dataclass
from urllib.parse import urljoin

FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SAFE_PATH = re.compile(r"[A-Za-z0-9._-]+")


def python_tag() -> str:
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def platform_tag() -> str:
    system = {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform.rstrip("0123456789"))
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("aarch64", "arm64")
    return f"{system}-{machine}"


@dataclass(frozen=True, slots=True)
class PackFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed, checked manifest; ``url`` is where it was read from (files are relative to it)."""

    url: str
    version: str
    python: str
    platform: str
    engines: dict[str, str]
    files: tuple[PackFile, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def file_url(self, item: PackFile) -> str:
        return urljoin(self.url, item.path)

    def fits_here(self) -> str:
        """'' when this pack runs on this Python and platform, else one sentence why not."""
        if (self.python, self.platform) != (python_tag(), platform_tag()):
            return (f"The voice pack is built for {self.python} on {self.platform}; this Parley runs "
                    f"{python_tag()} on {platform_tag()}.")
        return ""


def parse(text: str | bytes, url: str) -> Manifest:
    """The manifest in ``text`` (read from ``url``); ValueError with the reason when it is not one."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ValueError(f"not a format-{FORMAT} voice pack manifest")
    files = []
    for item in raw.get("files") or []:
        path, size, digest = item.get("path"), item.get("size"), item.get("sha256")
        if not (isinstance(path, str) and _SAFE_PATH.fullmatch(path)):
            raise ValueError(f"bad file name {path!r}")
        if not (isinstance(size, int) and size > 0):
            raise ValueError(f"bad size for {path}")
        if not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
            raise ValueError(f"bad sha256 for {path}")
        files.append(PackFile(path, size, digest))
    if not files:
        raise ValueError("the manifest lists no files")
    version = str(raw.get("version") or "")
    if not _SAFE_PATH.fullmatch(version):
        raise ValueError(f"bad version {version!r}")
    engines = raw.get("engines") or {}
    return Manifest(url, version, str(raw.get("python", "")), str(raw.get("platform", "")),
                    {str(k): str(v) for k, v in engines.items()}, tuple(files))
