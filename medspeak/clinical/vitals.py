"""The vital signs: names, units, plausible and danger ranges with their sources, and AVPU.

Read by triage (plausibility checks, rule and feature wording, the form), indexing (which numbers after a
vital's name are read as that vital), the API (field descriptions) and the pages (labels). One range per
vital: ``tests/clinical/test_vitals.py`` holds the forms, triage validation and indexing to it.

*Plausible*: what a living adult can show at the bedside. Beyond it a value is a slip (a unit, a typo, a
date read as a number) or an arrest; triage refuses it (or offers a unit conversion), indexing does not read
it as the vital. The limits are chosen wider than any record of the KTAS data set, so that a real extreme is
never refused. SpO2: triage used 20-100 %, indexing 50-100 %; the spec takes **20-100 %**. Pulse oximeters
(ISO 80601-2-61) display 0-100 % and are validated for 70-100 %: a written 45 % is a real, critical
reading (severe hypoxia, cyanotic heart disease) that indexing must not drop; below 20 % a living patient's
reading is a probe fault.

*Danger*: the single-value thresholds at which the triage safety rules (``triage/data/safety_rules.json``)
raise level 1-2 or an alert, with the scale each comes from (NEWS2: Royal College of Physicians 2017;
CTAS, ESI, KTAS: the triage scales; PALS/ATLS for hypotension). The rules file stays the executable form
(its hash is part of the triage model); the spec names the same thresholds, and a test holds them equal.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, get_args

from medspeak.i18n import N_

__all__ = [
    "AVPU",
    "AVPU_WORDS",
    "RECORD_TYPES",
    "TRIAGE_VITALS",
    "VITALS",
    "VITAL_KEYS",
    "Avpu",
    "Range",
    "Threshold",
    "VitalSign",
    "by_record_type",
    "vital",
]

# Alert, responds to Voice, responds to Pain, Unresponsive: the level of consciousness (NEWS2, KTAS).
Avpu = Literal["alert", "verbal", "pain", "unresponsive"]
AVPU: Final[tuple[Avpu, ...]] = get_args(Avpu)
# The four levels as words a page shows (the catalogue translates them): the values themselves are stored.
AVPU_WORDS: Final[dict[Avpu, str]] = {
    "alert": N_("alert"),
    "verbal": N_("verbal"),
    "pain": N_("pain"),
    "unresponsive": N_("unresponsive"),
}

Comparison = Literal["<", "<=", ">", ">="]
_COMPARE: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Range:
    """A closed interval ``[low, high]``."""

    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low:g}-{self.high:g}"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A danger threshold: ``value op bound`` is dangerous (``SpO2 < 92``), from ``source``."""

    op: Comparison
    bound: float
    source: str

    def reached(self, value: float) -> bool:
        return _COMPARE[self.op](value, self.bound)


@dataclass(frozen=True, slots=True)
class VitalSign:
    """One vital sign as every layer names, shows and checks it."""

    key: str  # the field in triage inputs, the API, stored visit vitals: "spo2", "temperature_c"
    label: str  # a heading or form label: "SpO2", "Heart rate"
    short: str  # a narrow column: "HR", "Temp"
    words: str  # in a sentence: "heart rate", "SpO2"
    unit: str  # as shown: "°C", "/min", "mmHg", "%", "/10"
    ucum: str  # as the record and FHIR store it: "Cel", "/min", "mm[Hg]", "%", "{score}"
    decimals: int  # as shown and entered: 1 for a temperature, 0 for counts, pressures, percentages
    plausible: Range  # in ``unit``
    plausible_source: str
    danger: tuple[Threshold, ...] = ()
    record_type: str = ""  # the type of an indexed vital fact when it differs from ``key``

    @property
    def fact_type(self) -> str:
        """The ``type`` of this vital in an indexed record (``temperature`` for ``temperature_c``)."""
        return self.record_type or self.key

    @property
    def form_label(self) -> str:
        """``SpO2 (%)``: a form field's label with the unit it is entered in."""
        return f"{self.label} ({self.unit})"

    @property
    def column_label(self) -> str:
        """``HR (/min)``: a narrow table column or metric."""
        return f"{self.short} ({self.unit})"

    def form_label_in(self, gettext: Callable[[str], str]) -> str:
        """:attr:`form_label` in another language, by ``gettext`` (units are written alike in French and English)."""
        return f"{gettext(self.label)} ({self.unit})"

    def column_label_in(self, gettext: Callable[[str], str]) -> str:
        """:attr:`column_label` in another language, by ``gettext``."""
        return f"{gettext(self.short)} ({self.unit})"

    @property
    def number_format(self) -> str:
        """The printf format a number input shows it with."""
        return f"%.{self.decimals}f"

    def describe(self) -> str:
        """One line for an API field: unit, plausible range, danger thresholds."""
        danger = "; ".join(f"{t.op} {t.bound:g} ({t.source})" for t in self.danger)
        return f"{self.label} in {self.unit}; plausible {self.plausible} {self.unit}" + (
            f"; danger {danger}" if danger else ""
        )

    def in_danger(self, value: float) -> bool:
        return any(t.reached(value) for t in self.danger)


