"""The openai SDK's realtime types as the independent oracle (strict discriminated unions, §6.2)."""

from __future__ import annotations

from typing import Annotated, Any, Union, get_args

from pydantic import Field, TypeAdapter


def strict(alias: Any) -> TypeAdapter[Any]:
    members = get_args(get_args(alias)[0])
    return TypeAdapter(Annotated[Union[members], Field(discriminator="type")])  # type: ignore[valid-type]


def client_event(event: dict[str, Any]) -> Any:
    from openai.types.realtime import RealtimeClientEvent

    return strict(RealtimeClientEvent).validate_python(event)


def tool(entry: dict[str, Any]) -> Any:
    """One ``session.tools`` entry, against the model its ``type`` names (the SDK's function tool has an
    optional ``type``, so its union cannot be a strict discriminated one)."""
    from openai.types.realtime.realtime_function_tool import RealtimeFunctionTool
    from openai.types.realtime.realtime_tools_config_union import Mcp

    model = {"function": RealtimeFunctionTool, "mcp": Mcp}[entry["type"]]
    parsed = model.model_validate(entry)
    assert not parsed.model_extra, f"fields the SDK does not know: {parsed.model_extra}"
    return parsed


def tool_choice(value: Any) -> Any:
    from openai.types.realtime import RealtimeToolChoiceConfig

    return TypeAdapter(RealtimeToolChoiceConfig).validate_python(value)
