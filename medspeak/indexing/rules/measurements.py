"""Vitals and lab results with their units: ``BP 142/88``, ``HR 96``, ``T 37.8 °C``, ``Sodium 140 mmol/L``.

Values outside the vitals spec's plausible range (medspeak/clinical/vitals.py), once in its unit, are not
taken as vitals (a date or an MRN is not a heart rate).
Units are written in UCUM where one applies (mm[Hg], /min, Cel, [degF], %, kg).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from medspeak.clinical.vitals import by_record_type, vital
from medspeak.indexing.rules.lexicon import load, phrase_pattern
from medspeak.indexing.schema import Evidence, Lab, Vital

__all__ = ["find_labs", "find_vitals", "plausible"]

_NUM = r"\d{1,3}(?:[.,]\d+)?"
# (value pattern, default UCUM unit, unit pattern); the plausible range is the spec's
_VITAL_FORMS: dict[str, tuple[str, str | None, str]] = {
    "heart_rate": (r"\d{2,3}", "/min", r"(?:bpm|/min|/mn|batt?e?m?e?n?t?s?/min|par minute)"),
    "respiratory_rate": (r"\d{1,2}", "/min", r"(?:/min|/mn|breaths/min|cycles/min|par minute)"),
    "temperature": (
        r"\d{2,3}(?:[.,]\d)?",
        None,
        r"(?:°\s*[CF]|deg(?:rees?|rés?)?\s*(?:[CF](?![\w])|fahrenheit|celsius)?|[CF](?![\w])|fahrenheit|celsius)",
    ),
    "spo2": (r"\d{2,3}", "%", r"%"),
    "weight": (r"\d{1,3}(?:[.,]\d+)?", "kg", r"(?:kg|lbs?|pounds|livres?)(?![\w])"),
    "pain": (r"\d{1,2}", "{score}", r"/\s*10"),
}
_CELSIUS_MAX = vital("temperature_c").plausible.high
# A value written in another unit, in the spec's unit (UCUM code → conversion).
_TO_SPEC_UNIT: dict[str, Callable[[float], float]] = {
    "[degF]": lambda f: (f - 32) * 5 / 9,
    "[lb_av]": lambda lb: lb * 0.45359237,
}


def plausible(kind: str, value: float, unit: str | None = None) -> bool:
    """Whether ``value`` (in the UCUM ``unit`` it was written in) is in the spec's plausible range for ``kind``."""
    spec = by_record_type(kind)
    if spec is None:
        return True
    convert = _TO_SPEC_UNIT.get(unit or "")
    return (convert(value) if convert else value) in spec.plausible


_BP = re.compile(r"(?P<s>\d{2,3})\s*/\s*(?P<d>\d{2,3})(?:\s*mm\s*hg)?", re.IGNORECASE)
_SEPARATOR = r"\s*(?:[:=]|of|is|was|à|de)?\s*"
# French phrasing between a vital's name and its value: "le pouls a été enregistré à 66", "son poids est de 61,8"
_FILLER = (
    r"(?:\s*(?:[:=]|of|is|was|à|de|d'environ|environ|est|était|a été|enregistrée?|mesurée?|notée?|retrouvée?"
    r"|tympanique|buccale|axillaire|rectale|auriculaire|au repos|à l'arrivée|à l'entrée))*\s*"
)
_LAB_UNIT = (
    r"(?:[x×]?10\^\d+/l|g/dl|g/l|mg/dl|mg/l|mmol/l|µmol/l|umol/l|ng/l|ng/ml|pg/ml"
    r"|u/l|ui/l|iu/l|mui/l|miu/l|%|s)"
)
_LAB_TAIL = re.compile(
    rf"{_SEPARATOR}(?P<value>{_NUM})\s*(?P<unit>{_LAB_UNIT})?(?![\w])(?:\s*(?P<flag>\b[HL]\b|high|low|élevé|bas))?"
    r"(?:\s*\((?P<ref>(?:ref|normal|n|vn)[^)]*)\))?",
    re.IGNORECASE,
)


