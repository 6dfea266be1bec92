"""SettingsStore on a real INI file in a temp dir: round trip, migration, refusal, damage, bad values."""

from __future__ import annotations

import logging
import os

import pytest
from PySide6.QtCore import QSettings

from desktop_app.errors import ConfigError
from desktop_app.settings.migrations import MIGRATIONS, migrate
from desktop_app.settings.profiles import AzureProfile, CustomProfile, OpenAIProfile
from desktop_app.settings.schema import SCHEMA_VERSION, Settings
from desktop_app.settings.store import SettingsStore, default_settings_path


@pytest.fixture
def path(tmp_path):
    return tmp_path / "conf" / "settings.ini"


def write_ini(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_missing_file_gives_defaults_and_writes_nothing(path):
    store = SettingsStore(path)
    assert store.settings == Settings()
    assert not path.exists() and store.notices == []


def test_changes_survive_a_restart_with_their_types(path):
    store = SettingsStore(path)
    seen = []
    store.changed.connect(seen.append)
    profiles = (OpenAIProfile(name="OpenAI"), AzureProfile(name="Azure", resource="contoso", deployment="rt"))
    new = store.update(
        voice="cedar", vad_threshold=0.7, vad_idle_timeout_ms=8000, vad_create_response=False,
        window_geometry=b"\x01\x02geo", instructions="Short, please.\nAnd kind.", profiles=profiles,
        active_profile="Azure", input_device="USB Mic, left",
    )
    assert seen == [new]
    again = SettingsStore(path).settings
    assert again == new
    assert (again.voice, again.vad_threshold, again.vad_idle_timeout_ms) == ("cedar", 0.7, 8000)
    assert again.vad_create_response is False and again.window_geometry == b"\x01\x02geo"
    assert again.profile().resource == "contoso"
    assert QSettings(str(path), QSettings.Format.IniFormat).value("schema_version") == str(SCHEMA_VERSION)


def test_invalid_update_raises_and_changes_nothing(path):
    store = SettingsStore(path)
    before = store.settings
    with pytest.raises(ConfigError, match="vad_threshold") as info:
        store.update(voice="ash", vad_threshold=3.0)
    assert "vad_threshold" in info.value.user_message
    with pytest.raises(ConfigError, match="not a setting"):
        store.update(schema_version=9)
    with pytest.raises(ConfigError, match="no profile is named"):
        store.update(active_profile="Ghost")
    assert store.settings is before and not path.exists()


def test_an_update_with_no_change_writes_nothing(path):
    store = SettingsStore(path)
    assert store.update(voice="marin") is store.settings
    assert not path.exists()


def test_writes_replace_the_file_rather_than_rewriting_it_in_place(path):
    """QSaveFile semantics: a new inode each save, so a crash mid-write leaves the old file whole."""
    store = SettingsStore(path)
    store.update(voice="ash")
    first = os.stat(path).st_ino
    store.update(voice="sage")
    assert os.stat(path).st_ino != first
    assert [p.name for p in path.parent.iterdir()] == ["settings.ini"]  # no temp or lock file left


@pytest.mark.parametrize("blocked", ["parent is a file", "file links into a missing folder"])
def test_a_failed_save_applies_for_the_session_and_says_so(tmp_path, blocked):
    if blocked == "parent is a file":
        (tmp_path / "blocker").write_text("x")
        target = tmp_path / "blocker" / "settings.ini"
    else:  # mkdir succeeds; Qt's own write fails and its status is what reports it
        target = tmp_path / "settings.ini"
        target.symlink_to(tmp_path / "missing" / "settings.ini")
    store = SettingsStore(target)
    with pytest.raises(ConfigError) as info:
        store.update(voice="echo")
    assert info.value.fatal is False
    assert "could not save" in info.value.user_message and "until Parley quits" in info.value.user_message
    assert store.settings.voice == "echo"


def test_an_unreadable_settings_file_is_left_alone(tmp_path):
    target = tmp_path / "settings.ini"
    target.mkdir()  # exists, but Qt cannot read it as a file
    store = SettingsStore(target)
    assert store.read_only and store.settings == Settings() and "could not read" in store.notices[0]
    store.update(voice="ash")
    assert target.is_dir() and list(tmp_path.iterdir()) == [target]


def test_v1_file_is_migrated_backed_up_and_rewritten(path):
    write_ini(path, "[vad]\nthreshold=0.8\nsilence_duration_ms=900\n[audio]\nptt_key=F9\n"
                    "mode=headset\n[session]\ntranscription_model=\nvoice=ash\n")
    store = SettingsStore(path)
    s = store.settings
    assert (s.vad_threshold, s.vad_silence_duration_ms, s.ptt_key) == (0.8, 900, "F9")
    assert (s.input_transcription_model, s.audio_mode, s.voice) == ("off", "headset", "ash")
    assert (path.parent / "settings.ini.v1.bak").read_text().startswith("[vad]")
    reread = QSettings(str(path), QSettings.Format.IniFormat)
    assert reread.value("schema_version") == str(SCHEMA_VERSION) and reread.value("vad/threshold") is None
    assert reread.value("turn_detection/threshold") == "0.8"
    assert SettingsStore(path).settings == s  # second start: nothing left to migrate


def test_migration_steps_are_named_contiguous_and_keep_unknown_keys():
    assert [m.from_version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION))
    assert all(m.name for m in MIGRATIONS)
    out = migrate({"vad/type": "semantic_vad", "plugin/x": "1", "session/transcription_model": "whisper-1"}, 1)
    assert out == {"turn_detection/type": "semantic_vad", "plugin/x": "1",
                   "session/input_transcription_model": "whisper-1", "schema_version": str(SCHEMA_VERSION)}
    with pytest.raises(ValueError, match="newer"):
        migrate({}, SCHEMA_VERSION + 1)


