"""Fault injection: every fault of the spec does what it says, deterministically for a seed."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from desktop_app.local_server import FaultSpecError, LocalServer, parse_faults
from tests.local_server.client import Client, audio_of, user_text

FAST = dict(port=0, pace=0, tts="tone", asr="none", text_word_ms=0)


def server(spec: str, **options) -> LocalServer:
    return LocalServer(**{**FAST, **options}, faults=spec)


async def text_turn(client: Client, text: str = "hello", modality: str = "audio") -> None:
    await client.send(user_text(text))
    await client.send({"type": "response.create", "response": {"output_modalities": [modality]}})


def test_the_spec_parses_every_fault_and_refuses_nonsense():
    plan = parse_faults("seed=7, drop_after=40, close=4000:bye@3, error=server_error@response.created, expire_after=2.5,"
                        "rate_limit=2, pacing=bursty, delay_transcription, unknown_events=0.5, unknown_fields, malformed=4")
    assert (plan.seed, plan.drop_after, plan.close_code, plan.close_reason, plan.close_after) == (7, 40, 4000, "bye", 3)
    assert (plan.error_code, plan.error_at, plan.expire_after, plan.rate_limit_every) == ("server_error", "response.created", 2.5, 2)
    assert plan.pacing == "bursty" and plan.delay_transcription and plan.unknown_fields == 1.0 and plan.malformed_after == 4
    assert parse_faults("slow=3").slow_factor == 3.0 and parse_faults("drop_mid_audio").drop_mid_audio == 3
    assert not parse_faults("").active and parse_faults("rate_limit").active
    for bad in ("explode", "drop_after=x", "error=not_a_code", "pacing=jazzy"):
        with pytest.raises(FaultSpecError):
            parse_faults(bad)


async def test_drop_after_n_frames_is_an_abnormal_close_1006():
    async with server("drop_after=3") as srv:
        client = await Client.open(srv.url)
        await text_turn(client)
        code, _ = await client.wait_closed(10)
        assert code == 1006 and len(client.events) == 3


async def test_drop_mid_audio():
    async with server("drop_mid_audio=2") as srv:
        client = await Client.open(srv.url)
        await client.wait_for("session.created")
        await text_turn(client, "tell me a story")
        code, _ = await client.wait_closed(10)
        assert code == 1006 and client.types().count("response.output_audio.delta") == 2
        assert "response.done" not in client.types()


@pytest.mark.parametrize("spec, code, reason", [("close=1011", 1011, ""), ("close=4000:custom_reason@1", 4000, "custom_reason")])
async def test_close_with_any_code(spec, code, reason):
    async with server(spec) as srv:
        client = await Client.open(srv.url)
        assert await client.wait_closed(10) == (code, reason)
        assert client.types() == ["session.created"]


async def test_error_of_any_catalog_code_at_a_chosen_point():
    async with server("error=insufficient_quota@response.created") as srv:
        async with await Client.open(srv.url) as client:
            await text_turn(client)
            error = (await client.wait_for("error"))["error"]
            kinds = client.types()
            assert kinds[kinds.index("error") - 1] == "response.created"
            assert error["code"] == "insufficient_quota" and error["type"] == "insufficient_quota"
            await client.response()  # the session goes on


async def _expiry(client: Client) -> tuple[int, float]:
    """The advertised ``expires_at`` and the wall-clock time ``session_expired`` arrived."""
    expires_at = (await client.wait_for("session.created"))["session"]["expires_at"]
    error = (await client.wait_for("error", timeout=10))["error"]
    assert error["code"] == "session_expired" and "maximum duration" in error["message"]
    return expires_at, time.time()


async def test_session_expired_after_n_seconds_then_1001():
    async with server("expire_after=0.5") as srv:
        client = await Client.open(srv.url)
        expires_at, arrived = await _expiry(client)
        assert expires_at <= arrived < expires_at + 2  # expires_at told the truth, not created + 3600
        assert await client.wait_closed(10) == (1001, "invalid_request_error.session_expired")


async def test_the_session_limit_option_expires_sessions_too():
    async with LocalServer(**FAST, session_limit_s=0.5) as srv:
        client = await Client.open(srv.url)
        expires_at, arrived = await _expiry(client)
        assert expires_at <= arrived < expires_at + 2
        assert (await client.wait_closed(10))[0] == 1001


async def test_rate_limit_refuses_every_nth_response():
    async with server("rate_limit=2") as srv:
        async with await Client.open(srv.url) as client:
            await text_turn(client, modality="text")
            await client.response()
            await client.send({"type": "response.create", "event_id": "second"})
            error = (await client.wait_for("error"))["error"]
            assert error["code"] == "rate_limit_exceeded" and error["event_id"] == "second"
            await client.send({"type": "response.create"})
            await client.response()


@pytest.mark.parametrize("spec", ["pacing=bursty", "slow=4"])
async def test_bursty_or_slow_pacing_still_delivers_all_audio(spec):
    async with server(spec, pace=8.0) as srv:
        async with await Client.open(srv.url) as client:
            loop = asyncio.get_running_loop()
            await text_turn(client, "hello")
            started = loop.time()
            events, response = await client.response()
            took = loop.time() - started
            audio_ms = len(audio_of(events)) / 48
            assert response["status"] == "completed" and audio_ms > 1000
            if spec.startswith("slow"):
                assert took >= audio_ms / 1000 / 8 * 4 * 0.8  # four times slower than the pace asks


def test_random_faults_repeat_exactly_for_a_seed():
    def bursts(seed: int) -> list[list[int]]:
        plan = parse_faults(f"seed={seed},pacing=bursty")
        return [[faults.burst() for _ in range(12)] for faults in (plan.for_session(), plan.for_session())]

    assert bursts(3) == bursts(3)
    assert bursts(3) != bursts(4)
    assert bursts(3)[0] != bursts(3)[1]  # each session draws its own stream


async def test_unknown_event_types_fields_and_a_malformed_frame():
    async with server("seed=1,unknown_events=1,unknown_fields=1,malformed=2") as srv:
        client = await Client.open(srv.url, validate=False)
        await client.wait_for("session.created")
        await text_turn(client, modality="text")
        await client.wait_for("rate_limits.updated")
        assert "parley.fault.unknown_event" in client.types()
        assert all("x_parley_fault" in e for e in client.events if e["type"].startswith("response."))
        malformed = [e for e in client.events if e["type"] == "<malformed>"]
        assert len(malformed) == 1
        with pytest.raises(ValueError):
            json.loads(malformed[0]["text"])
        await client.close()
