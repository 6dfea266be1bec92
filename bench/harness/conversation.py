"""One scripted conversation per client, on one room, one server and one display.

:class:`Bench` starts, once for all clients: the room (PipeWire session, talker, probes), Xvfb,
and the scripted server (its own process). :meth:`Bench.converse` then runs a client through the
script — connect, ``silent_s`` connected and silent, then the seven questions (the 6th and 7th
spoken over the answer before them) — measuring its process tree's CPU in both phases and its RSS,
and returns the per-turn figures of :mod:`.analysis`.

Turn-taking follows the server's marks, as a person follows what they hear: the next question
comes 1.5 s after the previous answer has been sent in full (sent in real time, so it has just
finished playing), a barge-in 2.0 s after the answer's first delta.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from bench.harness import analysis, script
from bench.harness.clients import ROOT, Client, ParleyWindow
from bench.harness.procstat import Meter
from bench.harness.room import Probe, Room, Talker

SETTLE_S = 5.0  # after connecting, before the silent minute is measured
PAUSE_S = 1.5  # after an answer was sent in full, before the next question
BARGE_AFTER_S = 2.0  # a barge-in starts this long after the answer's first delta
PTT_LEAD_S, PTT_TAIL_S = 0.4, 0.3  # push-to-talk held this long before and after the question
TURN_TIMEOUT_S = 25.0


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class RunResult:
    client: str
    cpu_silent: float | None = None
    cpu_turns: float | None = None
    display_cpu_silent: float | None = None  # the X server or terminal it draws on (outside its tree)
    display_cpu_turns: float | None = None
    rss_mib: float | None = None
    peak_rss_mib: float | None = None
    turns: list[analysis.TurnFigures] = field(default_factory=list)
    load: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    appends: dict[str, Any] = field(default_factory=dict)
    utterances: list[analysis.Utterance] = field(default_factory=list)
    server_marks: list[dict[str, Any]] = field(default_factory=list)

    def values(self, name: str, barge: bool | None = None) -> list[float | None]:
        return [getattr(t, name) for t in self.turns if barge is None or t.barge == barge]


class ServerLog:
    """The scripted server's marks, read as they are written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.marks: list[dict[str, Any]] = []
        self._offset = 0

    def poll(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return self.marks
        with open(self.path) as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        self._offset += len(complete.encode())
        self.marks += [json.loads(line) for line in complete.splitlines() if line]
        return self.marks

    def conns_since(self, t: float) -> set[int]:
        return {m["conn"] for m in self.poll() if m["ev"] == "open" and m["t"] >= t}

    def find(self, conns: set[int], ev: str, after: float, **match: Any) -> dict[str, Any] | None:
        for m in self.poll():
            if m["conn"] in conns and m["ev"] == ev and m["t"] >= after and all(m.get(k) == v for k, v in match.items()):
                return m
        return None


class Bench:
    """Room + Xvfb + scripted server (context manager); :meth:`converse` runs one client."""

    def __init__(self, work: Path, *, silent_s: float = 60.0, pace: float = 1.0,
                 log: Callable[[str], None] = print) -> None:
        self.work = work
        self.silent_s = silent_s
        self.pace = pace
        self.log = log
        self.room = Room()
        self.assets: script.Assets | None = None
        self._xvfb: subprocess.Popen | None = None
        self._server: subprocess.Popen | None = None
        self.display = ""
        self.url = ""
        self.server_log = ServerLog(work / "server.jsonl")

    def __enter__(self) -> Self:
        self.work.mkdir(parents=True, exist_ok=True)
        self.assets = script.make(self.work / "assets")
        self.room.start()
        try:
            self._start_xvfb()
            self._start_server()
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in (self._server, self._xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        self.room.stop()

    def _start_xvfb(self) -> None:
        read, write = os.pipe()
        self._xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
                                      pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start (is the xvfb package installed?)")
        self.display = f":{number}"

    def _start_server(self) -> None:
        assert self.assets is not None
        port_file = self.work / "server.port"
        log = open(self.work / "server.out", "ab")  # noqa: SIM115 — the child keeps it
        self._server = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "harness" / "scripted_server.py"), "--answer", str(self.assets.answer_wav),
             "--answer-text", self.assets.answer_text, "--questions", str(self.assets.questions_json),
             "--log", str(self.server_log.path), "--port-file", str(port_file), "--pace", str(self.pace)],
            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        log.close()
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if self._server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the scripted server did not start; see {self.work / 'server.out'}")
            time.sleep(0.05)
        self.url = f"ws://127.0.0.1:{port_file.read_text().strip()}/v1/realtime"

    # --- one client ------------------------------------------------------------------------------

    def converse(self, client: Client, silent_s: float | None = None,
                 during_turns: Callable[[int], Callable[[], None]] | None = None,
                 during_silent: Callable[[int], Callable[[], None]] | None = None) -> RunResult:
        """Run ``client`` through the script. ``during_turns(pid)`` is called as the turns start
        and returns what to call when they end (a profiler); ``during_silent(pid)`` the same for
        the connected-and-silent phase."""
        assert self.assets is not None
        silent_s = self.silent_s if silent_s is None else silent_s
        result = RunResult(client.name, load=[loadavg()])
        work = self.work / client.name.replace(" ", "-").replace(",", "")
        env = dict(os.environ, **self.room.client_env(), DISPLAY=self.display)
        probes = [Probe("mic", silent_s + 240), Probe("spk", silent_s + 240)] if client.devices else []
        talker = Talker()
        streams: list[Probe | Talker] = [*probes, talker]
        for stream in streams:
            stream.start()
        started = time.monotonic()
        meter: Meter | None = None
        finish: Callable[[], None] | None = None
        display: Meter | None = None
        if isinstance(client, ParleyWindow):
            client.xvfb_pid = self._xvfb.pid if self._xvfb is not None else None
        try:
            client.start(env, self.url, work)
            meter = Meter(client.pid)
            self._wait(lambda: client.ready() and self._connected(started), 90, "the client to connect", client)
            shown_by = client.display_pid()
            display = Meter(shown_by, tree=False) if shown_by is not None else None
            self._idle(SETTLE_S, meter)
            meter.mark("silent0")
            if display is not None:
                display.mark("silent0")
            finish = during_silent(client.pid) if during_silent is not None else None
            self._idle(silent_s, meter)
            meter.mark("silent1")
            stop_profiler, finish = finish, None
            if stop_profiler is not None:
                stop_profiler()
            result.cpu_silent = meter.cpu_percent("silent0", "silent1")
            if display is not None:
                display.mark("silent1")
                result.display_cpu_silent = display.cpu_percent("silent0", "silent1")
            client.before_turns()
            self._idle(2.0, meter)
            meter.mark("turns0")
            if display is not None:
                display.mark("turns0")
            finish = during_turns(client.pid) if during_turns is not None else None
            if client.devices:
                self._speak_turns(client, talker, meter, started)
            else:
                def answered() -> int:  # answers sent in full or cut off by a barge-in
                    conns = self.server_log.conns_since(started)
                    return sum(1 for m in self.server_log.poll() if m["conn"] in conns and m["ev"] in ("response_done", "cancel"))

                self._wait(lambda: answered() >= len(script.QUESTIONS), 300, "the headless run's answers", client, meter)
            self._idle(PAUSE_S, meter)
            meter.mark("turns1")
            if display is not None:
                display.mark("turns1")
                result.display_cpu_turns = display.cpu_percent("turns0", "turns1")
            stop_profiler, finish = finish, None
            if stop_profiler is not None:
                stop_profiler()
            result.cpu_turns = meter.cpu_percent("turns0", "turns1")
            result.rss_mib = meter.marks["turns1"].rss
            result.peak_rss_mib = max(r for t, r in meter.rss_trace if t >= meter.marks["turns0"].wall)
        except Exception as exc:  # noqa: BLE001 — one client failing is a line in the table, not the end of the bench
            result.notes.append(f"run failed: {exc}")
            self.log(f"  ! {client.name}: {exc} (log: {client.log_path})")
        finally:
            if finish is not None:  # the run failed during the turns
                finish()
            client.stop()
            for stream in streams:
                stream.stop()
        result.load.append(loadavg())
        marks = [m for m in self.server_log.poll() if m["conn"] in self.server_log.conns_since(started)]
        closes = [m for m in marks if m["ev"] == "close"]
        if closes:
            result.appends = {"appends": sum(m["appends"] for m in closes), "audio_s": sum(m["append_ms"] for m in closes) / 1000}
        speaker = probes[1].recording() if probes else None
        result.utterances = [analysis.Utterance(u.index, u.onset, u.end) for u in talker.said]
        result.server_marks = marks
        result.turns = analysis.turn_figures(result.utterances, script.BARGE_INS, marks, speaker)
        return result

    def _connected(self, since: float) -> bool:
        conns = self.server_log.conns_since(since)
        return bool(conns) and self.server_log.find(conns, "session.update", since) is not None

    def _speak_turns(self, client: Client, talker: Talker, meter: Meter, since: float) -> None:
        assert self.assets is not None
        log = self.server_log
        time_of = lambda: log.conns_since(since)
        previous_onset = 0.0
        for k, question in enumerate(self.assets.questions):
            if k > 0:
                response = self._wait_mark(time_of, "response", previous_onset, meter, client)
                if response is None:
                    self.log(f"  ! {client.name}: no answer to question {k}")
                elif k in script.BARGE_INS:
                    first = self._wait_mark(time_of, "first_delta", response["t"], meter, client,
                                            response_id=response["response_id"])
                    if first is not None:
                        self._idle(max(0.0, first["t"] + BARGE_AFTER_S - time.monotonic()), meter)
                else:
                    done = self._wait_mark(time_of, "response_done", response["t"], meter, client,
                                           response_id=response["response_id"])
                    cancelled = log.find(time_of(), "cancel", response["t"], response_id=response["response_id"])
                    if done is None and cancelled is None:
                        self.log(f"  ! {client.name}: answer {k} did not finish")
                    self._idle(PAUSE_S, meter)
            if client.ptt:
                client.press()
                self._idle(PTT_LEAD_S, meter)
            said = len(talker.said)
            talker.say(k, question)
            self._wait(lambda said=said: len(talker.said) > said, 30, "the talker", client, meter)  # type: ignore[misc]
            previous_onset = talker.said[-1].onset
            if client.ptt:
                self._idle(PTT_TAIL_S, meter)
                client.release()
        response = self._wait_mark(time_of, "response", previous_onset, meter, client)
        if response is not None:
            self._wait_mark(time_of, "response_done", response["t"], meter, client, response_id=response["response_id"])

    def _wait_mark(self, conns: Callable[[], set[int]], ev: str, after: float, meter: Meter, client: Client,
                   **match: Any) -> dict[str, Any] | None:
        deadline = time.monotonic() + TURN_TIMEOUT_S
        while time.monotonic() < deadline and client.alive():
            found = self.server_log.find(conns(), ev, after, **match)
            if found is not None:
                return found
            self._idle(0.02, meter)
        return None

    def _wait(self, condition: Callable[[], bool], timeout: float, what: str, client: Client, meter: Meter | None = None) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if not client.alive():
                raise RuntimeError(f"the client exited while waiting for {what}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
            self._idle(0.05, meter)

    @staticmethod
    def _idle(seconds: float, meter: Meter | None) -> None:
        """Sleep ``seconds``, sampling the client's RSS about once a second."""
        end = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            if now >= end:
                return
            if meter is not None and (not meter.rss_trace or now - meter.rss_trace[-1][0] >= 1.0):
                meter.sample()
            time.sleep(min(0.05, end - now))
