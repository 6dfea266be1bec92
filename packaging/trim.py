"""Drop what PyInstaller collected but Parley never loads — and the libraries only those pulled in.

PyInstaller's Qt hooks collect whole plugin directories, and its binary analysis then adds every
shared library those plugins link. Removing a plugin from ``Analysis.binaries`` afterwards leaves
its libraries behind (the GTK3 theme plugin alone drags ~20 MB of GTK, cairo, pango, cups …).

:func:`prune` removes the unwanted entries *and their orphans*: libraries that some dropped file
links but no kept file does. "Links" is the transitive closure PyInstaller itself computes
(``objdump -p`` on Linux, macholib/pefile elsewhere, followed inside the bundle), so a library
any kept binary needs always stays.
Libraries loaded with ``dlopen`` are invisible to that analysis: name them in ``keep``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable

Entry = tuple  # PyInstaller TOC entry: (dest_name, src_name, typecode)


def _linked_names(src: str) -> set[str]:
    """Basenames of the shared libraries ``src`` links directly (its ELF NEEDED / Mach-O / PE imports)."""
    if sys.platform.startswith("linux"):
        # Not ldd: it flattens in the *system's* dependencies of libraries we take from the system.
        out = subprocess.run(["objdump", "-p", src], capture_output=True, text=True)
        return set(re.findall(r"^\s*NEEDED\s+(\S+)", out.stdout, re.M))
    from PyInstaller.depend import bindepend

    try:
        imports = bindepend.get_imports(src)
    except Exception:  # noqa: BLE001 - a file the tools cannot parse links nothing we can see
        return set()
    return {os.path.basename(name) for name, _path in imports}


def _closure(entries: Iterable[Entry], by_name: dict[str, Entry]) -> set[str]:
    """Basenames reachable from ``entries`` through link-time dependencies inside the bundle."""
    seen: set[str] = set()
    todo = [entry[1] for entry in entries]
    while todo:
        src = todo.pop()
        for name in _linked_names(src):
            if name in by_name and name not in seen:
                seen.add(name)
                todo.append(by_name[name][1])
    return seen


def prune(
    binaries: list[Entry], unwanted: Callable[[str], bool], keep: Iterable[str] = ()
) -> tuple[list[Entry], list[Entry]]:
    """Split ``binaries`` into (kept, dropped): unwanted entries plus libraries only they needed.

    ``unwanted(dest_name)`` picks what to drop; ``keep`` lists basenames never dropped as orphans.
    """
    dropped = [entry for entry in binaries if unwanted(entry[0])]
    kept = [entry for entry in binaries if not unwanted(entry[0])]
    by_name = {os.path.basename(entry[0]): entry for entry in binaries}
    # Candidates: everything the dropped files link. Roots: kept files that are not candidates
    # (extension modules, kept plugins, explicitly collected libraries). A candidate stays if a root
    # reaches it.
    candidates = _closure(dropped, by_name)
    roots = [entry for entry in kept if os.path.basename(entry[0]) not in candidates]
    kept_by_name = {os.path.basename(entry[0]): entry for entry in kept}  # never walk through dropped files
    orphans = candidates - _closure(roots, kept_by_name) - set(keep)
    final = [entry for entry in kept if os.path.basename(entry[0]) not in orphans]
    removed = dropped + [entry for entry in kept if os.path.basename(entry[0]) in orphans]
    return final, removed


def _from_repaired_wheel(src: str) -> bool:
    """True for libraries auditwheel vendored and patchelf rewrote (a wheel's ``<pkg>.libs`` dir).

    Running binutils ``strip`` over those corrupts them ("ELF load command address/offset not
    page-aligned" when numpy's OpenBLAS is loaded), so they are left alone.
    """
    return any(part.endswith(".libs") for part in os.path.normpath(src).split(os.sep)[:-1])


def strip_debug(binaries: list[Entry], cache_dir: str) -> tuple[list[Entry], int]:
    """Point each strippable ELF entry at a copy without debug/unneeded symbols; return (entries, bytes saved).

    Copies live in ``cache_dir`` keyed by source path, size and mtime, so rebuilds do no work.
    Linux only (PyInstaller's own ``strip=True`` is used on macOS; Windows DLLs carry no symbols).
    """
    import hashlib
    import shutil
    import subprocess

    os.makedirs(cache_dir, exist_ok=True)
    saved = 0
    result = []
    for dest, src, typecode in binaries:
        if typecode not in ("BINARY", "EXTENSION") or _from_repaired_wheel(src) or not _is_elf(src):
            result.append((dest, src, typecode))
            continue
        stat = os.stat(src)
        key = hashlib.sha1(f"{src}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
        copy = os.path.join(cache_dir, f"{key}-{os.path.basename(src)}")
        if not os.path.exists(copy):
            shutil.copy2(src, copy + ".tmp")
            subprocess.run(["strip", "--strip-unneeded", copy + ".tmp"], check=True, capture_output=True)
            os.replace(copy + ".tmp", copy)
        saved += stat.st_size - os.path.getsize(copy)
        result.append((dest, copy, typecode))
    return result, saved


def _is_elf(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"\x7fELF"
