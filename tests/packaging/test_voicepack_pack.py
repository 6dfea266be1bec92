"""The real voice pack: built from the installed eSpeak NG engine by packaging/voicepack.py, served
from a local HTTP server, downloaded and installed by the app's own code, and then the offline
demo's synthesizer speaks with the engine *from the pack* (it is put first on the path, so the copy
installed with pip in this venv cannot stand in for it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from desktop_app.voicepack.download import PackDownload
from tests.voicepack.packserver import PackServer

ROOT = Path(__file__).resolve().parents[2]


async def test_the_built_pack_installs_and_the_demo_speaks_from_it(tmp_path):
    out = tmp_path / "published"
    build = subprocess.run([sys.executable, "packaging/voicepack.py", "--out", str(out), "--dists", "espeakng-loader",
                            "--version", "9"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert build.returncode == 0, build.stderr
    manifest_path = next(out.glob("voicepack-*.json"))
    manifest = json.loads(manifest_path.read_text())
    archive = out / manifest["files"][0]["path"]
    assert manifest["engines"] == {"asr": "sphinx", "tts": "espeak"} and archive.stat().st_size > 1_000_000
    server = PackServer({manifest_path.name: manifest_path.read_bytes(), archive.name: archive.read_bytes()},
                        drop_after=[archive.stat().st_size // 2])  # interrupted half way, then resumed
    try:
        pack = await PackDownload(server.url(manifest_path.name), tmp_path / "data" / "voicepack").run()
    finally:
        server.close()
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import espeakng_loader\n"
        "assert espeakng_loader.__file__.startswith(sys.argv[1]), espeakng_loader.__file__\n"
        "from desktop_app.local_server.speech import tts\n"
        "pcm, words = tts.synthesize('The offline voice pack works.', 'alloy', 'espeak')\n"
        "print(len(pcm), len(words))\n"
    )
    ran = subprocess.run([sys.executable, "-c", code, str(pack.site)], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ran.returncode == 0, ran.stderr
    samples, words = map(int, ran.stdout.split())
    assert samples > 24000 * 0.8 and words == 5  # about a second of speech, one timing per word
