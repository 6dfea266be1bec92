"""HTTP user tools against a local server: placeholders, secrets, redirects, caps, cancellation."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import pytest

from desktop_app.tools import Status, ToolBox, ToolCall, ToolRegistry
from desktop_app.tools.secrets import MemorySecrets
from desktop_app.tools.user_tools import load_user_tools
from tests.tools.http_peer import Peer

SECRET = "tok-7f3a9c2e5b1d"


@pytest.fixture
def peer():
    server = Peer()
    yield server
    server.close()


def http_tool(tmp_path: Path, peer: Peer, *, url: str, extra: str = "", params: str = "", name: str = "fetch") -> ToolBox:
    text = textwrap.dedent(f"""\
        [[tool]]
        name = "{name}"
        type = "http"
        description = "Fetch something from the test server."
        url = "{url}"
        permission = "allow"
        """) + textwrap.dedent(extra) + textwrap.dedent(params)
    path = tmp_path / "tools.toml"
    path.write_text(text)
    loaded = load_user_tools(path, MemorySecrets({"api": SECRET}))
    assert loaded.all_problems == [], [str(p) for p in loaded.all_problems]
    return ToolBox(ToolRegistry(loaded.specs, secrets=MemorySecrets({"api": SECRET})))


QUERY_PARAM = """
    [tool.params.q]
    type = "string"
