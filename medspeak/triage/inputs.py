"""What a triage nurse records at the door, in one typed object.

Every field may be missing (``None``): the model copes, and the result says which were missing.
Units: temperature in °C, heart and respiratory rates per minute, SpO2 in %, blood pressure in mmHg,
pain on the 0-10 numeric rating scale (NRS), age in years.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd  # no stubs in the pinned set

from medspeak.clinical.vitals import AVPU
from medspeak.errors import ValidationFailed
from medspeak.i18n import N_

__all__ = [
    "AVPU",
    "TRANSPORT_MODES",
    "TRANSPORT_WORDS",
    "Columns",
    "TriageInputs",
    "as_number",
    "columns_of",
    "parse_blood_pressure",
]

# The KTAS arrival modes (codes 1-4, 5-7 grouped as "other"), in words.
TRANSPORT_MODES: Final = ("walk-in", "public ambulance", "private vehicle", "private ambulance", "other")
# Each as a page shows it (the catalogue translates it); the stored value is the mode itself.
TRANSPORT_WORDS: Final = {
    "walk-in": N_("walk-in"),
    "public ambulance": N_("public ambulance"),
    "private vehicle": N_("private vehicle"),
    "private ambulance": N_("private ambulance"),
    "other": N_("other"),
}
_TRANSPORT_ALIASES: Final = {"ambulance": "public ambulance", "walking": "walk-in", "walk": "walk-in"}
_BP = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*/\s*(\d{1,3}(?:\.\d+)?)\s*$")
_MAX_COMPLAINT_CHARS: Final = 200  # the encounter column's width; a complaint is a phrase, not a note

_NUMERIC_FIELDS: Final = (
    "temperature_c",
    "heart_rate",
    "respiratory_rate",
    "spo2",
    "systolic_bp",
    "diastolic_bp",
    "age",
    "pain",
)

Sex = Literal["female", "male"]


def parse_blood_pressure(text: str | None) -> tuple[float | None, float | None]:
    """Split ``"142/88"`` into systolic and diastolic mmHg; an empty text is missing.

    Raises:
        ValidationFailed: the text is not ``systolic/diastolic``.
    """
    if text is None or not text.strip():
        return None, None
    match = _BP.match(text)
    if match is None:
        raise ValidationFailed(
            N_("Blood pressure must be written systolic/diastolic, e.g. 142/88 (got {text!r})."), text=text
        )
    return float(match.group(1)), float(match.group(2))


@dataclass(frozen=True, slots=True)
class TriageInputs:
    """One patient at triage; ``None`` means not recorded."""

    temperature_c: float | None = None
    heart_rate: float | None = None
    respiratory_rate: float | None = None
    spo2: float | None = None
    systolic_bp: float | None = None
    diastolic_bp: float | None = None
    transport_mode: str | None = None
    age: float | None = None
    sex: Sex | None = None
    chief_complaint: str | None = None
    mental_status: str | None = None
    pain: float | None = None
    injury: bool | None = None
    # Chemotherapy, transplant, neutropenia, long-term steroids: not a model input (the KTAS records do not
    # have it), read only by the safety rule "fever with immunosuppression".
    immunocompromised: bool | None = None

    def __post_init__(self) -> None:
        if self.mental_status is not None and self.mental_status not in AVPU:
            raise ValidationFailed(N_("Mental status must be one of {value} (AVPU)."), value=", ".join(AVPU))
        if self.transport_mode is not None and self.transport_mode not in TRANSPORT_MODES:
            raise ValidationFailed(N_("Transport mode must be one of {value}."), value=", ".join(TRANSPORT_MODES))
        if self.sex is not None and self.sex not in ("female", "male"):
            raise ValidationFailed(N_("Sex must be female or male (or left empty)."))
        if self.chief_complaint is not None and len(self.chief_complaint) > _MAX_COMPLAINT_CHARS:
            raise ValidationFailed(
                N_("The chief complaint is limited to {MAX_COMPLAINT_CHARS} characters."),
                MAX_COMPLAINT_CHARS=_MAX_COMPLAINT_CHARS,
            )

    @classmethod
    def from_form(cls, values: dict[str, Any]) -> TriageInputs:
        """Build from loose form or JSON values: blanks become ``None``, ``blood_pressure`` is split.

        Raises:
            ValidationFailed: a value has the wrong type or an unknown category.
        """
        data = {k: (None if v == "" else v) for k, v in values.items()}
        if "blood_pressure" in data:
            data["systolic_bp"], data["diastolic_bp"] = parse_blood_pressure(data.pop("blood_pressure"))
        mode = data.get("transport_mode")
        if isinstance(mode, str):
            data["transport_mode"] = _TRANSPORT_ALIASES.get(mode.strip().lower(), mode.strip().lower())
        complaint = data.get("chief_complaint")
        if isinstance(complaint, str):
            data["chief_complaint"] = complaint.strip() or None
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValidationFailed(N_("Unknown triage field(s): {value}."), value=", ".join(sorted(unknown)))
        try:
            for name in _NUMERIC_FIELDS:
                value = data.get(name)
                if value is not None:
                    data[name] = float(value)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(N_("A vital sign is not a number: {exc}."), exc=exc) from exc
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values, stored with every assessment."""
        return asdict(self)

    def missing(self) -> list[str]:
        """Names of the fields not recorded."""
        return [f.name for f in fields(self) if getattr(self, f.name) is None]

    def with_value(self, name: str, value: Any) -> TriageInputs:
        """A copy with one field changed (a unit conversion the nurse accepted)."""
        return replace(self, **{name: value})


def as_number(value: Any) -> float:
    """``pd.to_numeric(errors="coerce")`` for one value: a number, else NaN (never fires a rule)."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# One column per input field, for one patient or a batch alike: floats (NaN when missing) for the numeric
# fields, objects (None when missing) for the others. The features and the safety rules read only this, so
# one patient and a batch go through the same code (issue 15).
Columns = dict[str, npt.NDArray[Any]]


def columns_of(records: pd.DataFrame | Sequence[TriageInputs]) -> Columns:
    """The :data:`Columns` of a batch (a DataFrame, one column per field, as ``read_ktas`` gives) or of patients.

    A field a DataFrame lacks (the KTAS records have no immune status) is missing on every row.
    """
    names = [f.name for f in fields(TriageInputs)]
    if isinstance(records, pd.DataFrame):
        n = len(records)
        out: Columns = {}
        for name in names:
            if name not in records:
                out[name] = np.full(n, np.nan) if name in _NUMERIC_FIELDS else np.full(n, None, dtype=object)
            elif name in _NUMERIC_FIELDS:
                out[name] = pd.to_numeric(records[name], errors="coerce").to_numpy(dtype=float)
            else:
                out[name] = records[name].to_numpy(dtype=object)
        return out
    return {
        name: np.array([as_number(getattr(r, name)) for r in records], dtype=float)
        if name in _NUMERIC_FIELDS
        else np.array([getattr(r, name) for r in records] or [], dtype=object)
        for name in names
    }
