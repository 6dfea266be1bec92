"""The settings this work adds: declared once, stored as text, read back; limits reach the governor."""

from __future__ import annotations

import pytest

from desktop_app.observe.observatory import spend_limits_from
from desktop_app.settings.schema import BY_NAME, Settings
from desktop_app.settings.store import SettingsStore


def test_defaults_limit_spending_and_keep_history_without_audio():
    s = Settings()
    assert (s.spend_limit_session_usd, s.spend_limit_day_usd) == (5.0, 20.0)
    assert s.history_enabled and not s.history_record_audio and s.history_audio_cap_mb == 500
    limits = spend_limits_from(s)
    assert (limits.session_usd, limits.day_usd, limits.warn_at) == (5.0, 20.0, 0.8)


@pytest.mark.parametrize("name, value", [("spend_limit_session_usd", 0.0), ("spend_limit_day_usd", -1.0),
                                         ("history_audio_cap_mb", 5), ("event_log_capacity", 10)])
def test_out_of_bounds_values_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        Settings(**{name: value})


def test_the_new_settings_survive_the_store(tmp_path, qapp):
    store = SettingsStore(tmp_path / "settings.ini")
    store.update(spend_limit_session_usd=None, spend_limit_day_usd=12.5, history_record_audio=True,
                 history_audio_cap_mb=2000)
    text = (tmp_path / "settings.ini").read_text()
    assert "session_limit_usd=off" in text and "day_limit_usd=12.5" in text
    again = SettingsStore(tmp_path / "settings.ini").settings
    assert (again.spend_limit_session_usd, again.spend_limit_day_usd) == (None, 12.5)
    assert again.history_record_audio and again.history_audio_cap_mb == 2000
    assert spend_limits_from(again).session_usd is None
    assert BY_NAME["spend_limit_day_usd"].key == "spend/day_limit_usd"
