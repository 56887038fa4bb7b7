"""Units as people write them: the record keeps UCUM codes (FHIR needs them); readers see °C, mmHg, %.

Reference: UCUM (https://ucum.org/ucum) for the codes; the displays follow common clinical usage.
"""

from __future__ import annotations

from medspeak.clinical.vitals import VITALS

__all__ = ["display_unit", "format_measure"]

_DISPLAY = {
    "Cel": "°C",
    "[degF]": "°F",
    "mm[Hg]": "mmHg",
    "{score}": "/10",  # pain is scored out of 10
    "/min": "/min",
    "%": "%",
    "kg": "kg",
    "cm": "cm",
    "g": "g",
    "10*9/L": "×10⁹/L",
    "10*3/uL": "×10³/µL",
    "10*12/L": "×10¹²/L",
    "umol/L": "µmol/L",
    "ug/L": "mcg/L",
    "[iU]/L": "units/L",
    "U/L": "units/L",
}
_NO_SPACE = frozenset({"%", "/10", "/min"})
# Decimals of each vital as the spec shows it (a temperature to one, °C or °F; counts whole); a weight as written.
_DECIMALS = {v.fact_type: v.decimals for v in VITALS if v.key != "weight"}


def display_unit(code: str | None) -> str:
    """A UCUM code (or a unit as written) as a reader expects it: ``"Cel"`` → ``"°C"``."""
    if not code:
        return ""
    return _DISPLAY.get(code, code)


def format_measure(value: float, unit: str | None, name: str = "") -> str:
    """``37.4 °C``, ``98%``, ``143 mmHg``, ``8/10``: whole counts whole, temperatures to one decimal."""
    key = name.lower().replace(" ", "_")
    if _DECIMALS.get(key):
        number = f"{value:.{_DECIMALS[key]}f}"
    elif key in _DECIMALS or float(value).is_integer():
        number = f"{round(value):d}"
    else:
        number = f"{value:g}"
    shown = display_unit(unit)
    if not shown:
        return number
    return f"{number}{shown}" if shown in _NO_SPACE else f"{number} {shown}"
