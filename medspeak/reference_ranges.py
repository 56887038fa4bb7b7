"""Abnormal flags for vitals and laboratory values from adult reference ranges kept as data, with sources.

The ranges live in ``reference_ranges.csv`` beside this module, one row per measure and unit family
(mmol/L and mg/dL apart), each with the source it comes from. A value below ``low`` is low, above
``high`` high; at or beyond a critical limit it is critical. A flag or range printed in the document
wins: the laboratory that measured the value knows its assay. No row for the measure in that unit:
no flag (never a guess across units).

This is the flagging half of a measure's specification; names and units follow the extractors
(``indexing/rules/data/*/measurements.json``), so it joins a vitals specification by measure name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Final

from medspeak.i18n import N_

__all__ = ["Flag", "ReferenceRange", "flag_for", "ranges"]

# level -> (words, symbol): the words say it, the symbol repeats it; neither relies on colour.
_SHOWN: Final = {
    "critical low": (N_("critical low"), "⇊"),
    "low": (N_("low"), "↓"),
    "high": (N_("high"), "↑"),
    "critical high": (N_("critical high"), "⇈"),
}
_DOCUMENT: Final = {"h": "high", "high": "high", "l": "low", "low": "low", "hh": "critical high", "ll": "critical low"}


@dataclass(frozen=True)
class ReferenceRange:
    measure: str
    kind: str  # vital | lab
    units: frozenset[str]  # as written, normalised (_unit_key)
    low: float | None
    high: float | None
    critical_low: float | None
    critical_high: float | None
    source: str

    @property
    def text(self) -> str:
        """``3.5-5.0`` / ``≥ 96`` / ``≤ 10``: the normal range as a reader writes it."""
        if self.low is not None and self.high is not None:
            return f"{self.low:g}–{self.high:g}"
        return f"≥ {self.low:g}" if self.low is not None else f"≤ {self.high:g}"


@dataclass(frozen=True)
class Flag:
    level: str  # critical low | low | high | critical high
    reference: str  # the range it was judged against, or "as flagged in the document"
    source: str  # where the range comes from

    @property
    def words(self) -> str:
        return _SHOWN[self.level][0]

    @property
    def symbol(self) -> str:
        return _SHOWN[self.level][1]

    @property
    def critical(self) -> bool:
        return self.level.startswith("critical")


def _unit_key(unit: str | None) -> str:
    return "".join((unit or "").lower().replace("µ", "u").replace("μ", "u").split())


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def ranges() -> tuple[ReferenceRange, ...]:
    """Every row of the data file (read once)."""
    text = files("medspeak").joinpath("reference_ranges.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(line for line in text.splitlines(True) if not line.startswith("#"))))
    return tuple(
        ReferenceRange(
            measure=row["measure"],
            kind=row["kind"],
            units=frozenset(_unit_key(u) for u in row["units"].split(";")),
            low=_number(row["low"]),
            high=_number(row["high"]),
            critical_low=_number(row["critical_low"]),
            critical_high=_number(row["critical_high"]),
            source=row["source"],
        )
        for row in rows
    )


def _range(kind: str, measure: str, unit: str | None) -> ReferenceRange | None:
    key, name = _unit_key(unit), measure.lower().replace(" ", "_")
    for row in ranges():
        if row.kind == kind and row.measure.replace(" ", "_") == name and key in row.units:
            return row
    return None


def flag_for(
    kind: str, measure: str, value: float, unit: str | None, *, document_flag: str | None = None
) -> Flag | None:
    """The value's flag (None: within range, or no range for the measure in this unit).

    ``document_flag`` (H, L, HH, LL, high, low as printed) wins over the ranges of the data file.
    """
    printed = _DOCUMENT.get((document_flag or "").strip().lower())
    if printed:
        return Flag(printed, "as flagged in the document", "the document")
    row = _range(kind, measure, unit)
    if row is None:
        return None
    if row.critical_low is not None and value <= row.critical_low:
        level = "critical low"
    elif row.critical_high is not None and value >= row.critical_high:
        level = "critical high"
    elif row.low is not None and value < row.low:
        level = "low"
    elif row.high is not None and value > row.high:
        level = "high"
    else:
        return None
    return Flag(level, row.text, row.source)