@cache
def _names(language: str, kind: str) -> tuple[dict[str, str], re.Pattern[str]]:
    table = {alias.lower(): key for key, aliases in load(language, "measurements")[kind].items() for alias in aliases}
    return table, phrase_pattern(list(table))


@cache
def _bp_tail() -> re.Pattern[str]:
    return re.compile(_FILLER + _BP.pattern, re.IGNORECASE)


@cache
def _vital_tail(kind: str) -> re.Pattern[str]:
    """What follows a vital's name: filler words, the value and its unit (compiled once a kind)."""
    value_pattern, _, unit_pattern = _VITAL_FORMS[kind]
    return re.compile(rf"{_FILLER}(?P<v>{value_pattern})\s*(?P<u>{unit_pattern})?", re.IGNORECASE)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def find_vitals(text: str, language: str) -> list[Vital]:
    """Vital-sign facts; blood pressure gives a systolic and a diastolic fact on the same evidence."""
    table, pattern = _names(language, "vitals")
    facts: list[Vital] = []
    for hit in pattern.finditer(text):
        kind = table[hit.group(0).lower()]
        facts += _bp(text, hit.start(), hit.end()) if kind == "blood_pressure" else _vital(text, kind, hit)
    return facts


def _bp(text: str, start: int, name_end: int) -> list[Vital]:
    m = _bp_tail().match(text, name_end)
    if not m or not (plausible("systolic_bp", int(m.group("s"))) and plausible("diastolic_bp", int(m.group("d")))):
        return []
    evidence = Evidence(start=start, end=m.end(), text=text[start : m.end()])
    return [
        Vital(
            label=f"{kind.replace('_', ' ')} {m.group(group)} mmHg",
            type=kind,
            value=float(m.group(group)),
            unit="mm[Hg]",
            evidence=evidence,
        )
        for kind, group in (("systolic_bp", "s"), ("diastolic_bp", "d"))
    ]


def _vital(text: str, kind: str, hit: re.Match[str]) -> list[Vital]:
    default_unit = _VITAL_FORMS[kind][1]
    m = _vital_tail(kind).match(text, hit.end())
    if not m:
        return []
    unit = default_unit
    if kind == "temperature":
        if not m.group("u") and hit.group(0).lower() == "t":
            return []  # a bare "T 12" is not a temperature
        written = (m.group("u") or "").lower().rstrip()
        fahrenheit = written.endswith(("f", "fahrenheit")) or (
            # "98.4 degrees": above any living body's Celsius
            not written.endswith(("c", "celsius")) and _number(m.group("v")) > _CELSIUS_MAX
        )
        unit = "[degF]" if fahrenheit else "Cel"
    if kind in ("spo2", "pain") and not m.group("u"):
        return []
    if kind == "weight" and m.group("u") and m.group("u").lower().startswith(("lb", "pound", "livre")):
        unit = "[lb_av]"
    elif kind == "weight" and not m.group("u") and _number(m.group("v")) > 250:
        return []  # a bare large number is no weight in kilograms
    if not plausible(kind, _number(m.group("v")), unit):
        return []
    evidence = Evidence(start=hit.start(), end=m.end(), text=text[hit.start() : m.end()])
    return [Vital(label=evidence.text, type=kind, value=_number(m.group("v")), unit=unit, evidence=evidence)]


def find_labs(text: str, language: str) -> list[Lab]:
    """Lab results: a known test name followed by a value (unit, H/L flag, reference range when written)."""
    table, pattern = _names(language, "labs")
    facts = []
    for hit in pattern.finditer(text):
        m = _LAB_TAIL.match(text, hit.end())
        if not m or not m.group("unit") and not m.group("flag"):
            continue  # a number without unit or flag after a test name is too ambiguous
        evidence = Evidence(start=hit.start(), end=m.end(), text=text[hit.start() : m.end()])
        facts.append(
            Lab(
                label=evidence.text,
                name=table[hit.group(0).lower()],
                value=_number(m.group("value")),
                unit=m.group("unit"),
                flag=(m.group("flag") or "")[:1].upper() or None,
                reference_range=m.group("ref"),
                evidence=evidence,
            )
        )
    return facts
