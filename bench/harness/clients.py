"""The clients the benchmarks run, each in its own process tree on the room's devices.

Every client is started with the room's environment (so PortAudio lands in the private PipeWire
session and uses its default devices: ``spk`` and ``mic``) and measured as a process tree. What
differs is how a person would drive it:

* :class:`ParleyWindow` — ``bench/harness/parley_window.py`` under Xvfb; push-to-talk is the big
  button held with the mouse (``xdotool``), exactly as a person holds it.
* :class:`ParleyHeadless` — ``parley --headless`` reading one WAV (it has no device I/O).
* :class:`SdkExample` — the ``openai`` SDK's Textual push-to-talk app in a private ``tmux``
  server; ``k`` starts streaming the microphone (server VAD then takes the turns), ``q`` quits.
* :class:`AgentsDemo` — the ``openai-agents`` CLI demo; it streams the microphone from the start.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import peers_env

ROOT = Path(__file__).resolve().parents[2]
AGENTS_MODEL = re.compile(r'"model_name":\s*"([^"]+)"')


class Client:
    """A client process tree. Subclasses set ``name`` and implement :meth:`launch`."""

    name = "client"
    devices = True  # plays and records on the room's devices (False: headless)
    ptt = False

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, env: dict[str, str], url: str, work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.log_path = work / "client.log"
        self.launch(env, url, work)

    def launch(self, env: dict[str, str], url: str, work: Path) -> None:
        raise NotImplementedError

    def ready(self) -> bool:
        """Started far enough for the bench to drive it (the server sees the connection anyway)."""
        return True

    def display_pid(self) -> int | None:
        """The process that draws what this client shows (outside its tree), if any."""
        return None

    def before_turns(self) -> None:
        """What a person does before speaking (the SDK example's ``k``)."""

    def press(self) -> None:
        """Push-to-talk down (clients without it ignore this)."""

    def release(self) -> None:
        """Push-to-talk up."""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def _popen(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        assert self.log_path is not None
        log = open(self.log_path, "ab")  # noqa: SIM115 — the child keeps it
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()


def _parley_env(env: dict[str, str], work: Path) -> dict[str, str]:
    out = dict(env)
    home = work / "parley-home"
    home.mkdir(exist_ok=True)
    out["PARLEY_HOME"] = str(home)
    out["PYTHONPATH"] = str(ROOT) + (os.pathsep + out["PYTHONPATH"] if out.get("PYTHONPATH") else "")
    # No Secret Service in the room: with one that cannot be unlocked, connecting to the bench's
    # keyless endpoint fails ("Prompt dismissed"). The null backend is a machine with no key stored.
    out["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return out


class ParleyWindow(Client):
    """Parley's window (Xvfb) in ``audio_mode`` and ``turn_mode``; ``stages``: also record the
    capture path's stage marks into that file."""

    def __init__(self, audio_mode: str, turn_mode: str = "hands_free", stages: Path | None = None,
                 label: str | None = None, tracemalloc: Path | None = None) -> None:
        super().__init__()
        self.audio_mode, self.turn_mode, self.stages = audio_mode, turn_mode, stages
        self.tracemalloc = tracemalloc  # the window's allocation growth report (parley_window.py)
        self.ptt = turn_mode == "push_to_talk"
        mode = "AEC" if audio_mode == "speakers" else "headset"
        self.name = label or f"Parley window, {mode}" + (", PTT" if self.ptt else "")
        self.status: Path | None = None
        self._display = ""
        self._ptt_at: tuple[int, int] | None = None
        self.xvfb_pid: int | None = None  # set by the bench

    def launch(self, env: dict[str, str], url: str, work: Path) -> None:
        env = _parley_env(env, work)
        env["QT_QPA_PLATFORM"] = "xcb"
        self._display = env["DISPLAY"]
        self.status = work / "window-status.json"
        argv = [sys.executable, str(ROOT / "bench" / "harness" / "parley_window.py"), "--url", url,
                "--audio-mode", self.audio_mode, "--turn-mode", self.turn_mode, "--status", str(self.status)]
        if self.stages is not None:
            argv += ["--stages", str(self.stages)]
        if self.tracemalloc is not None:
            argv += ["--tracemalloc", str(self.tracemalloc)]
        self._popen(argv, env)

    def ready(self) -> bool:
        if self.status is None or not self.status.exists():
            return False
        x, y = json.loads(self.status.read_text())["ptt"]
        self._ptt_at = (int(x), int(y))
        return True

    def display_pid(self) -> int | None:
        return self.xvfb_pid

    def _xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": self._display}, check=True, timeout=10)

    def press(self) -> None:
        if self.ptt:
            assert self._ptt_at is not None
            self._xdotool("mousemove", str(self._ptt_at[0]), str(self._ptt_at[1]), "mousedown", "1")

    def release(self) -> None:
        if self.ptt:
            self._xdotool("mouseup", "1")


class ParleyHeadless(Client):
    """``parley --headless`` with the whole conversation as its input WAV."""

    name = "parley --headless"
    devices = False

    def __init__(self, input_wav: Path, timeout_s: float) -> None:
        super().__init__()
        self.input_wav, self.timeout_s = input_wav, timeout_s

    def launch(self, env: dict[str, str], url: str, work: Path) -> None:
        self._popen([sys.executable, "-m", "desktop_app", "--headless", "--url", url, "--input", str(self.input_wav),
                     "--mode", "vad", "--timeout", str(int(self.timeout_s))], _parley_env(env, work))


class SdkExample(Client):
    """The ``openai`` SDK's push-to-talk TUI in a private tmux server (120×40)."""

    name = "openai SDK push-to-talk example"

    def __init__(self, peers: peers_env.Peers) -> None:
        super().__init__()
        self.peers = peers
        self.socket = Path(tempfile.mkdtemp(prefix="parley-bench-tmux-")) / "tmux.sock"

    def _tmux(self, *args: str, capture: bool = False) -> str:
        result = subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True, text=True, timeout=10,
                                check=True)
        return result.stdout if capture else ""

    def launch(self, env: dict[str, str], url: str, work: Path) -> None:
        app = peers_env.copy_sdk_example(self.peers, work / "sdk-example")
        base = url.split("/v1/realtime")[0].replace("ws://", "http://") + "/v1"
        variables = {k: v for k, v in env.items() if k not in ("TMUX", "TERM")}
        variables.update(OPENAI_API_KEY="sk-parley-bench-local", OPENAI_BASE_URL=base, TERM="xterm-256color")
        command = ["env", *[f"{k}={v}" for k, v in variables.items()], str(self.peers.python), app.name]
        self._tmux("new-session", "-d", "-s", "sdk", "-x", "120", "-y", "40", "-c", str(app.parent), *command)
        pid = int(self._tmux("display-message", "-p", "-t", "sdk", "#{pane_pid}", capture=True).strip())
        self.proc = _Adopted(pid)  # type: ignore[assignment]

    def ready(self) -> bool:
        try:
            screen = self._tmux("capture-pane", "-p", "-t", "sdk", capture=True)
        except subprocess.CalledProcessError:
            return False
        return "Press K" in screen

    def before_turns(self) -> None:
        self._tmux("send-keys", "-t", "sdk", "k")

    def display_pid(self) -> int | None:
        return int(self._tmux("display-message", "-p", "#{pid}", capture=True).strip())

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "sdk", capture=True)

    def stop(self) -> None:
        try:
            if self.alive():
                self._tmux("send-keys", "-t", "sdk", "q")
                deadline = time.monotonic() + 10
                while self.alive() and time.monotonic() < deadline:
                    time.sleep(0.1)
        finally:
            if self.log_path is not None and self.socket.exists():
                try:
                    self.log_path.write_text(self.screen())
                except subprocess.CalledProcessError:
                    pass
            subprocess.run(["tmux", "-S", str(self.socket), "kill-server"], capture_output=True, timeout=10, check=False)


class AgentsDemo(Client):
    """The ``openai-agents`` realtime CLI demo (patched: see :data:`peers_env.PATCHES`)."""

    name = "openai-agents realtime demo"

    def __init__(self, peers: peers_env.Peers) -> None:
        super().__init__()
        self.peers = peers

    def launch(self, env: dict[str, str], url: str, work: Path) -> None:
        demo = peers_env.copy_agents_demo(self.peers, work / "agents-demo")
        # the URL the SDK would build for the demo's model (the server refuses a model change)
        model = AGENTS_MODEL.search(demo.read_text())
        if model is None:
            raise RuntimeError("the agents demo names no model_name")
        env = dict(env, OPENAI_API_KEY="sk-parley-bench-local", PARLEY_BENCH_URL=f"{url}?model={model.group(1)}",
                   PYTHONUNBUFFERED="1",
                   # traces would be exported to api.openai.com, which this machine cannot reach
                   OPENAI_AGENTS_DISABLE_TRACING="1")
        self._popen([str(self.peers.python), demo.name], env, cwd=demo.parent)


class _Adopted:
    """A process we did not fork (tmux's pane) with the bits of Popen the bench uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return 0
        return 0 if state == "Z" else None

    def send_signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout or 1e9)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.05)
        return 0

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)
