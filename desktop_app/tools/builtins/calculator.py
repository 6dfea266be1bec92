"""A safe calculator: Python's own parser, then a walk that evaluates only arithmetic.

``ast.parse(mode="eval")`` builds the tree (nothing runs); :func:`evaluate` accepts numbers, the
operators ``+ - * / // % **`` (``^``, ``×``, ``÷`` are read as power, times and divide), the
constants ``pi``, ``e``, ``tau`` and a fixed set of math functions — any other node (names,
attributes, subscripts, lambdas, comprehensions, strings) is refused. Sizes are bounded so a short
expression cannot take the machine: 200 characters, 60 nodes, powers and factorials that stay
below 10^300.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from desktop_app.tools.spec import CallContext, ToolError, ToolSpec

MAX_CHARS = 200
MAX_NODES = 60
MAX_MAGNITUDE = 10**300

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _factorial(n: Number) -> int:
    if not float(n).is_integer() or n < 0 or n > 170:
        raise ToolError("factorial needs a whole number from 0 to 170.")
    return math.factorial(int(n))


def _round(x: Number, digits: Number = 0) -> Number:
    if not float(digits).is_integer() or not -20 <= digits <= 20:
        raise ToolError("round takes a whole number of digits from -20 to 20.")
    return round(x, int(digits))


_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "sqrt": math.sqrt, "abs": abs, "round": _round, "floor": math.floor, "ceil": math.ceil,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos, "atan": math.atan,
    "log": math.log, "ln": math.log, "log10": math.log10, "log2": math.log2, "exp": math.exp,
    "min": min, "max": max, "factorial": _factorial, "radians": math.radians, "degrees": math.degrees,
}


def _prepare(expression: str) -> str:
    text = expression.strip().replace("×", "*").replace("÷", "/").replace("−", "-").replace("^", "**")
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000,000 → 1000000


def evaluate(expression: str) -> Number:
    """The value of ``expression``; :class:`ToolError` with the reason when it is refused or fails."""
    if len(expression) > MAX_CHARS:
        raise ToolError(f"The expression is longer than {MAX_CHARS} characters.")
    try:
        tree = ast.parse(_prepare(expression), mode="eval")
    except (SyntaxError, ValueError):
        raise ToolError(f"{expression!r} is not an arithmetic expression.") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ToolError("The expression is too complex.")
    try:
        return _check(_eval(tree.body))
    except ZeroDivisionError:
        raise ToolError("That divides by zero.") from None
    except (OverflowError, MemoryError):
        raise ToolError("The result is too large.") from None
    except (ValueError, TypeError) as exc:
        raise ToolError(f"That cannot be calculated ({exc}).") from None


def _check(value: Any) -> Number:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ToolError("Only real numbers are supported.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError("The result is not a finite number.")
    if abs(value) > MAX_MAGNITUDE:
        raise ToolError("The result is too large.")
    return value


def _eval(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _check(node.value)
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        value = _eval(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check(_BINARY[type(node.op)](left, right))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
            and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args) and node.args):
        return _check(_FUNCTIONS[node.func.id](*(_eval(a) for a in node.args)))
    raise ToolError(f"{ast.unparse(node)[:40]!r} is not allowed in a calculation.")


def _check_power(base: Number, exponent: Number) -> None:
    if abs(exponent) > 10_000:
        raise ToolError("The exponent is too large.")
    if abs(base) > 1 and exponent > 0 and exponent * math.log10(abs(base)) > 300:
        raise ToolError("The result is too large.")


def format_number(value: Number) -> str:
    """``value`` as a person would say it: whole numbers without ``.0``, others to 12 significant digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.12g}"


def make_calculator_tool() -> ToolSpec:
    async def calculate(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        value = evaluate(args["expression"])
        return {"expression": args["expression"], "result": value, "text": format_number(value)}

    return ToolSpec(
        name="calculate", title="Calculator", run=calculate,
        description="Evaluate an arithmetic expression exactly (+ - * / // % ** and sqrt, sin, cos, tan, log, "
                    "exp, abs, round, floor, ceil, min, max, factorial; pi and e). Use it for any arithmetic "
                    "instead of working it out yourself.",
        parameters={"type": "object", "properties": {
            "expression": {"type": "string", "maxLength": MAX_CHARS, "description": "e.g. 17 * 23 or sqrt(2) / 3"},
        }, "required": ["expression"]},
    )
