"""What the window says where a control has no meaning in the conversation's protocol.

Read from the conversation's :class:`~desktop_app.realtime.dialect.DialectTraits` (``ViewState.traits``),
never from the model's name: a Realtime-only control under GPT-Live is disabled with one of these
sentences beside it (or in its tooltip) rather than silently ignored.
"""

from __future__ import annotations

from desktop_app.realtime.dialect import DialectTraits

VAD = ("GPT-Live decides by itself when you have finished talking, and stops when you talk over it: "
       "these settings apply to Realtime models.")
PUSH_TO_TALK = ("GPT-Live: your voice goes to the assistant while you hold the button, and it decides when "
                "you are done (there is nothing to commit).")
INTERRUPT = ("Stops the assistant's voice here and asks GPT-Live to stop speaking (work it handed to its backend goes "
             "on); when you talk over it, it stops by itself.")
ANSWER_OPTIONS = "Speaking speed, noise reduction and reasoning effort are Realtime settings; GPT-Live has none."
TRANSCRIPTION = "GPT-Live always transcribes both sides itself; this choice applies to Realtime models."
IMAGES = "GPT-Live conversations cannot take pictures; use a Realtime model to show one."
MCP = ("GPT-Live does not use these servers: its backend is documented for function tools and web search only "
       "(only the SDK lists MCP), so Parley does not send them. They work with Realtime models.")


def vad(traits: DialectTraits) -> str | None:
    """The turn-detection panel's note (None: its controls mean what they say)."""
    return None if traits.turn_detection else VAD


def push_to_talk(traits: DialectTraits) -> str | None:
    return None if traits.input_buffer else PUSH_TO_TALK


def interrupt(traits: DialectTraits) -> str | None:
    return None if traits.responses else INTERRUPT


def answer_options(traits: DialectTraits) -> str | None:
    return None if "speed" in traits.live_fields or traits.responses else ANSWER_OPTIONS


def transcription(traits: DialectTraits) -> str | None:
    return None if traits.turn_detection else TRANSCRIPTION


def images(traits: DialectTraits) -> str | None:
    return None if traits.images else IMAGES


def mcp(traits: DialectTraits) -> str | None:
    """The Tools tab's MCP section note (None: MCP servers go into the session)."""
    return None if traits.mcp_tools else MCP


def billed_time(seconds: float) -> str:
    """Billed session time as the usage display shows it: "45 s", "3 min 05 s"."""
    whole = int(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"
