"""The local server's demo brain using tools like a model: Parley's own declarations, two calls in one
answer, and server-side MCP against a local MCP test server (listing, approval, call, failure, cancel).

Every event the server sends passes the SDK's strict union (the test client checks each one)."""

from __future__ import annotations

import json

from desktop_app.tools import ToolRegistry
from desktop_app.tools.builtins import BuiltinProviders, builtin_tools
from desktop_app.tools.mcp import approval_response_item
from tests.helpers.mcp_server import McpTestServer
from tests.local_server.client import Client, user_text
from tests.local_server.test_orderings import steps

TEXT = {"type": "response.create", "response": {"output_modalities": ["text"]}}


class Clipboard:
    def read_text(self) -> str:
        return "buy stamps"


class Browser:
    def open_url(self, url: str) -> bool:
        return True


def registry(tmp_path) -> ToolRegistry:
    return ToolRegistry(builtin_tools(BuiltinProviders(clipboard=Clipboard(), opener=Browser(), notes_dir=tmp_path)))


def function_items(response: dict) -> list[dict]:
    return [item for item in response["output"] if item["type"] == "function_call"]


async def test_two_requests_in_one_question_become_two_calls_then_one_answer_from_both(server, tmp_path):
    tools = registry(tmp_path)
    async with await Client.open(server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "tools": tools.function_tools()}})
        await client.wait_for("session.updated")
        await client.send(user_text("What time is it in Tokyo and what is 17 times 23?"))
        await client.send(TEXT)
        events, response = await client.response()
        calls = function_items(response)
        assert [c["name"] for c in calls] == ["current_time", "calculate"]
        for call in calls:  # valid for the tools' own strict schemas
            spec, validator = tools.runnable(call["name"])
            validator.parse(call["arguments"])
        assert [json.loads(c["arguments"]) for c in calls] == [{"timezone": "Tokyo"}, {"expression": "17 * 23"}]
        ladder = ["response.output_item.added", "conversation.item.added", "response.function_call_arguments.done",
                  "conversation.item.done", "response.output_item.done"]
        assert steps(client, events)[2:] == ["response.created", *ladder, *ladder, "response.done",
                                             "rate_limits.updated"]
        assert len({c["call_id"] for c in calls}) == 2
        outputs = [{"timezone": "Asia/Tokyo", "time": "14:05"}, {"expression": "17 * 23", "result": 391, "text": "391"}]
        for call, output in zip(calls, outputs):
            await client.send({"type": "conversation.item.create", "item": {
                "type": "function_call_output", "call_id": call["call_id"], "output": json.dumps(output)}})
        await client.send(TEXT)
        _, answer = await client.response()
        assert answer["output"][0]["content"][0]["text"] == (
            "It is 14:05 in Tokyo. Seventeen times twenty three is three hundred and ninety one.")


async def test_the_built_in_tools_are_called_with_valid_arguments(server, tmp_path):
    tools = registry(tmp_path)
    asked = {"Open example dot com.": ("open_url", {"url": "https://example.com"}),
             "Note that I need milk.": ("append_note", {"text": "I need milk"}),
             "What's on my clipboard?": ("read_clipboard", {})}
    async with await Client.open(server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "tools": tools.function_tools()}})
        for question, (name, arguments) in asked.items():
            await client.send(user_text(question))
            await client.send(TEXT)
            _, response = await client.response()
            [call] = function_items(response)
            assert (call["name"], json.loads(call["arguments"])) == (name, arguments)
            tools.runnable(name)[1].parse(call["arguments"])
            await client.send({"type": "conversation.item.create", "item": {
                "type": "function_call_output", "call_id": call["call_id"],
                "output": json.dumps({"error": {"type": "denied", "message": "not allowed"}})}})
            await client.send(TEXT)
            _, answer = await client.response()
            label = name.replace("_", " ")
            assert answer["output"][0]["content"][0]["text"] == (
                f"I did not use the {label} tool, because you did not allow it.")


def mcp_entry(mcp: McpTestServer, **over) -> dict:
    return {"type": "mcp", "server_label": "weather", "server_url": mcp.url, "authorization": "s3cret",
            "allowed_tools": ["weather_forecast"], **over}


async def listed(client: Client, entry: dict) -> list[dict]:
    await client.send({"type": "session.update", "session": {"type": "realtime", "tools": [entry]}})
    events = await client.collect_until(lambda e: e["type"] == "conversation.item.done"
                                        and e["item"]["type"] == "mcp_list_tools")
    return [e for e in events if e["type"] != "session.updated"]


