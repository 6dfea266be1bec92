"""The session editor: live changes to the session (sliders, voice, instructions, mode).

* Changes show in the view at once and reach the server once they settle: many slider moves a
  second become one ``session.update`` (:data:`UPDATE_DEBOUNCE_S`).
* The update carries the whole ``turn_detection`` whenever any of it changed (see
  :func:`~desktop_app.realtime.session_config.session_diff`), so no other slider can be reset.
* An ``error`` caused by one of our updates rolls the view back to the server's effective session,
  with a notice.
* ``session.updated`` is the truth: the view adopts it. When nothing of ours is still on its way and
  the server's values differ from what the user chose, the user is told which and how — a value the
  user set is never replaced silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from desktop_app.controller.config import turn_detection_from_vad, vad_view_from_config
from desktop_app.controller.view import ViewModel
from desktop_app.log import get_logger
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.errors import LocalUsageError
from desktop_app.realtime.session_config import SemanticVad, ServerVad, SessionConfig
from desktop_app.realtime.session_locks import hold_between_responses

log = get_logger("controller")

#: Sliders fire many changes a second while dragged; the server gets one update after they settle.
UPDATE_DEBOUNCE_S = 0.3
#: The session options the Session tab changes while talking (each applied per its lock).
LIVE_OPTIONS = frozenset({"reasoning_effort", "noise_reduction", "speed"})

_VAD_WORDS = {"threshold": ("threshold", ""), "prefix_padding_ms": ("prefix padding", " ms"),
              "silence_duration_ms": ("silence", " ms"), "idle_timeout_ms": ("idle timeout", " ms"),
              "eagerness": ("eagerness", ""), "create_response": ("auto-answer", ""),
              "interrupt_response": ("interrupt on speech", "")}


class SessionEditor:
    """Owns the session asked for (``config``) and the updates on their way."""

    def __init__(self, config: SessionConfig, view: ViewModel, core: Callable[[], Dialect | None],
                 flush: Callable[[], None], answering: Callable[[], bool] = lambda: False) -> None:
        self.config = config.validate()
        self._view = view
        self._core = core
        self._flush = flush
        self._answering = answering  # an answer is being made or played
        self._held = False  # a between-answers change waits for the answer to end
        self._handle: asyncio.TimerHandle | None = None
        self._ids: set[str] = set()
        self._in_flight = 0

    def request(self, config: SessionConfig) -> bool:
        """Ask for ``config`` (debounced). False, with a notice and the view rolled back, when invalid."""
        try:
            config.validate()
        except LocalUsageError as exc:
            self._view.notify(str(exc), "warning", cause="settings")
            self.rollback()
            return False
        self.config = config
        self.cancel()
        self._handle = asyncio.get_running_loop().call_later(UPDATE_DEBOUNCE_S, self._send)
        return True

    # --- the intents ----------------------------------------------------------------------------
    def set_turn_detection(self, hands_free: bool) -> None:
        """Hands-free uses the sliders' turn detection; push-to-talk none (the client commits)."""
        td = turn_detection_from_vad(self._view.state.vad) if hands_free else None
        self.request(replace(self.config, turn_detection=td))

    def update_vad(self, *, send: bool, **changes: Any) -> None:
        """Slider moves: shown at once; sent (debounced) when ``send`` (hands-free)."""
        vad = replace(self._view.state.vad, **changes)
        self._view.set(vad=vad)
        if send:
            self.request(replace(self.config, turn_detection=turn_detection_from_vad(vad)))

    def set_voice(self, voice: str, *, locked: bool) -> None:
        if locked and voice != self.config.voice:
            self._view.notify("The voice cannot change after the assistant has spoken; it applies to the "
                              "next conversation.", "warning", cause="settings")
            self._view.set(voice=self.config.voice)
            return
        self._view.set(voice=voice)
        self.request(replace(self.config, voice=voice))

    def set_instructions(self, text: str) -> None:
        self._view.set(instructions=text)
        self.request(replace(self.config, instructions=text))

    def set_options(self, **changes: Any) -> None:
        """Reasoning effort, noise reduction, speaking speed: applied per their locks (a speed asked
        for while an answer runs is applied after it, :func:`hold_between_responses`)."""
        unknown = set(changes) - LIVE_OPTIONS
        if unknown:
            raise ValueError(f"not a live session option: {sorted(unknown)}")
        self.request(replace(self.config, **changes))

    def answer_finished(self) -> None:
        """The answer ended: what waited for it (a new speed) goes now."""
        if self._held:
            self._held = False
            self._send()

    def set_tools(self, config: SessionConfig) -> None:
        """What the model may use: function and MCP tools, the tool choice, parallel calls."""
        self.request(replace(self.config, tools=config.tools, tool_choice=config.tool_choice,
                             parallel_tool_calls=config.parallel_tool_calls))

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def opened(self, core: Dialect) -> None:
        """A new connection: it starts with the whole session asked for (held until it starts; a dialect
        that starts its session itself, GPT-Live, sends it now)."""
        self._ids.clear()
        self._in_flight = 0
        core.update_session(self.config)
        self._flush()

    def _send(self) -> None:
        self._handle = None
        core = self._core()
        if core is None or core.closed:
            return  # applied on the next connection
        wanted = self.config
        if self._answering():  # the answer's speed stays until it ends
            wanted = hold_between_responses(core.session, self.config)
            self._held = wanted != self.config
        try:
            event_id = core.update_session(wanted)
        except LocalUsageError as exc:
            self._view.notify(str(exc), "warning", cause="settings")
            self.config = core.session or self.config
            self.rollback()
            return
        if event_id is not None:
            self._ids.add(event_id)
            self._in_flight += 1
            self._flush()

    def refused(self, event_id: str | None, message: str) -> bool:
        """An ``error``: True (view rolled back, user told) when it answered one of our updates."""
        if event_id is None or event_id not in self._ids:
            return False
        self._ids.discard(event_id)
        self._in_flight = max(0, self._in_flight - 1)
        self.rollback()
        self._view.notify(f"The server refused the new settings: {message}", "warning", cause="settings")
        return True

    def updated(self, effective: SessionConfig) -> None:
        """``session.updated``/``created``: show the server's session; say what it changed."""
        self._in_flight = max(0, self._in_flight - 1)
        settled = self._in_flight == 0 and self._handle is None
        changed = _differences(self.config, effective) if settled else []
        self._view.set(voice=effective.voice, model=effective.model,
                       vad=vad_view_from_config(effective, self._view.state.vad))
        if changed:
            log.warning("! the server's session differs from the one asked for: %s", "; ".join(changed))
            self.config = replace(self.config, turn_detection=effective.turn_detection, voice=effective.voice)
            self._view.notify("The server changed your settings: " + "; ".join(changed) + ".", "warning",
                              cause="settings")

    def rollback(self) -> None:
        """Show the server's effective session again after a refused change."""
        core = self._core()
        effective = core.session if core is not None else None
        if effective is None:
            return
        self.config = replace(self.config, voice=effective.voice, turn_detection=effective.turn_detection,
                              instructions=effective.instructions)
        self._view.set(voice=effective.voice, vad=vad_view_from_config(effective, self._view.state.vad),
                       instructions=effective.instructions or "")


def _differences(asked: SessionConfig, effective: SessionConfig) -> list[str]:
    """Readable differences in what the user sets live: turn detection and voice."""
    out: list[str] = []
    mine, theirs = asked.turn_detection, effective.turn_detection
    if type(mine) is not type(theirs):
        def kind(td: ServerVad | SemanticVad | None) -> str:
            return "off" if td is None else td.type
        out.append(f"turn detection is {kind(theirs)}, not {kind(mine)}")
    elif mine is not None and theirs is not None:
        a, b = mine.to_dict(), theirs.to_dict()
        for name, (words, unit) in _VAD_WORDS.items():
            if a.get(name) != b.get(name):
                out.append(f"{words} is {_shown(b.get(name), unit)}, not {_shown(a.get(name), unit)}")
    if asked.voice != effective.voice:
        out.append(f"the voice is {effective.voice}, not {asked.voice}")
    return out


def _shown(value: object, unit: str) -> str:
    if value is None:
        return "off"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value}{unit}"
