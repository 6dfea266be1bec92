"""The peers, installed into a throwaway virtualenv under the cache directory (reused when present;
nothing of theirs is committed), and copied out with the minimum patched to reach a local server.

Both examples come from the packages' own source distributions on PyPI — the same versions as
installed — since the wheels do not ship them: the ``openai`` SDK's realtime push-to-talk example
(``examples/realtime/push_to_talk_app.py`` + ``audio_util.py``, a Textual TUI) and the
``openai-agents`` realtime CLI demo (``examples/realtime/cli/demo.py``). Versions are pinned so
two runs compare the same code; ``py-spy`` (the profiler) comes along.

What reaches the local server without touching their code: the SDK example builds its WebSocket URL
from ``OPENAI_BASE_URL`` (``http://127.0.0.1:PORT/v1`` → ``ws://…/v1/realtime?model=…``) and takes
any ``OPENAI_API_KEY``. The agents demo has no such setting, hence :data:`PATCHES`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PINS = (
    "openai[realtime]==3.63.0",
    "openai-agents==0.24.0",
    "textual==8.2.8",
    "sounddevice==0.5.6",
    "numpy==2.4.6",
    "py-spy==0.4.3",
)
SDISTS = ("openai==3.63.0", "openai-agents==0.24.0")
SDK_EXAMPLE = ("openai-3.63.0/examples/realtime/push_to_talk_app.py", "openai-3.63.0/examples/realtime/audio_util.py")
AGENTS_DEMO = ("openai_agents-0.24.0/examples/realtime/cli/demo.py",)


@dataclass(frozen=True)
class Patch:
    """One exact replacement in a peer's file, applied to a copy at run time."""

    file: str
    old: str
    new: str
    why: str


PATCHES = (
    Patch("demo.py",
          "            model_config: RealtimeModelConfig = {\n",
          "            model_config: RealtimeModelConfig = {\n"
          "                \"url\": __import__(\"os\").environ[\"PARLEY_BENCH_URL\"],  # parley bench: local server\n",
          "the agents demo always connects to wss://api.openai.com; RealtimeModelConfig's own 'url' "
          "key points it at the scripted server"),
)


TOOLS = ("tmux", "xdotool")  # the SDK example's terminal; push-to-talk held with the mouse


def ensure_tools(log: Callable[[str], None] = print) -> None:
    """The Debian packages the side-by-side benches need beyond ``make test``'s: installed with
    apt-get when root (as ``packaging/system-deps.sh`` does), else a RuntimeError naming them."""
    missing = [p for p in TOOLS if shutil.which(p) is None]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(f"missing {' '.join(missing)}: sudo apt-get install -y {' '.join(missing)}")
    log(f"installing {' '.join(missing)} (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def cache_dir() -> Path:
    base = os.environ.get("PARLEY_BENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "parley-bench")
    return Path(base)


@dataclass
class Peers:
    venv: Path
    sources: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def py_spy(self) -> Path:
        return self.venv / "bin" / "py-spy"

    @staticmethod
    def versions() -> str:
        return ", ".join(PINS)


def ensure(log: Callable[[str], None] = print) -> Peers:
    """The peers' virtualenv and example sources, built once per set of pins."""
    tag = hashlib.sha1("\n".join(PINS + SDISTS).encode()).hexdigest()[:10]
    root = cache_dir() / f"peers-{tag}"
    venv, sources, ready = root / "venv", root / "src", root / ".ready"
    if ready.exists():
        return Peers(venv, sources)
    log(f"setting up the peers in {root} (once; pip from PyPI)")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", *PINS], check=True)
    sdists = root / "sdists"
    subprocess.run([*pip, "download", "--no-deps", "--no-binary", ":all:", "-d", str(sdists), *SDISTS], check=True)
    sources.mkdir()
    wanted = set(SDK_EXAMPLE + AGENTS_DEMO)
    for archive in sdists.glob("*.tar.gz"):
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.name in wanted]
            tar.extractall(sources, members=members, filter="data")
    missing = [name for name in wanted if not (sources / name).is_file()]
    if missing:
        raise RuntimeError(f"the peers' source distributions lack {', '.join(missing)}")
    ready.touch()
    return Peers(venv, sources)


def copy_sdk_example(peers: Peers, to: Path) -> Path:
    """The SDK example's files in ``to`` (unpatched); returns the app's path."""
    to.mkdir(parents=True, exist_ok=True)
    for name in SDK_EXAMPLE:
        shutil.copy(peers.sources / name, to / Path(name).name)
    return to / "push_to_talk_app.py"


def copy_agents_demo(peers: Peers, to: Path) -> Path:
    """The agents demo in ``to`` with :data:`PATCHES` applied (each must match exactly once)."""
    to.mkdir(parents=True, exist_ok=True)
    path = to / "demo.py"
    text = (peers.sources / AGENTS_DEMO[0]).read_text()
    for patch in PATCHES:
        if patch.file == path.name:
            if text.count(patch.old) != 1:
                raise RuntimeError(f"patch for {patch.file} no longer applies ({patch.why})")
            text = text.replace(patch.old, patch.new)
    path.write_text(text)
    return path