async def test_mcp_listing_approval_and_call_end_to_end(server):
    async with McpTestServer(token="s3cret") as mcp, await Client.open(server.url) as client:
        listing = await listed(client, mcp_entry(mcp))
        assert client.types(listing) == ["conversation.item.added", "mcp_list_tools.in_progress",
                                         "mcp_list_tools.completed", "conversation.item.done"]
        item = listing[-1]["item"]
        assert [t["name"] for t in item["tools"]] == ["weather_forecast"]  # erase_disk is not allowed
        assert item["tools"][0]["input_schema"]["required"] == ["city"]
        await client.send(user_text("What is the weather like in Paris?"))
        await client.send(TEXT)
        events, response = await client.response()
        [request] = response["output"]
        assert request == {"type": "mcp_approval_request", "id": request["id"], "server_label": "weather",
                           "name": "weather_forecast", "arguments": '{"city": "Paris"}'}
        assert steps(client, events)[2:] == ["response.created", "response.output_item.added",
                                             "conversation.item.added", "response.output_item.done",
                                             "conversation.item.done", "response.done", "rate_limits.updated"]
        assert mcp.calls == []  # nothing runs before the user said yes
        await client.send({"type": "conversation.item.create", "item": approval_response_item(request["id"], True)})
        await client.wait_for("conversation.item.done")
        await client.send(TEXT)
        events, response = await client.response()
        call, message = response["output"]
        assert steps(client, events)[:3] == ["response.created", "response.output_item.added",
                                            "conversation.item.added"]
        order = [t for t in client.types(events) if t.startswith("response.mcp_call")]
        assert order[0] == "response.mcp_call_arguments.delta" and order[-3:] == [
            "response.mcp_call_arguments.done", "response.mcp_call.in_progress", "response.mcp_call.completed"]
        assert (call["type"], call["approval_request_id"], call["output"]) == (
            "mcp_call", request["id"], "Sunny and 21 degrees in Paris.")
        assert message["content"][0]["text"] == "The weather forecast tool says: Sunny and 21 degrees in Paris."
        assert mcp.calls == [{"name": "weather_forecast", "arguments": {"city": "Paris"}}]
        assert mcp.methods() == ["initialize", "notifications/initialized", "tools/list", "tools/call"]
        assert mcp.problems == []


async def test_mcp_without_approval_calls_at_once_and_a_denial_is_spoken(server):
    async with McpTestServer(token="s3cret", sse=False) as mcp, await Client.open(server.url) as client:
        await listed(client, mcp_entry(mcp, require_approval="never"))
        await client.send(user_text("What's the weather in Lisbon?"))
        await client.send(TEXT)
        _, response = await client.response()
        assert [i["type"] for i in response["output"]] == ["mcp_call", "message"]
        assert response["output"][0]["output"] == "Sunny and 21 degrees in Lisbon." and "approval_request_id" not in response["output"][0]
        changed = mcp_entry(mcp, require_approval={"never": {"tool_names": ["something_else"]}})
        await client.send({"type": "session.update", "session": {"type": "realtime", "tools": [changed]}})
        await client.wait_for("session.updated")  # the same server: its listing stands
        await client.send(user_text("What's the weather in Rome?"))
        await client.send(TEXT)
        _, response = await client.response()
        [request] = response["output"]
        assert request["type"] == "mcp_approval_request"  # a tool in neither list asks
        await client.send({"type": "conversation.item.create",
                           "item": approval_response_item(request["id"], False, "the user said no")})
        await client.send(TEXT)
        _, response = await client.response()
        assert response["output"][0]["content"][0]["text"] == (
            "I did not use the weather forecast tool on weather, because it was not allowed.")
        assert len(mcp.calls) == 1


async def test_mcp_failures_are_reported_in_the_sdk_shapes(server):
    async with McpTestServer(fail_listing=True) as broken, await Client.open(server.url) as client:
        listing = await listed(client, mcp_entry(broken))
        assert "mcp_list_tools.failed" in client.types(listing) and listing[-1]["item"]["tools"] == []
        await client.send({"type": "conversation.item.create", "item": approval_response_item("mcpr_nothing", True)})
        error = await client.wait_for("error")
        assert error["error"]["param"] == "item.approval_request_id"
    async with McpTestServer(token="s3cret", delay_s=5) as slow, await Client.open(server.url) as client:
        await listed(client, mcp_entry(slow, require_approval="never"))
        await client.send(user_text("What is the weather in Oslo?"))
        await client.send(TEXT)
        await client.wait_for("response.mcp_call.in_progress")
        await client.send({"type": "response.cancel"})
        events = await client.collect_until("response.done")
        assert client.types(events)[-4:] == ["response.mcp_call.failed", "response.output_item.done",
                                             "conversation.item.done", "response.done"]
        item = events[-2]["item"]
        assert item["error"]["type"] == "tool_execution_error" and events[-1]["response"]["status"] == "cancelled"
