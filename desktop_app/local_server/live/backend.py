"""The local GPT-Live server's delegated Responses backend (live-protocol.md §4.4c, §6 item 11).

When the brain wants a tool and the session delegates to ``responses``, :class:`Backend` announces
``session.delegation.created`` and streams the backend's Responses events nested in ``response.event``
envelopes: ``response.created`` (a lifecycle snapshot: ``output``/``tools`` empty, ``instructions``
null), the ``function_call`` item added and done, ``response.completed`` with ``output: []`` and usage.
The client answers each call with ``response.item.create`` (silent) and continues with
``response.create``, refused until every call has its output. The continuation is a second response
whose text (``response.output_text.delta`` …) the voice then speaks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from desktop_app.local_server.conversation import Ids
from desktop_app.local_server.outbox import Emit
from desktop_app.local_server.schema import Problem
from desktop_app.local_server.usage import text_tokens


@dataclass(slots=True)
class _Waiting:
    """A backend response that ended with calls: their outputs, as they come."""

    delegation_id: str
    calls: dict[str, str]  # call_id → tool name
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Continued:
    """``response.create`` accepted: the delegation and the calls' ``(name, output)`` in call order."""

    delegation_id: str
    results: tuple[tuple[str, str], ...]


class Backend:
    """One session's backend responses (``config`` is ``delegation.responses``)."""

    def __init__(self, emit: Emit, ids: Ids, config: dict[str, Any]) -> None:
        self._emit = emit
        self._ids = ids
        self.config = config
        self._sequence = 0
        self._waiting: dict[str, _Waiting] = {}

    @property
    def tools(self) -> list[dict[str, Any]]:
        return [t for t in self.config.get("tools") or () if isinstance(t, dict)]

    @property
    def tool_choice(self) -> Any:
        return self.config.get("tool_choice", "auto")

    def _nested(self, delegation_id: str, event: dict[str, Any]) -> None:
        self._emit({"type": "response.event", "delegation_id": delegation_id,
                    "event": {**event, "sequence_number": self._sequence}})
        self._sequence += 1

    def _snapshot(self, response_id: str, status: str, usage: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": response_id, "object": "response", "created_at": int(time.time()), "status": status,
            "model": str(self.config.get("model", "")), "output": [], "tools": [], "instructions": None,
            "parallel_tool_calls": bool(self.config.get("parallel_tool_calls", True)), "tool_choice": "auto",
            "error": None, "incomplete_details": None, "metadata": {}, "temperature": 1.0, "top_p": 1.0}
        if usage is not None:
            body["usage"] = usage
        return body

    @staticmethod
    def _usage(prompt: int, output: int) -> dict[str, Any]:
        return {"input_tokens": prompt, "output_tokens": output, "total_tokens": prompt + output,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0}}

    def call(self, name: str, arguments: str, offset_ms: int, prompt_tokens: int) -> str:
        """Delegate: the backend asks for one function call. Returns the delegation id."""
        delegation_id, response_id = self._ids.make("item_"), self._ids.make("resp_")
        self._emit({"type": "session.delegation.created", "offset_ms": offset_ms, "delegation": {
            "id": delegation_id, "type": "delegation", "target": "responses", "response_id": response_id}})
        self._nested(delegation_id, {"type": "response.created", "response": self._snapshot(response_id, "in_progress")})
        call_id = self._ids.make("call_", 24)
        item = {"type": "function_call", "id": self._ids.make("fc_"), "call_id": call_id, "name": name,
                "arguments": "", "status": "in_progress"}
        self._nested(delegation_id, {"type": "response.output_item.added", "output_index": 0, "item": item})
        self._nested(delegation_id, {"type": "response.output_item.done", "output_index": 0,
                                     "item": dict(item, arguments=arguments, status="completed")})
        usage = self._usage(prompt_tokens, text_tokens(arguments) + 5)
        self._nested(delegation_id, {"type": "response.completed",
                                     "response": self._snapshot(response_id, "completed", usage)})
        self._waiting[response_id] = _Waiting(delegation_id, {call_id: name})
        return delegation_id

    def item(self, item: dict[str, Any]) -> Problem | None:
        """``response.item.create``: a tool output for a waiting call (other input items are accepted as context)."""
        if item.get("type") != "function_call_output":
            return None if item.get("type") == "message" else Problem(
                "invalid_value", f"Invalid value: '{item.get('type')}'. Supported values are: 'function_call_output' "
                "and 'message'.", "item.type")
        call_id, output = item.get("call_id"), item.get("output")
        if not isinstance(call_id, str) or not isinstance(output, str):
            return Problem("missing_required_parameter", "A function_call_output needs 'call_id' and 'output' strings.",
                           "item.call_id" if not isinstance(call_id, str) else "item.output")
        waiting = next((w for w in self._waiting.values() if call_id in w.calls), None)
        if waiting is None:
            return Problem("invalid_value", f"No delegated function call with call_id '{call_id}' is waiting for "
                                            "output.", "item.call_id")
        waiting.outputs[call_id] = output
        return None

    def create(self) -> Continued | Problem:
        """``response.create``: continue the response whose calls all have their outputs."""
        ready = [(rid, w) for rid, w in self._waiting.items() if set(w.outputs) == set(w.calls)]
        if not ready:
            missing = sum(len(set(w.calls) - set(w.outputs)) for w in self._waiting.values())
            if missing:
                return Problem("tool_output_missing", f"{missing} delegated function call(s) still need their "
                                                      "output before the response can continue.", None)
            return Problem("no_response_to_continue", "There is no delegated response waiting to continue.", None)
        response_id, waiting = ready[0]
        del self._waiting[response_id]
        return Continued(waiting.delegation_id, tuple((waiting.calls[c], waiting.outputs[c]) for c in waiting.calls))

    def answer(self, delegation_id: str, text: str, prompt_tokens: int) -> None:
        """The continuation: a response whose message is ``text`` (which the voice then speaks)."""
        response_id, item_id = self._ids.make("resp_"), self._ids.make("msg_")
        self._nested(delegation_id, {"type": "response.created", "response": self._snapshot(response_id, "in_progress")})
        message = {"type": "message", "id": item_id, "role": "assistant", "status": "in_progress", "content": []}
        self._nested(delegation_id, {"type": "response.output_item.added", "output_index": 0, "item": message})
        where = {"item_id": item_id, "output_index": 0, "content_index": 0}
        for n, word in enumerate(text.split(" ")):
            self._nested(delegation_id, {"type": "response.output_text.delta", **where,
                                         "delta": word if n == 0 else " " + word, "logprobs": []})
        self._nested(delegation_id, {"type": "response.output_text.done", **where, "text": text, "logprobs": []})
        part = {"type": "output_text", "text": text, "annotations": []}
        self._nested(delegation_id, {"type": "response.output_item.done", "output_index": 0,
                                     "item": dict(message, status="completed", content=[part])})
        usage = self._usage(prompt_tokens, text_tokens(text))
        self._nested(delegation_id, {"type": "response.completed",
                                     "response": self._snapshot(response_id, "completed", usage)})

    def abandon(self) -> int:
        """The session closes: responses waiting for tool output cannot continue. Returns how many."""
        count = len(self._waiting)
        self._waiting.clear()
        return count


def result_history(continued: Continued) -> list[tuple[str, str]]:
    """The brain's history entries for the calls' outputs."""
    return [(f"function_call_output:{name}", output) for name, output in continued.results]