"""


async def call(box: ToolBox, name: str = "fetch", **arguments):
    [result] = await box.run_calls([ToolCall("c1", name, json.dumps(arguments))], None)
    return result, json.loads(result.output)


async def test_a_get_fills_the_percent_encoded_placeholder_and_sends_the_secret_header(tmp_path, peer, caplog):
    caplog.set_level(logging.DEBUG)
    box = http_tool(tmp_path, peer, url=f"{peer.base}/echo/{{q}}?q={{q}}", params=QUERY_PARAM,
                    extra='[tool.headers]\nAuthorization = "Bearer {secret:api}"\nX-Query = "{q}"\n')
    result, body = await call(box, q="../../etc/passwd?x=1#y")
    assert result.ok and body["status"] == 200
    [seen] = peer.requests
    assert seen["path"] == "/echo/..%2F..%2Fetc%2Fpasswd%3Fx%3D1%23y?q=..%2F..%2Fetc%2Fpasswd%3Fx%3D1%23y"
    assert seen["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert seen["headers"]["X-Query"] == "../../etc/passwd?x=1#y"
    assert SECRET not in caplog.text  # the secret is redacted from every log line
    assert body["body"]["method"] == "GET"


async def test_an_argument_cannot_pull_a_secret_into_a_header(tmp_path, peer):
    box = http_tool(tmp_path, peer, url=f"{peer.base}/echo", params=QUERY_PARAM, extra='[tool.headers]\nX-Query = "{q}"\n')
    result, _ = await call(box, q="{secret:api}")
    assert result.ok and peer.requests[0]["headers"]["X-Query"] == "{secret:api}"


async def test_cr_lf_in_a_header_value_is_refused_and_nothing_is_sent(tmp_path, peer):
    box = http_tool(tmp_path, peer, url=f"{peer.base}/echo", params=QUERY_PARAM, extra='[tool.headers]\nX-Query = "{q}"\n')
    result, body = await call(box, q="x\r\nX-Admin: yes")
    assert result.status is Status.FAILED and body["error"]["type"] == "refused"
    assert "line break" in body["error"]["message"] and peer.requests == []


async def test_a_redirect_to_a_host_not_allowed_is_refused_after_the_hop(tmp_path, peer):
    evil = f"http://localhost:{peer.port}/echo"  # another host name for the same server: not in the list
    box = http_tool(tmp_path, peer, url=f"{peer.base}/redirect?to={evil}")
    result, body = await call(box)
    assert result.status is Status.FAILED and body["error"]["type"] == "refused"
    assert f"localhost:{peer.port} is not in this tool's allowed hosts" in body["error"]["message"]
    assert [r["path"] for r in peer.requests] == [f"/redirect?to={evil}"]  # the other host was never asked


async def test_a_redirect_to_another_port_is_refused(tmp_path, peer):
    box = http_tool(tmp_path, peer, url=f"{peer.base}/redirect?to=http://127.0.0.1:1/echo")
    result, body = await call(box)
    assert result.status is Status.FAILED and "127.0.0.1:1 is not in" in body["error"]["message"]


async def test_an_allowed_redirect_is_followed_but_secrets_do_not_travel_to_another_host(tmp_path, peer):
    other = f"http://localhost:{peer.port}/echo"
    box = http_tool(tmp_path, peer, url=f"{peer.base}/redirect?to={other}",
                    extra=f'allowed_hosts = ["127.0.0.1:{peer.port}", "localhost:{peer.port}"]\n'
                          '[tool.headers]\nAuthorization = "Bearer {secret:api}"\nX-Plain = "kept"\n')
    result, body = await call(box)
    assert result.ok and body["body"]["path"] == "/echo"
    first, second = peer.requests
    assert first["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert "Authorization" not in second["headers"] and second["headers"]["X-Plain"] == "kept"


async def test_redirect_loops_end_with_an_error(tmp_path, peer):
    box = http_tool(tmp_path, peer, url=f"{peer.base}/loop", extra="max_redirects = 2\n")
    result, body = await call(box)
    assert result.status is Status.FAILED and "redirected more than 2 times" in body["error"]["message"]
    assert len(peer.requests) == 3


async def test_a_10_mb_response_is_read_only_up_to_the_cap(tmp_path, peer):
    box = http_tool(tmp_path, peer, url=f"{peer.base}/big", extra="max_output = 4000\n")
    result, body = await call(box)
    assert result.ok and len(result.output) <= 4000
    assert body["body"] == "x" * 3500
    assert body["note"] == "The response was longer than this tool reads; only its beginning is shown."


async def test_a_post_sends_the_unused_arguments_as_json(tmp_path, peer):
    box = http_tool(tmp_path, peer, url=f"{peer.base}/echo/{{q}}", extra='method = "POST"\n',
                    params=QUERY_PARAM + '[tool.params.note]\ntype = "string"\n[tool.params.count]\ntype = "integer"\n')
    result, _ = await call(box, q="a b", note="buy milk", count=2)
    assert result.ok
    [seen] = peer.requests
    assert (seen["method"], seen["path"]) == ("POST", "/echo/a%20b")
    assert json.loads(seen["body"]) == {"note": "buy milk", "count": 2}
    assert seen["headers"]["Content-Type"] == "application/json"


async def test_error_statuses_and_binary_bodies_are_described(tmp_path, peer):
    box = http_tool(tmp_path, peer, url=f"{peer.base}/status/{{q}}", params=QUERY_PARAM)
    result, body = await call(box, q="404")
    assert result.ok and body["status"] == 404 and body["error"] == "The server answered 404 Not Found."
    box = http_tool(tmp_path, peer, url=f"{peer.base}/binary", name="image")
    _, body = await call(box, "image")
    assert body["body"] == "(2,560 bytes of image/png not shown)"


async def test_a_slow_server_times_out(tmp_path, peer):
    box = http_tool(tmp_path, peer, url=f"{peer.base}/slow", extra="timeout = 0.5\n")
    result, body = await call(box)
    assert result.status is Status.TIMEOUT and "did not finish within 0.5 s" in body["error"]["message"]


async def test_cancelling_a_request_in_flight_answers_at_once_while_the_server_still_holds_it(tmp_path, peer):
    import asyncio

    box = http_tool(tmp_path, peer, url=f"{peer.base}/slow")
    task = asyncio.ensure_future(box.run_calls([ToolCall("c1", "fetch", "{}")], None))
    await asyncio.to_thread(peer.slow_started.wait, 10)
    assert box.cancel() == 1
    [result] = await task
    assert result.status is Status.CANCELLED and not peer.release.is_set()


async def test_a_refused_connection_is_one_sentence(tmp_path, peer):
    box = http_tool(tmp_path, peer, url="http://127.0.0.1:1/echo")
    result, body = await call(box)
    assert result.status is Status.FAILED and body["error"]["message"] == "The request failed: the connection was refused."
