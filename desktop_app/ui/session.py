"""The GUI's composition of one conversation: settings → profile → key → target, the embedded
local server for the offline demo, the audio port, and the :class:`Controller`.

The window talks to this object only: it calls the intents (``connect``, ``press_talk``,
``update_vad`` …) and renders ``view_changed``. The session forwards intents to the controller,
persists what the person chose (mode, VAD values, voice, devices) and keeps the view whole:

* a controller is built per conversation; a new one is made at the next connect when the profile,
  model, transcription or audio format changed (those cannot change inside a session);
* the local server, when the demo profile is used, runs on this same loop and stops at shutdown;
* audio devices that are missing or fail never stop the conversation (:mod:`.audio_guard`);
* every conversation is observed and saved (:mod:`.conversation_log`), and a saved one can be continued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app.controller.config import session_config_from_settings, vad_view_from_settings
from desktop_app.controller.audio_port import AudioPort
from desktop_app.controller.controller import Controller, Earlier
from desktop_app.controller.dialects import dialect_for
from desktop_app.controller.endpoint import make_target
from desktop_app.transport.webrtc_support import transport_factory
from desktop_app.controller.probe import probe_endpoint
from desktop_app.controller.states import Conn, MicMode
from desktop_app.controller.view_state import VadView, ViewState
from desktop_app.errors import ConfigError, ParleyError
from desktop_app.log import get_logger
from desktop_app.settings.launch import RunOverride
from desktop_app.settings.profiles import LocalProfile, Profile
from desktop_app.settings.schema import Settings
from desktop_app.settings.secrets import KeyStore
from desktop_app.settings.store import SettingsStore
from desktop_app.tasks import spawn
from desktop_app.transport import Endpoint
from desktop_app.ui.audio_guard import GuardedPort
from desktop_app.ui.conversation_log import ConversationLog
from desktop_app.ui.demo_server import DemoServer, default_server
from desktop_app.ui.tools_part import SessionTools

log = get_logger("ui")

#: Chosen values are written to the settings file once they have settled for this long.
PERSIST_DELAY_MS = 800
CLOSE_TIMEOUT_S = 5.0
LIVE = (Conn.CONNECTING, Conn.CONNECTED, Conn.RECONNECTING)

#: Errors after which the key itself is the thing to fix (the banner's action opens the key dialog).
KEY_ERRORS = frozenset({"invalid_api_key", "missing_api_key", "insufficient_quota"})


AudioFactory = Callable[[Settings], AudioPort]
ServerFactory = Callable[[], AbstractAsyncContextManager[DemoServer]]


def _vad_settings(vad: VadView) -> dict[str, Any]:
    return {"vad_type": vad.type, "vad_threshold": vad.threshold, "vad_prefix_padding_ms": vad.prefix_padding_ms,
            "vad_silence_duration_ms": vad.silence_duration_ms, "vad_idle_timeout_ms": vad.idle_timeout_ms,
            "vad_eagerness": vad.eagerness, "vad_create_response": vad.create_response,
            "vad_interrupt_response": vad.interrupt_response}


class ConversationSession(QObject):
    """Intents in, ``view_changed(ViewState)`` out. Build it in the composition root."""

    view_changed = Signal(object)

    def __init__(self, store: SettingsStore, keys: KeyStore, make_audio: AudioFactory, *,
                 local_server: ServerFactory = default_server, override: RunOverride | None = None,
                 parent: QObject | None = None, conversations: ConversationLog) -> None:
        super().__init__(parent)
        self.conversations = conversations
        self.store = store
        self.override = override  # ``--url``/``--model``: this run only, never saved
        self.keys = keys
        self._make_audio = make_audio
        self._server_factory = local_server
        self._server_cm: AbstractAsyncContextManager[DemoServer] | None = None
        self.server: DemoServer | None = None
        self._server_lock = asyncio.Lock()
        self._warm_up: asyncio.Task[None] | None = None
        self._targets: dict[tuple[Any, ...], Any] = {}
        self._built_for: tuple[Any, ...] = ()
        self.port: GuardedPort | None = None
        self.view = ViewState()
        self._persist_timer = QTimer(self)
        self.tools = SessionTools(store, keys, self)  # the assistant's tools: registry, ToolBox, secrets
        self.controller = self._build_controller()
        self.view = self.controller.view
        self._persist_timer.setSingleShot(True)
        self._persist_timer.setInterval(PERSIST_DELAY_MS)
        self._persist_timer.timeout.connect(self.persist)
        for sentence in store.notices:
            self.notify(sentence, "warning")

    # --- building -----------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings this run uses: the saved ones, with ``--url``/``--model`` laid over them."""
        saved = self.store.settings
        return self.override.apply(saved) if self.override is not None else saved

    def _key_of(self, settings: Settings) -> tuple[Any, ...]:
        """What a session cannot change once started: a change means a new controller."""
        return (settings.active_profile, settings.profile(), settings.model, settings.input_transcription_model,
                settings.transcription_languages, settings.transcription_keywords, settings.transcription_delay,
                settings.input_audio_format)

    def _build_controller(self, earlier: Earlier | None = None, continued_from: str | None = None) -> Controller:
        settings = self.settings
        self._built_for = self._key_of(settings)
        self.port = GuardedPort(self._make_audio(settings), lambda s: self.notify(s, "warning", "audio"))
        config, left_out = self.tools.offer(session_config_from_settings(settings),
                                            traits=dialect_for(settings.model).traits)
        controller = Controller(
            target=self._target, audio=self.port, config=config, tools=self.tools.box,
            vad=vad_view_from_settings(settings), on_view=self._on_view, endpoint_label=settings.active_profile,
            open_transport=transport_factory(settings.profile().transport),
            **self.conversations.controller_options(earlier),
            make_core=dialect_for(settings.model),
        )
        for sentence in left_out:  # an MCP server whose token is missing is left out, and said so
            controller.notify(sentence, "warning")
        # Starting without a network offers the offline demo, unless that is what is failing.
        controller.connection.offer_demo = not isinstance(settings.profile(), LocalProfile)
        self.conversations.started(controller, settings, earlier=earlier, continued_from=continued_from)
        return controller

    @property
    def profile(self) -> Profile:
        return self.settings.profile()

    def needs_key(self) -> bool:
        """True when the active profile cannot connect for want of a key (the first-run case)."""
        profile = self.profile
        if not profile.needs_key:
            return False
        try:
            return self.keys.get_key(profile) is None
        except ParleyError:
            return True

    async def _target(self) -> tuple[str, dict[str, str]]:
        settings = self.settings
        profile = settings.profile()
        local_url = (await self.ensure_local_server()) if isinstance(profile, LocalProfile) else None
        cache_key = (profile, settings.model, local_url)
        target = self._targets.get(cache_key)
        if target is None:
            target = make_target(profile, self.keys, settings.model, local_url=local_url)
            self._targets = {cache_key: target}  # one profile at a time; its ephemeral cache lives here
        return await target()

    async def ensure_local_server(self) -> str:
        """Start the embedded server on this loop (once) and return its URL."""
        async with self._server_lock:
            if self.server is None:
                cm = self._server_factory()
                self.server = await cm.__aenter__()
                self._server_cm = cm
                log.info("= local server running at %s", self.server.url)
                pool = self.server.pool
                if pool is not None:  # load the speech models now, not at the first answer
                    self._warm_up = spawn(asyncio.to_thread(pool.warm_up), name="speech warm-up",
                                          on_crash=self._warm_up_failed)
            return self.server.url

    def _warm_up_failed(self, exc: BaseException) -> None:
        self.notify("The offline demo's voice did not load; it answers with a tone instead.", "warning")

    # --- the view -----------------------------------------------------------------------------

    def _on_view(self, view: ViewState) -> None:
        previous, self.view = self.view, view
        if previous is not None and (previous.vad, previous.voice, previous.instructions) != (
                view.vad, view.voice, view.instructions):
            self._persist_timer.start()
        self.view_changed.emit(view)

    def notify(self, sentence: str, level: str = "error", action: str | None = None) -> None:
        """Show one sentence in the banner (through the controller's one door)."""
        self.controller.notify(sentence, level, action)

    # --- intents: connection ------------------------------------------------------------------

    @property
    def live(self) -> bool:
        return self.view.connection in LIVE

    async def open_conversation(self, earlier: Earlier | None = None, continued_from: str | None = None) -> None:
        """Connect with the current settings (``earlier``: a saved conversation, continued in a new one
        with it as context); failures end up in the banner, never raised."""
        if self.live:
            return
        if earlier is not None or self._key_of(self.settings) != self._built_for:
            self.controller = self._build_controller(earlier, continued_from)
            self._on_view(self.controller.view)
        try:
            await self.controller.connect()
        except ParleyError as exc:
            log.info("= connect failed: %s", exc.user_message)

    async def close_conversation(self) -> None:
        await asyncio.wait_for(self.controller.close(), CLOSE_TIMEOUT_S)

    def choose_profile(self, name: str) -> None:
        if name != self.settings.active_profile and not self.live:
            if self.override is not None and self.override.profile is not None:
                self.override = RunOverride(model=self.override.model)  # the user left the command line's endpoint
            self.save_settings(active_profile=name)
            self.controller.dismiss_notice()

    async def start_demo(self) -> None:
        """Switch to the offline demo profile and connect at once."""
        local = next((p for p in self.settings.profiles if isinstance(p, LocalProfile)), None)
        if local is None:
            self.notify("There is no offline demo profile in your settings.", "error")
            return
        if self.live:
            await self.close_conversation()
        self.choose_profile(local.name)
        await self.open_conversation()

    async def test_key(self, profile: Profile, key: str) -> str | None:
        """Open a session with ``key`` and close it: None when it opened, else one sentence."""
        settings = self.settings
        if isinstance(profile, LocalProfile):
            profile = profile.with_url(await self.ensure_local_server())
        try:
            target = profile.connect_target(key, settings.model)
        except ParleyError as exc:
            return exc.user_message
        return await probe_endpoint(Endpoint(target.url, dict(target.headers)), make_core=dialect_for(settings.model),
                                    config=session_config_from_settings(settings))

    @property
    def key_problem(self) -> bool:
        """The failure on show is about this profile's key (or it has none): the banner's action is
        the key dialog. Never for the offline demo, which needs no key."""
        if isinstance(self.profile, LocalProfile):
            return False
        connection = self.controller.connection
        close = connection.last_close
        return (connection.fatal_code in KEY_ERRORS or (close is not None and close.code == 3000)
                or self.needs_key())

    @property
    def can_preview_voices(self) -> bool:
        """True while the offline demo's server (and so its synthesizer) is running."""
        return self.server is not None and self.server.pool is not None

    async def voice_sample(self, voice: str) -> bytes | None:
        """A short sentence in ``voice`` from the demo's synthesizer (PCM16 24 kHz), or None."""
        pool = self.server.pool if self.server is not None else None
        if pool is None:
            return None
        pcm, _timings = await pool.synthesize(f"Hi, I'm {voice.title()}. This is how I sound.", voice)
        return pcm.astype("<i2").tobytes()

    # --- intents: talking ---------------------------------------------------------------------

    def press_talk(self) -> None:
        self.controller.press_talk()

    def release_talk(self) -> None:
        self.controller.release_talk()

    def interrupt(self) -> None:
        self.controller.interrupt()

    def send_text(self, text: str) -> None:
        self.controller.send_text(text)

    def set_muted(self, muted: bool) -> None:
        self.controller.set_muted(muted)

    def set_mode(self, mode: str) -> None:
        self.controller.set_mode(mode)
        self.save_settings(turn_mode=mode)

    def dismiss_notice(self) -> None:
        self.controller.dismiss_notice()

    # --- intents: live session settings -------------------------------------------------------

    def update_vad(self, **changes: Any) -> None:
        if changes.get("type") == "off" and self.controller.mode is MicMode.HANDS_FREE:
            self.set_mode("push_to_talk")  # no turn detection means you say when your turn ends
        self.controller.update_vad(**changes)

    def apply_calibration(self, *, threshold: float, silence_duration_ms: int) -> None:
        """The room calibration's proposal for the turn-detection sliders (applied live)."""
        self.update_vad(threshold=threshold, silence_duration_ms=silence_duration_ms)

    def suspend(self, reason: str, on: bool) -> None:
        """The microphone test or the room calibration runs: nothing reaches the assistant."""
        self.controller.suspend(reason, on)

    def clear_conversation(self) -> None:
        """Start a new conversation: nothing said so far is shown or sent again (the history keeps it)."""
        self.conversations.ended()
        self.controller.clear_conversation()
        self.conversations.started(self.controller, self.settings)

    def reset_vad(self) -> None:
        self.update_vad(**asdict(vad_view_from_settings(Settings())))

    def set_voice(self, voice: str) -> None:
        self.controller.set_voice(voice)

    def set_instructions(self, text: str) -> None:
        self.controller.set_instructions(text)

    def set_session_option(self, name: str, value: Any) -> None:
        """Reasoning effort, noise reduction or speaking speed: saved, and sent per its lock."""
        if self.save_settings(**{name: value}):
            self.controller.set_session_options(**{name: getattr(self.settings, name)})

    def send_image(self, data: bytes, mime: str, text: str = "") -> str | None:
        """A picture into the conversation (see :meth:`Controller.send_image`)."""
        return self.controller.send_image(data, mime, text)

    def tools_changed(self) -> None:
        """The Tools tab changed what the assistant may use: the session gets it at once."""
        self.controller.set_tools(self.tools.offer(self.controller.config, tell=self.notify,
                                                   traits=self.controller.view.traits)[0])

    def set_next_session(self, **changes: Any) -> None:
        """Model, transcription, audio format: saved now, used from the next connection on."""
        self.save_settings(**changes)

    # --- persistence and shutdown -------------------------------------------------------------

    def save_settings(self, **changes: Any) -> bool:
        try:
            self.store.update(**changes)
        except ConfigError as exc:
            self.notify(exc.user_message, "warning")
            return not exc.fatal and all(getattr(self.store.settings, k) == v for k, v in changes.items())
        return True

    def persist(self) -> None:
        """Write what the view shows as chosen (VAD values, voice, instructions) to the settings."""
        self._persist_timer.stop()
        view = self.view
        changes = _vad_settings(view.vad)
        if view.voice:
            changes["voice"] = view.voice
        changes["instructions"] = view.instructions
        current = self.store.settings
        changed = {k: v for k, v in changes.items() if getattr(current, k) != v}
        if changed:
            self.save_settings(**changed)

    async def shutdown(self) -> None:
        """Close the session, stop the streams and the local server, save the settings. Never raises."""
        self.persist()
        try:
            await asyncio.wait_for(self.controller.close(), CLOSE_TIMEOUT_S)
        except (asyncio.TimeoutError, ParleyError, OSError) as exc:
            log.warning("! session did not close cleanly: %r", exc)
            self.controller.abort()
        if self.port is not None:
            self.port.stop()
        await self.conversations.close()  # the last transcript is saved, the history closed
        if self._warm_up is not None:
            try:  # a model load cannot be interrupted; the process would wait for it at exit anyway
                await asyncio.wait_for(asyncio.shield(self._warm_up), CLOSE_TIMEOUT_S * 2)
            except (asyncio.TimeoutError, Exception) as exc:  # noqa: BLE001 — already logged and told by spawn's handler
                log.debug("warm-up at shutdown: %r", exc)
        if self._server_cm is not None:
            cm, self._server_cm = self._server_cm, None
            try:
                await asyncio.wait_for(cm.__aexit__(None, None, None), CLOSE_TIMEOUT_S)
            except (asyncio.TimeoutError, OSError) as exc:
                log.warning("! local server did not stop cleanly: %r", exc)
            self.server = None
