"""Delegated backend work (live-protocol.md §4.4c): Responses streams in, tool calls out (sans I/O).

With ``delegation.type == "responses"`` the Live model hands tasks to a backend Responses model. Its
stream arrives nested in ``response.event`` envelopes; :class:`Delegations` reads it and reports it in
the shared vocabulary, so the controller's tool slot serves the calls exactly as it serves Realtime's
(the tools registry, permissions, one output per call, in order):

* nested ``response.created`` → ``response.created`` (the assistant is working on it);
* nested ``response.output_item.done`` with a ``function_call`` → the call, shown as a conversation
  item (calls are taken from here only: the lifecycle snapshots carry ``output: []``);
* nested ``response.completed`` / ``failed`` / ``incomplete`` / ``cancelled`` → ``response.done`` whose
  ``output`` is that response's calls (the tool slot runs them) and whose usage is counted once;
* the client answers each call (``response.item.create`` with ``function_call_output``) and, once every
  call of the response has its output, continues it (``response.create``; a partial batch is refused).

Parley's side of the contract is :meth:`Delegations.output` / :meth:`Delegations.continue_ready`,
called by :class:`~.connection.LiveConnection` ``.send_function_output`` / ``.create_response``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop_app.realtime.events import ConversationItemAdded, ServerEvent
from desktop_app.realtime.response_events import OutputItemDone, ResponseCreated, ResponseDone
from desktop_app.realtime.usage import Usage

from .events import ResponseEnvelope

#: Nested Responses events that end a response.
_ENDINGS = {"response.completed": "completed", "response.failed": "failed",
            "response.incomplete": "incomplete", "response.cancelled": "cancelled"}


@dataclass(slots=True)
class _Backend:
    """One delegated Responses response: its calls and which of them have their output."""

    id: str
    delegation_id: str | None
    calls: list[dict[str, Any]] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)
    done: bool = False
    continued: bool = False

    @property
    def waiting(self) -> bool:
        """Ended with calls, all answered, not yet continued: ``response.create`` is due."""
        return self.done and bool(self.calls) and not self.continued and self.unanswered == 0

    @property
    def unanswered(self) -> int:
        return sum(1 for call in self.calls if call.get("call_id") not in self.answered)


class Delegations:
    """Backend responses of one session, their calls and usage."""

    def __init__(self) -> None:
        self._backends: dict[str, _Backend] = {}
        self._by_call: dict[str, _Backend] = {}
        self.usage = Usage()
        self.continuing = 0  # response.create sent, the continuation not started yet

    @property
    def working(self) -> bool:
        """A backend response runs, waits for tool outputs, or is about to continue."""
        return self.continuing > 0 or any(not b.done or (b.calls and not b.continued) for b in self._backends.values())

    def envelope(self, envelope: ResponseEnvelope) -> list[ServerEvent]:
        """One ``response.event``: the shared events it means (often none: text deltas are spoken)."""
        event = envelope.event
        kind = envelope.kind
        response = _obj(event.get("response"))
        response_id = response.get("id") if isinstance(response.get("id"), str) else None
        if kind == "response.created" and response_id:
            self.continuing = max(0, self.continuing - 1)
            self._backends.setdefault(response_id, _Backend(response_id, envelope.delegation_id))
            return [ResponseCreated(response={"id": response_id, "object": "realtime.response",
                                              "status": "in_progress", "output": []})]
        if kind == "response.output_item.done":
            return self._call_done(event, envelope.delegation_id)
        if kind in _ENDINGS and response_id:
            return self._ended(response_id, _ENDINGS[kind], response, envelope.delegation_id)
        return []

    def _call_done(self, event: dict[str, Any], delegation_id: str | None) -> list[ServerEvent]:
        item = event.get("item")
        if not isinstance(item, dict) or item.get("type") != "function_call" or not isinstance(item.get("call_id"), str):
            return []
        response_id = event.get("response_id") if isinstance(event.get("response_id"), str) else None
        backend = self._backends.get(response_id or "") or self._newest_open(delegation_id)
        if backend is None or item["call_id"] in self._by_call:
            return []
        call = {"type": "function_call", "id": item.get("id") if isinstance(item.get("id"), str) else f"fc_{item['call_id']}",
                "call_id": item["call_id"], "name": str(item.get("name", "")),
                "arguments": str(item.get("arguments") or "{}"), "status": "completed"}
        backend.calls.append(call)
        self._by_call[call["call_id"]] = backend
        index = event.get("output_index")
        index = index if isinstance(index, int) else len(backend.calls) - 1
        return [OutputItemDone(response_id=backend.id, output_index=index, item=call), ConversationItemAdded(item=call)]

    def _newest_open(self, delegation_id: str | None) -> _Backend | None:
        open_ = [b for b in self._backends.values() if not b.done and b.delegation_id == delegation_id]
        return open_[-1] if open_ else None

    def _ended(self, response_id: str, status: str, response: dict[str, Any],
               delegation_id: str | None) -> list[ServerEvent]:
        backend = self._backends.setdefault(response_id, _Backend(response_id, delegation_id))
        if backend.done:
            return []  # usage is counted once per response
        backend.done = True
        self.usage = self.usage + Usage.from_responses(response.get("usage"))
        body: dict[str, Any] = {"id": response_id, "object": "realtime.response", "status": status,
                                "output": [dict(call) for call in backend.calls]}
        details = response.get("error") or response.get("incomplete_details")
        if isinstance(details, dict):
            body["status_details"] = {"type": status, "error": details} if status == "failed" else {
                "type": status, "reason": details.get("reason")}
        if status != "completed":
            backend.continued = True  # a failed response's calls are not run; nothing continues it
            body["output"] = []
        return [ResponseDone(response=body)]

    def output(self, call_id: str) -> bool:
        """The output for ``call_id`` is being sent; False for a call this session never made."""
        backend = self._by_call.get(call_id)
        if backend is None:
            return False
        backend.answered.add(call_id)
        return True

    def continue_ready(self) -> bool:
        """Mark every response whose calls are all answered as continued; True if there was one (the
        caller sends one ``response.create``)."""
        ready = [b for b in self._backends.values() if b.waiting]
        for backend in ready:
            backend.continued = True
        if ready:
            self.continuing += 1
        return bool(ready)

    def unanswered_for(self, call_id: str) -> int:
        """Calls of ``call_id``'s response still without output."""
        backend = self._by_call.get(call_id)
        return backend.unanswered if backend is not None else 0


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
