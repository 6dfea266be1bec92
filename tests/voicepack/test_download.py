"""The offline voice pack from a local HTTP server: progress, an interrupted transfer that resumes,
cancel and resume later, a wrong checksum, a pack for another platform, and the installed pack
found by a fresh process through the data folder."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from desktop_app.voicepack.download import Cancelled, PackDownload, VoicePackError
from desktop_app.voicepack.store import installed
from tests.voicepack.packserver import PROBE_MODULE, PackServer, build_pack, manifest_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pack():
    return build_pack()


def serve(pack: bytes, **options) -> PackServer:
    return PackServer({"manifest.json": manifest_for(pack), "pack.zip": pack}, **options)


async def test_an_interrupted_transfer_resumes_where_it_stopped_and_verifies(tmp_path, pack):
    server = serve(pack, drop_after=[200_000, 150_000])  # two drops, then the rest
    progress: list[tuple[int, int]] = []
    try:
        download = PackDownload(server.url("manifest.json"), tmp_path, lambda d, t: progress.append((d, t)))
        result = await download.run()
    finally:
        server.close()
    assert [r for r in server.requests if r[0] == "pack.zip"] == [
        ("pack.zip", None), ("pack.zip", "bytes=200000-"), ("pack.zip", "bytes=350000-")]
    assert download.resumed_from == [200_000, 350_000]
    assert server.sent == len(pack)  # not a byte fetched twice
    assert progress[-1] == (len(pack), len(pack)) and all(a[0] <= b[0] for a, b in zip(progress, progress[1:]))
    assert result.version == "7" and (result.site / PROBE_MODULE / "model.bin").stat().st_size == 600_000
    assert installed(tmp_path) == result
    assert not list((tmp_path / "downloads").iterdir())  # the archive is gone once unpacked


async def test_cancel_keeps_the_part_and_the_next_download_continues_it(tmp_path, pack):
    gate = threading.Event()
    server = serve(pack, gate=gate)
    try:
        download = PackDownload(server.url("manifest.json"), tmp_path)
        download.on_progress = lambda done, total: download.cancel()  # cancel as soon as bytes arrive
        with pytest.raises(Cancelled):
            await download.run()
        part = tmp_path / "downloads" / "pack.zip.part"
        kept = part.stat().st_size
        assert 0 < kept < len(pack) and installed(tmp_path) is None
        server.gate = None
        again = PackDownload(server.url("manifest.json"), tmp_path)
        result = await again.run()
    finally:
        server.close()
    assert again.resumed_from == [kept]
    assert server.requests[-1] == ("pack.zip", f"bytes={kept}-")
    assert result.version == "7"


async def test_a_server_without_ranges_restarts_the_file(tmp_path, pack):
    server = serve(pack, drop_after=[100_000], ignore_ranges=True)
    try:
        result = await PackDownload(server.url("manifest.json"), tmp_path).run()
    finally:
        server.close()
    assert result.version == "7" and server.sent == 100_000 + len(pack)


async def test_a_wrong_checksum_is_refused_and_the_part_deleted(tmp_path, pack):
    server = PackServer({"manifest.json": manifest_for(pack), "pack.zip": pack[:-1] + b"x"})
    try:
        with pytest.raises(VoicePackError) as caught:
            await PackDownload(server.url("manifest.json"), tmp_path).run()
    finally:
        server.close()
    assert caught.value.user_message.startswith("The downloaded voice pack is damaged (its checksum is wrong)")
    assert not list((tmp_path / "downloads").iterdir()) and installed(tmp_path) is None


async def test_a_pack_for_another_platform_is_not_fetched(tmp_path, pack):
    server = PackServer({"manifest.json": manifest_for(pack, platform="plan9-mips"), "pack.zip": pack})
    try:
        with pytest.raises(VoicePackError) as caught:
            await PackDownload(server.url("manifest.json"), tmp_path).run()
    finally:
        server.close()
    assert "built for" in caught.value.user_message and "on plan9-mips" in caught.value.user_message
    assert not [r for r in server.requests if r[0] == "pack.zip"]


async def test_no_server_is_one_sentence(tmp_path):
    with pytest.raises(VoicePackError) as caught:
        await PackDownload("http://127.0.0.1:9/manifest.json", tmp_path, timeout=2).run()
    assert caught.value.user_message == "The voice pack's description could not be downloaded; check the network."


async def test_the_installed_pack_is_found_by_a_fresh_process_through_the_data_folder(tmp_path, pack):
    home = tmp_path / "home"
    server = serve(pack)
    try:
        await PackDownload(server.url("manifest.json"), home / "data" / "voicepack").run()
    finally:
        server.close()
    code = (f"from desktop_app.voicepack.store import activate; p = activate(); import {PROBE_MODULE} as m; "
            "print(p.version, m.ENGINE, m.WHERE)")
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PARLEY_HOME=str(home), PYTHONPATH=str(ROOT)),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    version, engine, where = out.stdout.split()
    assert (version, engine) == ("7", "probe") and where.startswith(str(home / "data" / "voicepack" / "7" / "site"))
