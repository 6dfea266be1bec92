"""Shrink the ICU data library that PySide6's Linux Qt links (``libicudata.so.NN``, 32 MB → ~7 MB).

Qt Core links ICU, so the library must be there, but Parley uses almost none of its data: Qt has
its own CLDR locale tables, text boundaries and codecs for Unicode. What ICU serves Qt here is
collation (``QCollator``), IDNA (``uts46.nrm``), case mapping and time-zone rules. So we drop the
*display names* (languages, regions, currencies, units, time zones), per-locale number/date
formats (English and root stay), transliteration, spell-out rules, word-break dictionaries
(Thai/CJK/Khmer…), per-language collation tailorings (root collation stays, so sorting still
works, in the language-neutral UCA order), and legacy codepage tables (``*.cnv``: Shift-JIS,
EBCDIC… which Parley never decodes). Measured effect on Qt: ``QCollator`` for sv/zh sorts in root
order, ``QTimeZone::displayName`` is empty, ``QStringDecoder("Shift-JIS")`` is invalid; QLocale,
case mapping (including Turkish), IDNA and text layout are unchanged.

How: the library holds one symbol, ``icudtNN_dat``: an ICU "common data" package (header, a
sorted table of contents of item names and offsets, then the items, 16-byte aligned). We copy the
package keeping only the wanted items, and link it back into a shared library with the same
soname and symbol, using binutils' ``as`` and ``ld`` (already needed for ``strip``).

    python packaging/icu_trim.py IN.so OUT.so     # prints the sizes; used by parley.spec on Linux
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import tempfile

DROP_DIRS = ("unit/", "zone/", "curr/", "lang/", "region/", "translit/", "rbnf/")
KEEP_COLL = ("coll/root.res", "coll/ucadata.icu")
# Per-locale formatting data (de.res, ja.res …): ICU's number/date formats, which Qt never asks ICU
# for (it has its own CLDR tables). root and English stay, so ICU's fallback chain always ends well.
LOCALE_RES = re.compile(r"[a-z]{2,3}(_\w+)?\.res")


def wanted(item: str) -> bool:
    """Whether the package item ``icudtNNl/<path>`` is kept."""
    path = item.split("/", 1)[1] if "/" in item else item
    if path.startswith(DROP_DIRS):
        return False
    if path.startswith("coll/"):
        return path in KEEP_COLL
    if path.startswith("brkitr/") and path.endswith(".dict"):
        return False
    if LOCALE_RES.fullmatch(path) and path not in ("root.res", "pool.res") and not path.startswith("en"):
        return False
    return not path.endswith(".cnv")


def _symbol(library: str) -> tuple[str, int, int]:
    """(name, file offset, size) of the ``icudtNN_dat`` symbol, from binutils' nm and objdump."""
    nm = subprocess.run(["nm", "-D", "-S", "--defined-only", library], capture_output=True, text=True, check=True)
    match = re.search(r"^([0-9a-f]+) ([0-9a-f]+) [RrDd] (icudt\d+_dat)$", nm.stdout, re.M)
    if match is None:
        raise ValueError(f"{library}: no icudtNN_dat symbol")
    address, size, name = int(match[1], 16), int(match[2], 16), match[3]
    sections = subprocess.run(["objdump", "-h", library], capture_output=True, text=True, check=True).stdout
    for line in sections.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[0].isdigit():
            sec_size, vma, offset = int(fields[2], 16), int(fields[3], 16), int(fields[5], 16)
            if vma <= address < vma + sec_size:
                return name, offset + address - vma, size
    raise ValueError(f"{library}: {name} is in no section")


def trim_package(blob: bytes, keep=wanted) -> tuple[bytes, int, int]:
    """A copy of the common-data package ``blob`` with only the kept items; returns (package, kept, total)."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", blob, 0)
    if (magic1, magic2) != (0xDA, 0x27) or blob[12:16] != b"CmnD":
        raise ValueError("not an ICU common data package")
    if blob[8] != 0:  # UDataInfo.isBigEndian (UDataInfo starts at byte 4)
        raise ValueError("big-endian ICU data is not handled")
    toc = blob[header_size:]
    (count,) = struct.unpack_from("<I", toc, 0)
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    names = [toc[offset:toc.index(b"\0", offset)] for offset, _ in entries]
    ends = [entries[i + 1][1] for i in range(count - 1)] + [len(toc)]
    items = [(name, toc[start:end]) for name, (_, start), end in zip(names, entries, ends)
             if keep(name.decode("ascii"))]
    # Same layout as ICU's pkgdata: count, entries, NUL-terminated names, then 16-byte aligned items.
    names_start = 4 + 8 * len(items)
    name_offsets, names_blob = [], b""
    for name, _ in items:
        name_offsets.append(names_start + len(names_blob))
        names_blob += name + b"\0"
    position = names_start + len(names_blob)
    position += -position % 16
    data_offsets, data_blob = [], b""
    for _, data in items:
        data_offsets.append(position + len(data_blob))
        data_blob += data + b"\0" * (-len(data) % 16)
    table = struct.pack("<I", len(items)) + b"".join(
        struct.pack("<II", n, d) for n, d in zip(name_offsets, data_offsets)
    )
    body = table + names_blob
    body += b"\0" * (data_offsets[0] - len(body)) if data_offsets else b""
    return blob[:header_size] + body + data_blob, len(items), count


def trim_library(source: str, target: str) -> tuple[int, int]:
    """Write a trimmed copy of the ICU data library ``source`` to ``target``; returns (old, new) sizes."""
    name, offset, size = _symbol(source)
    with open(source, "rb") as handle:
        handle.seek(offset)
        package, _kept, _total = trim_package(handle.read(size))
    soname = subprocess.run(["objdump", "-p", source], capture_output=True, text=True, check=True).stdout
    soname_match = re.search(r"SONAME\s+(\S+)", soname)
    with tempfile.TemporaryDirectory() as tmp:
        dat, asm, obj = (os.path.join(tmp, f) for f in ("icu.dat", "icu.s", "icu.o"))
        with open(dat, "wb") as handle:
            handle.write(package)
        with open(asm, "w", encoding="ascii") as handle:
            handle.write(
                f'.section .rodata\n.globl {name}\n.type {name}, @object\n.balign 16\n{name}:\n'
                f'.incbin "{dat}"\n.size {name}, .-{name}\n.section .note.GNU-stack,"",@progbits\n'
            )
        subprocess.run(["as", "-o", obj, asm], check=True)
        soname_args = ["-soname", soname_match[1]] if soname_match else []
        subprocess.run(["ld", "-shared", "-z", "noexecstack", *soname_args, "-o", target + ".tmp", obj], check=True)
    os.replace(target + ".tmp", target)
    return os.path.getsize(source), os.path.getsize(target)


if __name__ == "__main__":
    old, new = trim_library(sys.argv[1], sys.argv[2])
    print(f"{sys.argv[1]}: {old / 1e6:.1f} MB -> {new / 1e6:.1f} MB")