def test_newer_schema_is_refused_file_untouched_defaults_used(path, caplog):
    text = "[General]\nschema_version=99\n[session]\nvoice=ash\nfuture_thing=1\n"
    write_ini(path, text)
    stat = os.stat(path)
    with caplog.at_level(logging.WARNING, logger="parley.settings"):
        store = SettingsStore(path)
    assert store.read_only and store.settings == Settings()
    assert len(store.notices) == 1 and "newer version of Parley" in store.notices[0]
    assert store.notices[0].count(".") == 1 and store.notices[0].endswith(".")
    store.update(voice="coral")  # applies for the session only
    assert store.settings.voice == "coral"
    del store
    assert path.read_text() == text and os.stat(path).st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.ini"]
    assert any("newer version" in r.getMessage() for r in caplog.records)


def test_bad_values_fall_back_per_key_and_good_ones_are_kept(path, caplog):
    write_ini(path, "[General]\nschema_version=2\n[session]\nvoice=nova\nmodel=gpt-realtime-mini\n"
                    "instructions=Be terse.\n[turn_detection]\nthreshold=abc\nprefix_padding_ms=5000\n"
                    "silence_duration_ms=700\ncreate_response=maybe\nidle_timeout_ms=off\n"
                    "[window]\ngeometry=not base64!\n[connection]\nactive_profile=Gone\n")
    with caplog.at_level(logging.WARNING, logger="parley.settings"):
        s = SettingsStore(path).settings
    d = Settings()
    assert (s.voice, s.vad_threshold, s.vad_prefix_padding_ms, s.vad_create_response) == (
        d.voice, d.vad_threshold, d.vad_prefix_padding_ms, d.vad_create_response)
    assert (s.model, s.instructions, s.vad_silence_duration_ms) == ("gpt-realtime-mini", "Be terse.", 700)
    assert s.window_geometry == b"" and s.active_profile == d.profiles[0].name
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for detail in ("session/voice = 'nova'", "threshold = 'abc'", "5000 is above the maximum",
                   "create_response = 'maybe'", "active profile 'Gone'"):
        assert detail in logged


def test_a_profile_list_keeps_its_readable_profiles(path):
    good = CustomProfile(name="Lab", url="ws://127.0.0.1:9000/v1/realtime")
    write_ini(path, "[General]\nschema_version=2\n[connection]\nprofiles=\"[" +
              '{\\"kind\\":\\"custom\\",\\"name\\":\\"Lab\\",\\"url\\":\\"ws://127.0.0.1:9000/v1/realtime\\"},'
              '{\\"kind\\":\\"warp\\",\\"name\\":\\"X\\"},{\\"kind\\":\\"azure\\",\\"name\\":\\"Az\\"}]"'
              "\nactive_profile=Lab\n")
    s = SettingsStore(path).settings
    assert s.profiles == (good,) and s.active_profile == "Lab"