_KTAS_WIDER = "wider than any record of the KTAS data set"
VITALS: Final[tuple[VitalSign, ...]] = (
    VitalSign(
        "temperature_c",
        N_("Temperature"),
        N_("Temp"),
        N_("temperature"),
        "°C",
        "Cel",
        1,
        Range(25.0, 45.0),
        "below 25 °C is severe hypothermia's arrest range (Swiss staging HT IV below 24 °C: no vital signs); "
        f"above 45 °C is beyond survived heatstroke; {_KTAS_WIDER}",
        (Threshold("<=", 35.0, "NEWS2"), Threshold(">=", 40.0, "ESI")),
        record_type="temperature",
    ),
    VitalSign(
        "heart_rate",
        N_("Heart rate"),
        N_("HR"),
        N_("heart rate"),
        "/min",
        "/min",
        0,
        Range(0, 250),
        "0 is no pulse (an arrest, the no_pulse rule's level 1, not an error); above 250/min no adult rhythm "
        f"is sustained; {_KTAS_WIDER}",
        (Threshold("<=", 0, "ESI"), Threshold("<=", 40, "NEWS2"), Threshold(">=", 150, "CTAS")),
    ),
    VitalSign(
        "respiratory_rate",
        N_("Respiratory rate"),
        N_("RR"),
        N_("respiratory rate"),
        "/min",
        "/min",
        0,
        Range(4, 70),
        f"below 4/min is apnoea (an arrest), above 70/min not sustained by an adult; {_KTAS_WIDER}",
        (Threshold("<=", 8, "NEWS2"), Threshold(">=", 25, "NEWS2")),
    ),
    VitalSign(
        "spo2",
        N_("SpO2"),
        N_("SpO2"),
        N_("SpO2"),
        "%",
        "%",
        0,
        Range(20, 100),
        "oximeters display 0-100 % and are validated for 70-100 % (ISO 80601-2-61); a lower written value is "
        "a real critical reading, below 20 % a probe fault",
        (Threshold("<", 70, "KTAS"), Threshold("<", 92, "CTAS")),
    ),
    VitalSign(
        "systolic_bp",
        N_("Systolic BP"),
        N_("SBP"),
        N_("systolic BP"),
        "mmHg",
        "mm[Hg]",
        0,
        Range(40, 300),
        "below 40 mmHg no cuff reading is obtained (an arrest); above 300 mmHg beyond a cuff's range; " + _KTAS_WIDER,
        (Threshold("<", 90, "PALS"),),
    ),
    VitalSign(
        "diastolic_bp",
        N_("Diastolic BP"),
        N_("DBP"),
        N_("diastolic BP"),
        "mmHg",
        "mm[Hg]",
        0,
        Range(15, 200),
        f"a cuff's measuring range; {_KTAS_WIDER}",
    ),
    VitalSign(
        "pain",
        N_("Pain"),
        N_("Pain"),
        N_("pain"),
        "/10",
        "{score}",
        0,
        Range(0, 10),
        "the numeric rating scale is 0-10",
        (Threshold(">=", 8, "KTAS"),),
    ),
    VitalSign(
        "weight",
        N_("Weight"),
        N_("Weight"),
        N_("weight"),
        "kg",
        "kg",
        1,
        Range(1, 700),
        "a premature newborn to beyond the heaviest adult recorded (635 kg)",
    ),
    VitalSign(
        "height",
        N_("Height"),
        N_("Height"),
        N_("height"),
        "cm",
        "cm",
        0,
        Range(20, 275),
        "a premature newborn to beyond the tallest adult recorded (272 cm)",
    ),
)
VITAL_KEYS: Final = tuple(v.key for v in VITALS)
# The signs a triage nurse records (the form, the triage inputs and the patient page's latest vitals).
TRIAGE_VITALS: Final = tuple(v for v in VITALS if v.key not in ("weight", "height"))
# The ``type`` of an indexed vital fact (rules and language-model extraction).
RECORD_TYPES: Final = tuple(v.fact_type for v in VITALS)
_SPECS: Final = {v.key: v for v in VITALS}
_BY_RECORD_TYPE: Final = {v.fact_type: v for v in VITALS}


def vital(key: str) -> VitalSign:
    """The spec of ``key`` (``"spo2"``).

    Raises:
        KeyError: no such vital sign.
    """
    return _SPECS[key]


def by_record_type(fact_type: str) -> VitalSign | None:
    """The spec of an indexed vital's ``type`` (``"temperature"``), or None for another type."""
    return _BY_RECORD_TYPE.get(fact_type)
