"""Fetching and installing the voice pack: progress, resume, cancel, checksum, atomic install.

Each archive is downloaded to ``<root>/downloads/<name>.part``. An interrupted transfer (the
connection dropped, the app quit, the person pressed Cancel) keeps its part; the next attempt asks
for the rest with an HTTP ``Range`` request and appends (a server that ignores ranges sends it all
again, and the part is restarted). Within one run, a dropped connection is retried
:data:`ATTEMPTS` times from where it stopped. The SHA-256 covers the whole file, part and rest: a
mismatch deletes the part and says so. Installing unpacks into a temporary folder, renames it to
``<root>/<version>`` and only then rewrites ``current.json``, so a half-installed pack is never used.

The blocking work (urllib, hashing, zipfile) runs in a worker thread; progress comes back on the
loop through ``on_progress(done_bytes, total_bytes)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import shutil
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from desktop_app.errors import LocalError
from desktop_app.log import get_logger
from desktop_app.voicepack.manifest import Manifest, PackFile, parse
from desktop_app.voicepack.store import CURRENT, Installed

log = get_logger("voicepack")

CHUNK = 64 * 1024
ATTEMPTS = 4
TIMEOUT_S = 20.0
Progress = Callable[[int, int], None]


class VoicePackError(LocalError):
    """The voice pack could not be fetched or installed (``user_message``: one sentence)."""


class Cancelled(Exception):
    """The person cancelled the download (its part is kept for next time)."""


class PackDownload:
    """One download of the pack described at ``manifest_url`` into ``root``. Use :meth:`run` once."""

    def __init__(self, manifest_url: str, root: Path, on_progress: Progress = lambda done, total: None,
                 *, attempts: int = ATTEMPTS, timeout: float = TIMEOUT_S) -> None:
        self.manifest_url = manifest_url
        self.root = root
        self.on_progress = on_progress
        self.attempts = attempts
        self.timeout = timeout
        self._cancel = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.resumed_from: list[int] = []  # bytes already there when a request for the rest went out

    def cancel(self) -> None:
        """Stop at the next chunk; :meth:`run` raises :class:`Cancelled` and the part stays."""
        self._cancel.set()

    async def run(self) -> Installed:
        self._loop = asyncio.get_running_loop()
        return await asyncio.to_thread(self._run)

    # --- in the worker thread ------------------------------------------------------------------

    def _progress(self, done: int, total: int) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.on_progress, done, total)

    def _run(self) -> Installed:
        manifest = self._manifest()
        why = manifest.fits_here()
        if why:
            raise VoicePackError(why, detail=manifest.url)
        downloads = self.root / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        base = 0
        finished = []
        for item in manifest.files:
            finished.append(self._fetch(manifest, item, downloads / item.path, base, manifest.size))
            base += item.size
        return self._install(manifest, finished)

    def _manifest(self) -> Manifest:
        try:
            with urllib.request.urlopen(self.manifest_url, timeout=self.timeout) as reply:
                text = reply.read(1_000_000)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise VoicePackError("The voice pack's description could not be downloaded; check the network.",
                                 detail=f"{self.manifest_url}: {exc!r}") from exc
        try:
            return parse(text, self.manifest_url)
        except ValueError as exc:
            raise VoicePackError("The voice pack's description is damaged; try again later.",
                                 detail=f"{self.manifest_url}: {exc}") from exc

    def _fetch(self, manifest: Manifest, item: PackFile, final: Path, base: int, total: int) -> Path:
        if final.exists() and final.stat().st_size == item.size and _sha256(final) == item.sha256:
            self._progress(base + item.size, total)
            return final  # fetched and checked by an earlier run
        part = final.with_name(final.name + ".part")
        url = manifest.file_url(item)
        for attempt in range(1, self.attempts + 1):
            try:
                self._transfer(url, part, item, base, total)
                break
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                if isinstance(exc, urllib.error.HTTPError) and exc.code not in (408, 429, 500, 502, 503, 504):
                    raise VoicePackError("The voice pack could not be downloaded (the server refused it).",
                                         detail=f"{url}: HTTP {exc.code}") from exc
                log.warning("! voice pack transfer %d/%d interrupted at %d bytes: %r", attempt, self.attempts,
                            part.stat().st_size if part.exists() else 0, exc)
                if attempt == self.attempts:
                    raise VoicePackError("The voice pack download kept being interrupted; press Download to "
                                         "continue where it stopped.", detail=f"{url}: {exc!r}") from exc
        digest = _sha256(part)
        if digest != item.sha256:
            part.unlink()
            raise VoicePackError("The downloaded voice pack is damaged (its checksum is wrong); press Download to "
                                 "fetch it again.", detail=f"{url}: sha256 {digest}, expected {item.sha256}")
        part.replace(final)
        log.info("= voice pack file %s verified (%d bytes)", item.path, item.size)
        return final

    def _transfer(self, url: str, part: Path, item: PackFile, base: int, total: int) -> None:
        have = part.stat().st_size if part.exists() else 0
        if have > item.size:
            part.unlink()
            have = 0
        if have == item.size:
            return
        request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        if have:
            self.resumed_from.append(have)
            log.info("= voice pack: resuming %s at %d of %d bytes", item.path, have, item.size)
        with urllib.request.urlopen(request, timeout=self.timeout) as reply:
            if have and reply.status != 206:  # the server sends the whole file again: start over
                have = 0
            with open(part, "ab" if have else "wb") as out:
                done = have
                while True:
                    if self._cancel.is_set():
                        raise Cancelled()
                    chunk = reply.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    self._progress(base + done, total)
            if done < item.size:
                raise http.client.IncompleteRead(b"", item.size - done)

    def _install(self, manifest: Manifest, archives: list[Path]) -> Installed:
        target = self.root / manifest.version
        staging = self.root / f".installing-{manifest.version}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            for archive in archives:
                with zipfile.ZipFile(archive) as zipped:
                    for name in zipped.namelist():
                        parts = PurePosixPath(name).parts
                        if name.startswith("/") or ".." in parts or not parts or parts[0] != "site":
                            raise VoicePackError("The voice pack contains unexpected files; it was not installed.",
                                                 detail=f"{archive.name}: {name}")
                    zipped.extractall(staging)
        except (zipfile.BadZipFile, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise VoicePackError("The voice pack could not be unpacked; is the disk full?", detail=repr(exc)) from exc
        except VoicePackError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(target, ignore_errors=True)
        staging.replace(target)
        record = self.root / CURRENT
        tmp = record.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": manifest.version, "engines": manifest.engines}), encoding="utf-8")
        tmp.replace(record)
        for archive in archives:
            archive.unlink(missing_ok=True)  # the unpacked pack is what counts; keep the disk free
        log.info("= voice pack %s installed in %s", manifest.version, target)
        return Installed(manifest.version, target, dict(manifest.engines))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