def test_garbage_file_is_moved_aside_and_readable_values_kept(path):
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe\x00garbage\x01\n[session\nvoice=ash\n[turn_detection]\nthreshold=0.9\n")
    store = SettingsStore(path)
    assert store.settings.vad_threshold == 0.9
    assert (path.parent / "settings.ini.corrupt").exists()
    # The file held no transcription choice, so the v3 step's notice follows the damage notice.
    assert len(store.notices) == 2 and "damaged" in store.notices[0] and "gpt-live-transcribe" in store.notices[1]
    store.update(voice="verse")
    assert SettingsStore(path).settings.vad_threshold == 0.9  # rewritten cleanly
    assert SettingsStore(path).notices == []


def test_default_path_is_in_parleys_config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARLEY_HOME", str(tmp_path))
    assert default_settings_path() == tmp_path / "config" / "settings.ini"
    assert SettingsStore().path == tmp_path / "config" / "settings.ini"


def test_reset_puts_named_settings_or_all_back_to_defaults(path):
    store = SettingsStore(path)
    store.update(voice="ash", vad_threshold=0.9, audio_mode="headset")
    assert store.reset("voice").voice == "marin" and store.settings.vad_threshold == 0.9
    assert store.reset() == Settings()
    assert SettingsStore(path).settings == Settings()
    with pytest.raises(ConfigError):
        store.reset("nonsense")


# --- v2 → v3: the transcription default moves off a retiring model (issue #20) --------------------


V2 = "[General]\nschema_version=2\n[session]\nvoice=ash\n"


def test_a_v2_user_who_never_chose_moves_to_gpt_live_transcribe_with_one_line_notice(path):
    write_ini(path, V2)
    store = SettingsStore(path)
    assert store.settings.input_transcription_model == "gpt-live-transcribe"
    assert store.settings.voice == "ash"
    assert store.notices == ["Your speech is now transcribed by gpt-live-transcribe: gpt-4o-mini-transcribe, "
                             "the previous default, shuts down on 2027-02-26."]
    assert "\n" not in store.notices[0] and store.notices[0].count(". ") == 0
    assert (path.parent / "settings.ini.v2.bak").read_text() == V2
    reread = QSettings(str(path), QSettings.Format.IniFormat)
    assert reread.value("schema_version") == str(SCHEMA_VERSION)
    assert reread.value("session/input_transcription_model") is None  # still following the default
    again = SettingsStore(path)
    assert again.notices == [] and again.settings.input_transcription_model == "gpt-live-transcribe"


@pytest.mark.parametrize(("chosen", "notice"), [
    ("gpt-4o-mini-transcribe", "Your transcription model gpt-4o-mini-transcribe shuts down on 2027-02-26; "
                               "choose gpt-live-transcribe in the Session tab to keep your transcript."),
    ("whisper-1", "Your transcription model whisper-1 shuts down on 2027-02-26; "
                  "choose gpt-live-transcribe in the Session tab to keep your transcript."),
    ("gpt-transcribe", None),
    ("off", None),
])
def test_a_v2_user_who_chose_a_model_keeps_it_and_hears_if_it_is_retiring(path, chosen, notice):
    write_ini(path, V2 + f"input_transcription_model={chosen}\n")
    store = SettingsStore(path)
    assert store.settings.input_transcription_model == chosen
    assert store.notices == ([notice] if notice else [])


def test_a_v1_file_without_a_transcription_choice_is_also_moved(path):
    write_ini(path, "[vad]\nthreshold=0.8\n")
    store = SettingsStore(path)
    assert store.settings.input_transcription_model == "gpt-live-transcribe"
    assert store.settings.vad_threshold == 0.8
    assert len(store.notices) == 1 and "gpt-live-transcribe" in store.notices[0]


def test_the_store_writes_only_choices_so_absence_means_never_chose(path):
    store = SettingsStore(path)
    store.update(voice="ash")
    qs = QSettings(str(path), QSettings.Format.IniFormat)
    assert qs.value("session/input_transcription_model") is None
    store.update(input_transcription_model="whisper-1")
    assert QSettings(str(path), QSettings.Format.IniFormat).value("session/input_transcription_model") == "whisper-1"
    store.reset("input_transcription_model")
    assert QSettings(str(path), QSettings.Format.IniFormat).value("session/input_transcription_model") is None
    assert SettingsStore(path).settings.input_transcription_model == "gpt-live-transcribe"
    assert QSettings(str(path), QSettings.Format.IniFormat).value("session/voice") == "ash"


def test_v2_to_v3_is_a_pure_step_that_keeps_every_key():
    raw = {"session/voice": "ash", "plugin/x": "1", "schema_version": "2"}
    assert migrate(raw, 2) == {**raw, "schema_version": str(SCHEMA_VERSION)}
