"""Fixtures for real audio devices: a private PipeWire session with a null sink.

``pipewire_session`` (session scope) starts, in a fresh ``XDG_RUNTIME_DIR`` (mode 700), a session
D-Bus, ``pipewire``, ``wireplumber`` and ``pipewire-pulse``; loads the mono 48 kHz null sink ``vsink``
and makes it the default sink and its monitor the default source. PortAudio then sees real devices
(``pipewire``, ``pulse``, ``default``) through the ALSA plugins, and anything played to the default
output comes back on the default input ~25–30 ms later. The environment is set in ``os.environ``
and PortAudio re-initialised, so every stream the tests open lands in this session. Teardown ends
exactly the processes started here.

Every test marked ``@pytest.mark.audio`` gets the session automatically. Missing binaries FAIL the
test with the packages to install: CI installs them, so a skip would hide a broken setup.

Helpers on the session object:

* ``add_sink(name)`` / ``remove_sink(sink)``: an extra null sink, also declared to ALSA as the PCM
  ``parley_<name>`` so PortAudio lists it after a refresh (hot-plug).
* ``stop_pulse_server()`` / ``start_pulse_server()``: end and restart ``pipewire-pulse``. Every stream
  on PortAudio's ``pulse`` device then fails the way a device does when it is unplugged: PortAudio's
  thread gets an error and ends the stream. (Removing a sink under a PipeWire-ALSA stream is no use
  for this: WirePlumber moves the stream to another sink, and with ``node.dont-reconnect`` PortAudio
  19.6's ALSA thread spins forever instead of failing — measured.) ``vsink`` is created with
  ``object.linger`` so it survives the restart.
* ``inject(samples, rate)`` / ``inject_wav(path)``: play a near-end talker into the default sink with
  ``pw-cat`` (mixed with whatever Parley plays, heard on the monitor like a microphone would).
* :func:`wait_for`: a bounded async wait on a condition.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

PACKAGES = "libportaudio2 pipewire pipewire-bin pipewire-alsa pipewire-pulse wireplumber pulseaudio-utils dbus libasound2-plugins"
BINARIES = {
    "pipewire": "pipewire-bin",
    "wireplumber": "wireplumber",
    "pipewire-pulse": "pipewire-pulse",
    "pw-cat": "pipewire-bin",
    "pactl": "pulseaudio-utils",
    "dbus-daemon": "dbus",
}
SYSTEM_ALSA_CONF = "/usr/share/alsa/alsa.conf"
SINK = "vsink"
SINK_RATE = 48000
ENV_KEYS = ("XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "PULSE_SERVER", "ALSA_CONFIG_PATH", "PIPEWIRE_PROPS")


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies, however it dies (a killed
    run must not leave a PipeWire session behind)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_sync(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> None:
    """Wait (bounded) until ``condition()`` holds; fails the test with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


@dataclass
class VirtualSink:
    """An extra null sink: its PulseAudio module id and the ALSA PCM name PortAudio shows."""

    name: str
    module_id: str
    alsa_name: str


