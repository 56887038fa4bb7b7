"""Medication orders in plain words, as clinicians expect to read them.

The extractors keep normalised codes (BID, Q4H, PO) as data; what a person reads never shows an
abbreviation from the ISMP list of error-prone abbreviations or The Joint Commission's do-not-use
list (QD, QOD, U, IU, trailing zeros, a dose without its leading zero, "µg").

References: ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations (2021);
The Joint Commission, Official "Do Not Use" List (2024).
"""

from __future__ import annotations

import re

__all__ = ["SETTING_LABELS", "frequency_words", "order_text", "route_words", "strength_words"]

_FREQUENCIES = {
    "QD": "once daily",
    "BID": "twice daily",
    "TID": "three times daily",
    "QID": "four times daily",
    "QHS": "at bedtime",
    "QAM": "every morning",
    "QPM": "every evening",
    "QOD": "every other day",
    "QW": "once weekly",
    "QMONTH": "once a month",
    "STAT": "now, once",
    "ONSET": "at onset",
}
_ROUTES = {
    "PO": "by mouth",
    "IV": "intravenous",
    "SC": "subcutaneous",
    "IM": "intramuscular",
    "SL": "under the tongue",
    "INH": "inhaled",
    "TOP": "on the skin",
    "PR": "rectal",
    "TD": "transdermal",
}
SETTING_LABELS = {
    "discharge": "discharge",
    "current": "current",
    "admission": "on admission",
    "inpatient": "in hospital only",
}
_EVERY_HOURS = re.compile(r"Q(\d+)H", re.IGNORECASE)
_DECIMAL = re.compile(r"\d+\.\d+")  # "5.0 mg" -> "5 mg", "12.50 mg" -> "12.5 mg"
_NAKED_DECIMAL = re.compile(r"(?<![\d.])\.(?=\d)")  # ".5 mg" -> "0.5 mg"
_UNITS = re.compile(r"(?<=\d)\s*(?:IU|U)\b|(?<=\s)(?:IU|U)\b")  # "10 U", "10 IU" -> "10 units"
_MICRO = re.compile(r"(?:µ|μ|u)g\b")  # "µg", "ug" -> "mcg"


def frequency_words(code: str | None, *, as_needed: bool = False) -> str | None:
    """A frequency code (QD, BID, Q4H...) in plain words; "as needed" appended for a PRN order."""
    words = None
    if code:
        every = _EVERY_HOURS.fullmatch(code.strip())
        if every:
            hours = int(every.group(1))
            words = "every hour" if hours == 1 else f"every {hours} hours"
        else:
            words = _FREQUENCIES.get(code.strip().upper(), code.strip().lower())
    if as_needed:
        return f"{words} as needed" if words else "as needed"
    return words


def route_words(code: str | None) -> str | None:
    """A route code (PO, SC...) in words; SC is on the ISMP list, "by mouth" reads plainer than PO."""
    if not code:
        return None
    return _ROUTES.get(code.strip().upper(), code.strip().lower())


def strength_words(strength: str | None) -> str | None:
    """A strength as it must be written: no trailing zero, a leading zero, "units" and "mcg" spelt out."""
    if not strength:
        return None
    text = _DECIMAL.sub(lambda m: m.group(0).rstrip("0").rstrip("."), strength)
    text = _NAKED_DECIMAL.sub("0.", text)
    text = _UNITS.sub(" units", text)
    return _MICRO.sub("mcg", text)


def order_text(
    name: str, strength: str | None, route: str | None, frequency: str | None, *, as_needed: bool = False
) -> str:
    """``"Lamictal 150 mg by mouth at bedtime"``; ``"Morphine 5 mg by mouth every 4 hours as needed"``."""
    parts = (name, strength_words(strength), route_words(route), frequency_words(frequency, as_needed=as_needed))
    return " ".join(p for p in parts if p)
