"""Unit conversion: length, mass, volume, area, speed, time, data, energy, pressure, temperature.

Each unit is a factor to its quantity's base unit (temperature is affine and handled apart). Names
are matched case-insensitively, with plurals and common spellings ("kilometres", "lbs", "°F").
US customary volumes are meant by gallon, quart, pint, cup and fluid ounce; "imperial gallon" and
"imperial pint" are the British ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop_app.tools.builtins.calculator import format_number
from desktop_app.tools.spec import CallContext, ToolError, ToolSpec

# quantity → {symbol: (factor to base, names)}
UNITS: dict[str, dict[str, tuple[float, tuple[str, ...]]]] = {
    "length": {
        "m": (1.0, ("meter", "metre")), "km": (1000.0, ("kilometer", "kilometre")),
        "cm": (0.01, ("centimeter", "centimetre")), "mm": (0.001, ("millimeter", "millimetre")),
        "um": (1e-6, ("µm", "micrometer", "micron")), "nm": (1e-9, ("nanometer", "nanometre")),
        "mi": (1609.344, ("mile",)), "yd": (0.9144, ("yard",)), "ft": (0.3048, ("foot", "feet", "'")),
        "in": (0.0254, ("inch", "inches", '"')), "nmi": (1852.0, ("nautical mile",)),
    },
    "mass": {
        "kg": (1.0, ("kilogram", "kilo")), "g": (0.001, ("gram", "gramme")), "mg": (1e-6, ("milligram",)),
        "lb": (0.45359237, ("pound", "lbs")), "oz": (0.028349523125, ("ounce",)),
        "t": (1000.0, ("tonne", "metric ton")), "ton": (907.18474, ("short ton", "us ton")),
        "st": (6.35029318, ("stone",)),
    },
    "volume": {
        "l": (1.0, ("liter", "litre")), "ml": (0.001, ("milliliter", "millilitre")),
        "cl": (0.01, ("centiliter", "centilitre")), "dl": (0.1, ("deciliter", "decilitre")),
        "m3": (1000.0, ("cubic meter", "cubic metre", "m³")), "gal": (3.785411784, ("gallon", "us gallon")),
        "qt": (0.946352946, ("quart",)), "pt": (0.473176473, ("pint", "us pint")),
        "cup": (0.2365882365, ("cups",)), "floz": (0.0295735295625, ("fl oz", "fluid ounce")),
        "tbsp": (0.01478676478125, ("tablespoon",)), "tsp": (0.00492892159375, ("teaspoon",)),
        "imp_gal": (4.54609, ("imperial gallon", "uk gallon")), "imp_pt": (0.56826125, ("imperial pint", "uk pint")),
    },
    "area": {
        "m2": (1.0, ("square meter", "square metre", "m²", "sq m")), "km2": (1e6, ("square kilometer", "km²")),
        "cm2": (1e-4, ("square centimeter", "cm²")), "ha": (1e4, ("hectare",)), "acre": (4046.8564224, ("acres",)),
        "ft2": (0.09290304, ("square foot", "square feet", "sq ft", "ft²")),
        "mi2": (2589988.110336, ("square mile", "sq mi", "mi²")),
    },
    "speed": {
        "m/s": (1.0, ("meter per second", "meters per second", "mps")),
        "km/h": (1 / 3.6, ("kph", "kmh", "kilometer per hour", "kilometers per hour", "kilometres per hour")),
        "mph": (0.44704, ("mile per hour", "miles per hour")), "kn": (1852 / 3600, ("knot", "kt")),
        "ft/s": (0.3048, ("feet per second", "fps")),
    },
    "time": {
        "s": (1.0, ("sec", "second")), "ms": (0.001, ("millisecond",)), "min": (60.0, ("minute",)),
        "h": (3600.0, ("hr", "hour")), "day": (86400.0, ("d",)), "week": (604800.0, ("wk",)),
        "year": (31557600.0, ("yr", "julian year")),
    },
    "data": {
        "B": (1.0, ("byte",)), "bit": (0.125, ("bits",)), "KB": (1e3, ("kilobyte", "kb")),
        "MB": (1e6, ("megabyte", "mb")), "GB": (1e9, ("gigabyte", "gb")), "TB": (1e12, ("terabyte", "tb")),
        "KiB": (1024.0, ("kibibyte",)), "MiB": (1024.0**2, ("mebibyte",)), "GiB": (1024.0**3, ("gibibyte",)),
        "TiB": (1024.0**4, ("tebibyte",)),
    },
    "energy": {
        "J": (1.0, ("joule",)), "kJ": (1000.0, ("kilojoule",)), "cal": (4.184, ("calorie",)),
        "kcal": (4184.0, ("kilocalorie", "food calorie")), "Wh": (3600.0, ("watt hour",)),
        "kWh": (3.6e6, ("kilowatt hour",)),
    },
    "pressure": {
        "Pa": (1.0, ("pascal",)), "kPa": (1000.0, ("kilopascal",)), "bar": (1e5, ("bars",)),
        "psi": (6894.757293168, ("pound per square inch",)), "atm": (101325.0, ("atmosphere",)),
        "mmHg": (133.322387415, ("millimeter of mercury", "torr")),
    },
}
TEMPERATURE: dict[str, tuple[str, ...]] = {
    "C": ("°c", "celsius", "centigrade", "degc", "degrees celsius"),
    "F": ("°f", "fahrenheit", "degf", "degrees fahrenheit"),
    "K": ("kelvin", "kelvins"),
}


def _index() -> dict[str, tuple[str, str]]:
    index: dict[str, tuple[str, str]] = {}
    for quantity, units in UNITS.items():
        for symbol, (_, names) in units.items():
            for name in (symbol, *names):
                index.setdefault(name.lower(), (quantity, symbol))
    for symbol, names in TEMPERATURE.items():
        for name in (symbol, *names):
            index.setdefault(name.lower(), ("temperature", symbol))
    return index


_INDEX = _index()


def find_unit(text: str) -> tuple[str, str]:
    """``(quantity, symbol)`` for a unit name; :class:`ToolError` if it is not one."""
    key = " ".join(text.strip().split()).lower()
    for candidate in (key, key.removesuffix("s"), key.removesuffix("es"), key.replace("feet", "foot")):
        if candidate in _INDEX:
            return _INDEX[candidate]
    raise ToolError(f"{text!r} is not a unit this converter knows.")


def _to_kelvin(value: float, unit: str) -> float:
    return {"C": value + 273.15, "F": (value - 32) * 5 / 9 + 273.15, "K": value}[unit]


def _from_kelvin(value: float, unit: str) -> float:
    return {"C": value - 273.15, "F": (value - 273.15) * 9 / 5 + 32, "K": value}[unit]


def convert(value: float, source: str, target: str) -> tuple[float, str, str]:
    """``(result, source symbol, target symbol)``; :class:`ToolError` across quantities."""
    (q1, s1), (q2, s2) = find_unit(source), find_unit(target)
    if q1 != q2:
        raise ToolError(f"{source} is a unit of {q1} and {target} of {q2}; they cannot be converted.")
    if q1 == "temperature":
        kelvin = _to_kelvin(value, s1)
        if kelvin < 0:
            raise ToolError("That is below absolute zero.")
        return _from_kelvin(kelvin, s2), s1, s2
    return value * UNITS[q1][s1][0] / UNITS[q1][s2][0], s1, s2


def make_units_tool() -> ToolSpec:
    async def convert_units(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        value = float(args["value"])
        result, source, target = convert(value, args["from_unit"], args["to_unit"])
        rounded = float(f"{result:.10g}")
        return {"value": value, "from_unit": source, "to_unit": target, "result": rounded,
                "text": f"{format_number(value)} {source} = {format_number(float(f'{result:.6g}'))} {target}"}

    unit = {"type": "string", "maxLength": 40}
    return ToolSpec(
        name="convert_units", title="Unit conversion", run=convert_units,
        description="Convert a value between units of length, mass, volume, area, speed, time, data size, "
                    "energy, pressure or temperature (e.g. 10 miles to km, 350 °F to °C).",
        parameters={"type": "object", "properties": {
            "value": {"type": "number", "minimum": -1e15, "maximum": 1e15},
            "from_unit": unit, "to_unit": unit,
        }, "required": ["value", "from_unit", "to_unit"]},
    )