class PipeWireSession:
    """A private PipeWire session; see the module docstring."""

    def __init__(self) -> None:
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="parley-pw-"))
        os.chmod(self.runtime_dir, 0o700)
        self.alsa_conf = self.runtime_dir / "asound-parley.conf"
        self.alsa_conf.write_text("# PCMs for sinks added by tests\n")
        self.env: dict[str, str] = {}
        self._procs: list[subprocess.Popen] = []
        self._saved_env: dict[str, str | None] = {}
        self._extra_pcms: dict[str, str] = {}

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        env = dict(os.environ, XDG_RUNTIME_DIR=str(self.runtime_dir))
        for sub in ("state", "config"):  # WirePlumber keeps state there: never the developer's home
            (self.runtime_dir / sub).mkdir()
        env["XDG_STATE_HOME"] = str(self.runtime_dir / "state")
        env["XDG_CONFIG_HOME"] = str(self.runtime_dir / "config")
        dbus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )
        self._procs.append(dbus)
        assert dbus.stdout is not None
        if not select.select([dbus.stdout], [], [], 10)[0]:
            raise RuntimeError("dbus-daemon printed no address within 10 s")
        env["DBUS_SESSION_BUS_ADDRESS"] = dbus.stdout.readline().decode().strip()
        env["PULSE_SERVER"] = f"unix:{self.runtime_dir}/pulse/native"
        env["ALSA_CONFIG_PATH"] = f"{SYSTEM_ALSA_CONF}:{self.alsa_conf}"
        env.pop("PIPEWIRE_PROPS", None)
        self.env = {k: env[k] for k in ENV_KEYS if k in env}
        self._full_env = env
        self._spawn("pipewire")
        _wait_sync(lambda: (self.runtime_dir / "pipewire-0").exists(), 10, "the pipewire socket")
        self._spawn("wireplumber")
        self.start_pulse_server()
        self.pactl(
            "load-module", "module-null-sink", f"sink_name={SINK}", "object.linger=1", "media.class=Audio/Sink",
            "channel_map=mono", f"rate={SINK_RATE}", "sink_properties=device.description=ParleyTestSink",
        )
        _wait_sync(lambda: SINK in self.sink_names(), 10, f"sink {SINK}")
        self.set_default("sink", SINK)
        self.set_default("source", f"{SINK}.monitor")
        for key in ENV_KEYS:
            self._saved_env[key] = os.environ.get(key)
        os.environ.pop("PIPEWIRE_PROPS", None)
        os.environ.update(self.env)
        self.reinit_portaudio()

    def stop(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def _spawn(self, binary: str) -> subprocess.Popen:
        log = open(self.runtime_dir / f"{binary}.log", "ab")  # noqa: SIM115 — child keeps it
        proc = subprocess.Popen([binary], env=self._full_env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        self._procs.append(proc)
        return proc

    def start_pulse_server(self) -> None:
        self._pulse = self._spawn("pipewire-pulse")
        _wait_sync(lambda: self._pactl_ok("info"), 15, "pipewire-pulse to answer `pactl info`")

    def stop_pulse_server(self) -> None:
        """End ``pipewire-pulse`` (the ``pulse`` device's server): streams on it fail."""
        self._pulse.terminate()
        self._pulse.wait(timeout=5)
        self._procs.remove(self._pulse)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(self.runtime_dir.glob("*.log")))

    # --- helpers -------------------------------------------------------------------------------

    def pactl(self, *args: str) -> str:
        out = subprocess.run(["pactl", *args], env=self._full_env, capture_output=True, text=True, check=False,
                             timeout=10)
        if out.returncode != 0:
            raise subprocess.CalledProcessError(out.returncode, out.args, out.stdout,
                                                f"pactl {' '.join(args)}: {out.stderr.strip() or out.stdout.strip()}")
        return out.stdout

    def set_default(self, kind: str, name: str) -> None:
        """Make ``name`` the default ``kind`` ("sink" or "source") and wait until it is.

        Asked for too early it fails: pipewire-pulse creates a null sink by itself, but the default
        is WirePlumber's metadata, which a loaded machine may not have set up yet (seen once at load
        2.3: ``set-default-sink`` exited 1 right after the sink was listed). So: ask until it holds.
        """
        def done() -> bool:
            return self._pactl_ok(f"set-default-{kind}", name) and self.pactl(f"get-default-{kind}").strip() == name

        _wait_sync(done, 10, f"{name} to become the default {kind}", interval=0.1)

    def _pactl_ok(self, *args: str) -> bool:
        try:
            self.pactl(*args)
            return True
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return False

    @staticmethod
    def reinit_portaudio() -> None:
        import sounddevice as sd

        sd._terminate()
        sd._initialize()

    def sink_names(self) -> list[str]:
        return [line.split("\t")[1] for line in self.pactl("list", "short", "sinks").splitlines() if "\t" in line]

    def add_sink(self, name: str, rate: int = SINK_RATE) -> VirtualSink:
        """Load a null sink and declare the ALSA PCM ``parley_<name>`` playing to it (PortAudio sees
        it after its next re-initialisation)."""
        module_id = self.pactl(
            "load-module", "module-null-sink", f"sink_name={name}", "media.class=Audio/Sink", "channel_map=mono",
            f"rate={rate}",
        ).strip()
        _wait_sync(lambda: name in self.sink_names(), 10, f"sink {name}")
        alsa_name = f"parley_{name}"
        self._extra_pcms[name] = (
            f'pcm.{alsa_name} {{\n  type pipewire\n  playback_node "{name}"\n  capture_node "{name}"\n'
            f'  hint {{ show on description "{name}" }}\n}}\n'
        )
        self._write_alsa_conf()
        return VirtualSink(name, module_id, alsa_name)

    def remove_sink(self, sink: VirtualSink, forget_pcm: bool = True) -> None:
        self.pactl("unload-module", sink.module_id)
        _wait_sync(lambda: sink.name not in self.sink_names(), 10, f"sink {sink.name} to go")
        if forget_pcm:
            self._extra_pcms.pop(sink.name, None)
            self._write_alsa_conf()

    def _write_alsa_conf(self) -> None:
        self.alsa_conf.write_text("# PCMs for sinks added by tests\n" + "".join(self._extra_pcms.values()))

    def inject_wav(self, path: Path, target: str = SINK) -> subprocess.Popen:
        """Start playing a WAV into ``target`` (a near-end talker); returns the pw-cat process."""
        return subprocess.Popen(["pw-cat", "--playback", "--target", target, str(path)], env=self._full_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def inject(self, samples: np.ndarray, rate: int, target: str = SINK) -> subprocess.Popen:
        """Like :meth:`inject_wav` for float samples in [-1, 1] (mono)."""
        path = Path(tempfile.mkstemp(suffix=".wav", dir=self.runtime_dir)[1])
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2").tobytes())
        return self.inject_wav(path, target)


def _check_binaries() -> None:
    missing = sorted({pkg for binary, pkg in BINARIES.items() if shutil.which(binary) is None})
    if missing:
        pytest.fail(
            f"audio tests need a private PipeWire session but {', '.join(missing)} is not installed; "
            f"install: sudo apt-get install -y {PACKAGES} (or run packaging/system-deps.sh test)",
            pytrace=False,
        )
    try:
        import sounddevice  # noqa: F401
    except OSError as exc:
        pytest.fail(f"PortAudio is missing ({exc}); install libportaudio2", pytrace=False)


@pytest.fixture(scope="session")
def pipewire_session():
    """A running private PipeWire session with ``vsink`` as the default sink (see module docstring)."""
    _check_binaries()
    session = PipeWireSession()
    try:
        session.start()
    except Exception as exc:
        logs = session.logs()
        session.stop()
        said = f" ({exc.stderr})" if isinstance(exc, subprocess.CalledProcessError) else ""
        pytest.fail(f"could not start the private PipeWire session: {exc}{said}\n{logs}", pytrace=False)
    yield session
    session.stop()
    try:
        session.reinit_portaudio()
    except Exception:  # the session is gone; a dead PortAudio must not fail the run
        pass


@pytest.fixture(autouse=True)
def _pipewire_for_audio_tests(request):
    """Tests marked ``audio`` run inside the PipeWire session."""
    if request.node.get_closest_marker("audio") is not None:
        request.getfixturevalue("pipewire_session")
