"""Endpoint profiles: the URL and headers of every kind, persistence without keys, masked reprs."""

from __future__ import annotations

import pytest

from desktop_app.errors import ConfigError, CredentialError
from desktop_app.settings.profiles import (
    DEFAULT_PROFILES,
    PROFILE_KINDS,
    AzureProfile,
    ConnectTarget,
    CustomProfile,
    EphemeralProfile,
    LocalProfile,
    OpenAIProfile,
    profile_from_dict,
)

KEY = "sk-proj-Zq81mVx03LrT7bNc4kHw"
AZ = "0123456789abcdef0123456789abcdef"
EK = "ek_68b0c3d2e1f0a9b8c7d6"
M = "gpt-realtime-2.1"

TABLE = [
    (OpenAIProfile(name="o"), KEY,
     "wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1", {"Authorization": f"Bearer {KEY}"}),
    (OpenAIProfile(name="o", organization="org_1", project="proj_2"), KEY,
     "wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1",
     {"Authorization": f"Bearer {KEY}", "OpenAI-Organization": "org_1", "OpenAI-Project": "proj_2"}),
    (AzureProfile(name="a", resource="contoso", deployment="my-rt"), AZ,
     "wss://contoso.openai.azure.com/openai/v1/realtime?model=my-rt", {"api-key": AZ}),
    (AzureProfile(name="a", resource="contoso", deployment="my-rt", auth="entra"), "eyJ0eXAiOiJKV1Qi.entra",
     "wss://contoso.openai.azure.com/openai/v1/realtime?model=my-rt",
     {"Authorization": "Bearer eyJ0eXAiOiJKV1Qi.entra"}),
    (AzureProfile(name="a", resource="contoso.cognitiveservices.azure.com"), AZ,
     "wss://contoso.cognitiveservices.azure.com/openai/v1/realtime?model=gpt-realtime-2.1", {"api-key": AZ}),
    (CustomProfile(name="c", url="wss://rt.example.org/v1/realtime"), None,
     "wss://rt.example.org/v1/realtime?model=gpt-realtime-2.1", {}),
    (CustomProfile(name="c", url="ws://10.0.0.5:8080/v1/realtime?model=house-model&x=1"), KEY,
     "ws://10.0.0.5:8080/v1/realtime?model=house-model&x=1", {"Authorization": f"Bearer {KEY}"}),
    (LocalProfile(name="l").with_url("ws://127.0.0.1:41234/v1/realtime"), None,
     "ws://127.0.0.1:41234/v1/realtime?model=gpt-realtime-2.1", {}),
    (EphemeralProfile(name="e"), EK,
     "wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1", {"Authorization": f"Bearer {EK}"}),
]


@pytest.mark.parametrize(("profile", "key", "url", "headers"), TABLE, ids=lambda v: getattr(v, "kind", None))
def test_connect_target_url_and_headers_per_kind(profile, key, url, headers):
    target = profile.connect_target(key, M)
    assert target == ConnectTarget(url, headers)
    assert "OpenAI-Beta" not in target.headers  # the beta shape is refused by the service


def test_model_ids_are_quoted_into_the_query():
    target = OpenAIProfile(name="o").connect_target(KEY, "a b&c")
    assert target.url.endswith("?model=a%20b%26c")


@pytest.mark.parametrize("profile", [OpenAIProfile(name="o"), AzureProfile(name="a", resource="r"),
                                     EphemeralProfile(name="e")], ids=lambda p: p.kind)
def test_kinds_that_need_a_key_say_so_by_profile_name(profile):
    assert profile.needs_key
    with pytest.raises(CredentialError) as info:
        profile.connect_target(None, M)
    assert f"The endpoint “{profile.name}” needs an API key" in info.value.user_message
    assert "Settings" not in info.value.user_message  # no such menu in the window


def test_local_profile_needs_its_runtime_url_and_never_persists_it():
    local = LocalProfile(name="Local server")
    assert not local.needs_key and local.key_env_var is None
    with pytest.raises(ConfigError, match="no runtime URL"):
        local.connect_target(None, M)
    running = local.with_url("ws://127.0.0.1:5555/v1/realtime")
    assert running.to_dict() == {"kind": "local", "name": "Local server"}
    assert profile_from_dict(running.to_dict()) == local


def test_env_var_per_kind():
    assert OpenAIProfile(name="o").key_env_var == "OPENAI_API_KEY"
    assert AzureProfile(name="a", resource="r").key_env_var == "AZURE_OPENAI_API_KEY"
    assert EphemeralProfile(name="e").key_env_var == "OPENAI_API_KEY"
    org = EphemeralProfile(name="e", mint_url="https://tokens.example.com/mint")
    assert org.key_env_var is None and not org.needs_key
    assert org.effective_mint_url == "https://tokens.example.com/mint"
    assert EphemeralProfile(name="e").effective_mint_url == "https://api.openai.com/v1/realtime/client_secrets"


@pytest.mark.parametrize(
    "profile",
    [OpenAIProfile(name="o", project="p"), AzureProfile(name="a", resource="r", deployment="d", auth="entra",
                                                        transcription_deployment="t"),
     CustomProfile(name="c", url="ws://h:1/v1"), LocalProfile(name="l"),
     EphemeralProfile(name="e", mint_url="https://t.example/x", ttl_s=120)],
    ids=lambda p: p.kind,
)
def test_every_kind_round_trips_through_its_dict(profile):
    data = profile.to_dict()
    assert data["kind"] in PROFILE_KINDS and profile_from_dict(data) == profile
    assert not any("key" in name for name in data if name != "kind")  # no field can hold a key


@pytest.mark.parametrize(
    ("data", "reason"),
    [([], "must be an object"), ({"kind": "warp", "name": "x"}, "unknown profile kind"),
     ({"kind": "openai", "name": "x", "api_key": KEY}, "unknown openai profile fields: api_key"),
     ({"kind": "azure", "name": "x"}, "resource"), ({"kind": "azure", "name": "x", "resource": "a b"}, "not a"),
     ({"kind": "azure", "name": "x", "resource": "r", "auth": "basic"}, "auth must be"),
     ({"kind": "custom", "name": "x", "url": "https://h/v1"}, "ws:// or wss://"),
     ({"kind": "ephemeral", "name": "x", "ttl_s": 5}, "10–7200"),
     ({"kind": "ephemeral", "name": "x", "ttl_s": "600"}, "must be int"),
     ({"kind": "openai", "name": " "}, "non-empty name")],
)
def test_invalid_profile_dicts_say_what_is_wrong(data, reason):
    with pytest.raises(ValueError, match=reason):
        profile_from_dict(data)


def test_a_stored_key_field_is_rejected_so_keys_cannot_slip_into_settings():
    with pytest.raises(ValueError):
        profile_from_dict({"kind": "custom", "name": "c", "url": "ws://h/v1", "key": KEY})


@pytest.mark.parametrize(("profile", "key", "url", "headers"), TABLE, ids=lambda v: getattr(v, "kind", None))
def test_repr_and_str_of_targets_and_profiles_never_contain_the_key(profile, key, url, headers):
    target = profile.connect_target(key, M)
    for text in (repr(target), str(target), repr(profile), str(profile), repr(DEFAULT_PROFILES)):
        assert not key or key not in text
    if key:
        assert key[-4:] in repr(target)  # masked, but recognisable
