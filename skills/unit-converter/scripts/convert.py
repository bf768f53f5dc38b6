#!/usr/bin/env python3
"""Convert a value between units of length, mass, volume or temperature.

Usage:
    python3 scripts/convert.py VALUE FROM TO      e.g.  10 km mi   |   98.6 F C
    python3 scripts/convert.py --list             print the supported units
    echo "5 lb kg" | python3 scripts/convert.py   one conversion per stdin line

Prints `VALUE FROM = RESULT TO` per conversion. Exit status 2 on a bad request
(unknown unit, units of different kinds, temperature below absolute zero).
Standard library only.
"""
import sys

# Factors to the base unit of each kind (metre, kilogram, litre), all exact by definition
# (international yard and pound of 1959, US customary liquid volume, UK imperial gallon).
LINEAR = {
    "length": ("m", {
        "mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0,
        "in": 0.0254, "ft": 0.3048, "yd": 0.9144, "mi": 1609.344, "nmi": 1852.0,
    }),
    "mass": ("kg", {
        "mg": 1e-6, "g": 0.001, "kg": 1.0, "t": 1000.0,
        "oz": 0.028349523125, "lb": 0.45359237, "st": 6.35029318, "ton": 907.18474,
    }),
    "volume": ("l", {
        "ml": 0.001, "cl": 0.01, "dl": 0.1, "l": 1.0, "m3": 1000.0,
        "tsp": 0.00492892159375, "tbsp": 0.01478676478125, "floz": 0.0295735295625,
        "cup": 0.2365882365, "pt": 0.473176473, "qt": 0.946352946, "gal": 3.785411784,
        "imp_pt": 0.56826125, "imp_gal": 4.54609,
    }),
}
TEMPERATURE = ("C", "F", "K")

ALIASES = {
    "millimeter": "mm", "millimetre": "mm", "centimeter": "cm", "centimetre": "cm",
    "meter": "m", "metre": "m", "kilometer": "km", "kilometre": "km",
    "inch": "in", "inches": "in", '"': "in", "foot": "ft", "feet": "ft", "'": "ft",
    "yard": "yd", "mile": "mi", "nautical_mile": "nmi", "nm": "nmi",
    "milligram": "mg", "gram": "g", "kilogram": "kg", "kilo": "kg", "tonne": "t",
    "metric_ton": "t", "ounce": "oz", "pound": "lb", "lbs": "lb", "stone": "st",
    "short_ton": "ton", "us_ton": "ton",
    "milliliter": "ml", "millilitre": "ml", "liter": "l", "litre": "l", "m^3": "m3",
    "cubic_meter": "m3", "teaspoon": "tsp", "tablespoon": "tbsp", "fl_oz": "floz",
    "fluid_ounce": "floz", "pint": "pt", "quart": "qt", "gallon": "gal",
    "imperial_gallon": "imp_gal", "imperial_pint": "imp_pt",
    "c": "C", "celsius": "C", "°c": "C", "f": "F", "fahrenheit": "F", "°f": "F",
    "k": "K", "kelvin": "K",
}


class BadRequest(Exception):
    pass


def canonical(unit):
    """The unit's canonical symbol: exact symbols first, then case-insensitive aliases."""
    if unit in TEMPERATURE:
        return unit
    for _, (_, factors) in LINEAR.items():
        if unit in factors:
            return unit
    key = unit.lower()
    if key in ALIASES:
        return ALIASES[key]
    # Plurals such as "meters", "pounds", "gallons".
    if key.endswith("s") and key[:-1] in ALIASES:
        return ALIASES[key[:-1]]
    if key in {u.lower() for _, (_, f) in LINEAR.items() for u in f}:
        return next(u for _, (_, f) in LINEAR.items() for u in f if u.lower() == key)
    raise BadRequest(f"unknown unit {unit!r}; run with --list to see the supported units")


def kind_of(unit):
    if unit in TEMPERATURE:
        return "temperature"
    for kind, (_, factors) in LINEAR.items():
        if unit in factors:
            return kind
    raise BadRequest(f"unknown unit {unit!r}")


def to_kelvin(value, unit):
    return {"C": value + 273.15, "F": (value - 32) * 5 / 9 + 273.15, "K": value}[unit]


def from_kelvin(kelvin, unit):
    return {"C": kelvin - 273.15, "F": (kelvin - 273.15) * 9 / 5 + 32, "K": kelvin}[unit]


def convert(value, source, target):
    source, target = canonical(source), canonical(target)
    kind, target_kind = kind_of(source), kind_of(target)
    if kind != target_kind:
        raise BadRequest(f"cannot convert {kind} ({source}) to {target_kind} ({target})")
    if kind == "temperature":
        kelvin = to_kelvin(value, source)
        if kelvin < 0:
            raise BadRequest(f"{fmt(value)} {source} is below absolute zero (0 K)")
        return from_kelvin(kelvin, target), source, target
    factors = LINEAR[kind][1]
    return value * factors[source] / factors[target], source, target


def fmt(number):
    """Up to 10 significant digits, no float noise (0.30000000000000004 -> 0.3)."""
    text = f"{number:.10g}"
    return "0" if text == "-0" else text


def run(words):
    if len(words) != 3:
        raise BadRequest("expected: VALUE FROM TO, e.g. `10 km mi`")
    try:
        value = float(words[0].replace(",", ""))
    except ValueError:
        raise BadRequest(f"{words[0]!r} is not a number") from None
    result, source, target = convert(value, words[1], words[2])
    return f"{fmt(value)} {source} = {fmt(result)} {target}"


def list_units():
    lines = []
    for kind, (base, factors) in LINEAR.items():
        lines.append(f"{kind} (base {base}): " + ", ".join(factors))
    lines.append("temperature: " + ", ".join(TEMPERATURE))
    return "\n".join(lines)


def main(argv):
    if argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if argv[1:] == ["--list"]:
        print(list_units())
        return 0
    requests = [argv[1:]] if len(argv) > 1 else [
        line.split() for line in sys.stdin if line.strip() and not line.lstrip().startswith("#")
    ]
    status = 0
    for words in requests:
        try:
            print(run(words))
        except BadRequest as e:
            print(f"error: {e}", file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
