"""The Session tab's wiring: a part the window owns (``window.session_tab``).

It connects the tab's choices to the session — what applies at once (voice, instructions, reasoning
effort, noise reduction, speaking speed — the speed between answers) and what applies at the next
connection (model, transcription and its options, audio format) — refreshes the model list from the
endpoint, and takes pictures into the conversation (:class:`~desktop_app.ui.image_input.ImageInput`:
paste, drop, a file or a screen capture, previewed before sending, shown as a thumbnail).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop_app.errors import ParleyError
from desktop_app.log import get_logger
from desktop_app.settings.model_list import load_cache, models_url, refresh_models
from desktop_app.ui.image_input import ImageInput

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

log = get_logger("ui")


class SessionTab:
    """Connects the Session tab and image input to the window's session."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        s, sp = window.session, window.session_panel
        self.session = s
        sp.voice_chosen.connect(s.set_voice)
        sp.instructions_applied.connect(s.set_instructions)
        sp.model_chosen.connect(lambda v: s.set_next_session(model=v))
        sp.transcription_chosen.connect(lambda v: s.set_next_session(input_transcription_model=v))
        sp.transcription_options_chosen.connect(lambda changes: s.set_next_session(**changes))
        sp.format_chosen.connect(lambda v: s.set_next_session(input_audio_format=v))
        sp.reasoning_chosen.connect(lambda v: s.set_session_option("reasoning_effort", v))
        sp.noise_reduction_chosen.connect(lambda v: s.set_session_option("noise_reduction", v))
        sp.speed_chosen.connect(lambda v: s.set_session_option("speed", v))
        sp.models_refresh_requested.connect(lambda: window.run(self.refresh_models()))
        self.images = ImageInput(window, send=s.send_image)
        self.images.watch(window.transcript)
        self.images.watch(window.talk.text)
        self.images.sent.connect(window.transcript.show_image)
        self.images.problem.connect(lambda sentence: s.notify(sentence, "warning"))
        sp.image_paste_requested.connect(self.images.paste)
        sp.image_file_requested.connect(self.images.choose_file)
        sp.screenshot_requested.connect(self.images.capture_screen)
        cached = load_cache()
        sp.set_model_choices(cached.realtime_choices(), cached.transcription_choices())

    def show_profile(self) -> None:
        """The endpoint changed: can its model list be refreshed?"""
        available = models_url(self.session.profile) is not None
        self.window.session_panel.model_picker.set_refresh_available(
            available, "" if available else "This endpoint has no model list to refresh.")

    async def refresh_models(self) -> None:
        try:
            models = await refresh_models(self.session.profile, self.session.keys)
        except ParleyError as exc:
            self.session.notify(exc.user_message, "warning")
            return
        self.window.session_panel.set_model_choices(models.realtime_choices(), models.transcription_choices())

    def options(self) -> dict[str, Any]:
        """What the tab offers now (tests)."""
        return {"images": self.images}
