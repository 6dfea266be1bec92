"""A ``gpt-live-*`` model picks the Live core and the server's ``…/live/sessions`` (no query) for every
profile kind; Realtime models keep their URLs; the price is per second; unknown Live ids are Live."""

from __future__ import annotations

import pytest

from desktop_app.controller.dialects import dialect_for
from desktop_app.errors import ConfigError
from desktop_app.live import LiveConnection
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.models import (is_live_model, live_price_per_second, model_label, price_summary,
                                         takes_reasoning)
from desktop_app.realtime.usage import Usage
from desktop_app.settings.profiles import (AzureProfile, CustomProfile, EphemeralProfile, LocalProfile, OpenAIProfile,
                                           live_session_url)

KEY = "sk-test-0123456789abcdef"


@pytest.mark.parametrize("profile, model, url", [
    (OpenAIProfile(name="O"), "gpt-live-1", "wss://api.openai.com/v1/live/sessions"),
    (OpenAIProfile(name="O"), "gpt-realtime-2.1", "wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1"),
    (AzureProfile(name="A", resource="contoso"), "gpt-live-1", "wss://contoso.openai.azure.com/openai/v1/live/sessions"),
    (CustomProfile(name="C", url="ws://gw.example.com:9/v1/realtime"), "gpt-live-1.1",
     "ws://gw.example.com:9/v1/live/sessions"),
    (CustomProfile(name="C", url="wss://gw.example.com/v1/live/sessions?model=gpt-live-1&x=1"), "gpt-live-1",
     "wss://gw.example.com/v1/live/sessions?x=1"),
    (LocalProfile(name="L").with_url("ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime-2.1"), "gpt-live-1",
     "ws://127.0.0.1:8765/v1/live/sessions"),
])
def test_the_model_picks_the_endpoint(profile, model, url):
    assert profile.connect_target(KEY, model).url == url


def test_gpt_live_has_no_client_secrets():
    with pytest.raises(ConfigError) as refused:
        EphemeralProfile(name="E").connect_target("ek_abc", "gpt-live-1")
    assert "client secrets" in refused.value.user_message


def test_the_model_picks_the_core_and_its_traits():
    assert dialect_for("gpt-live-1") is LiveConnection and dialect_for("gpt-live-2") is LiveConnection
    assert dialect_for("gpt-realtime-2.1") is RealtimeConnection
    assert dialect_for("gpt-live-1").traits.name == "live"
    assert not is_live_model("gpt-live-transcribe")  # an ASR model, not a voice


def test_live_is_priced_per_second_and_an_unknown_live_model_is_unpriced():
    assert live_price_per_second("gpt-live-1") == pytest.approx(0.05 / 60)
    assert Usage(live_seconds=90).cost("gpt-live-1.1") == pytest.approx(0.075)
    assert Usage(live_seconds=90).cost("gpt-live-9") is None
    assert "per minute" in price_summary("gpt-live-1") and "GPT-Live" in model_label("gpt-live-1")
    assert takes_reasoning("gpt-live-1") is False


def test_live_session_url_keeps_other_query_parameters():
    assert live_session_url("wss://h/openai/v1/realtime?api-version=x&model=m") == \
        "wss://h/openai/v1/live/sessions?api-version=x"
