"""Read a CSV in the KTAS format into triage inputs, the experts' levels and the nurses' levels.

Source: Moon SH et al., "Triage accuracy and causes of mistriage using the Korean Triage and Acuity
Scale", PLOS ONE 2019, doi:10.1371/journal.pone.0216972 (CC BY 4.0). Read from ``../shared/data/``
at training and evaluation time only; never copied into the repository.

The columns known only after triage (diagnosis, disposition, lengths of stay, the mistriage
labels) leak the answer: they are dropped here, at the door, so no later step can use them.
``KTAS_RN`` (the nurse's level) is kept apart: it feeds the second reader, never the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd  # no stubs in the pinned set

from medspeak.errors import ValidationFailed

__all__ = ["LEAKAGE_COLUMNS", "KtasData", "read_ktas"]

LEAKAGE_COLUMNS: Final = (
    "Diagnosis in ED",
    "Disposition",
    "Length of stay_min",
    "KTAS duration_min",
    "Error_group",
    "mistriage",
)
_REQUIRED: Final = (
    "Group",
    "Sex",
    "Age",
    "Arrival mode",
    "Injury",
    "Chief_complain",
    "Mental",
    "Pain",
    "NRS_pain",
    "SBP",
    "DBP",
    "HR",
    "RR",
    "BT",
    "KTAS_expert",
)
_ARRIVAL: Final = {1: "walk-in", 2: "public ambulance", 3: "private vehicle", 4: "private ambulance"}
_AVPU: Final = {1: "alert", 2: "verbal", 3: "pain", 4: "unresponsive"}
_SITE: Final = {1: "local ED", 2: "regional ED"}


@dataclass(frozen=True)
class KtasData:
    """Inputs (one column per ``TriageInputs`` field), labels and the site of each record."""

    inputs: pd.DataFrame
    expert: np.ndarray  # KTAS_expert, 1 (most urgent) ... 5
    nurse: np.ndarray | None  # KTAS_RN, when the file has it
    site: np.ndarray


def _number(series: pd.Series) -> pd.Series:
    # "??" marks a missing vital; a decimal comma may appear in exported copies.
    text = series.astype(str).str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text.where(~text.isin(["??", "", "nan"])), errors="coerce")


def read_ktas(path: Path) -> KtasData:
    """Parse a KTAS-format CSV (``;``-separated, latin-1).

    Raises:
        ValidationFailed: the file is missing or lacks a required column.
    """
    try:
        raw = pd.read_csv(path, sep=";", encoding="latin-1", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise ValidationFailed(f"Cannot read {path}: {exc}") from exc
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        raise ValidationFailed(f"{path} is not in the KTAS format: missing column(s) {', '.join(missing)}.")
    raw = raw.drop(columns=[c for c in LEAKAGE_COLUMNS if c in raw.columns])
    pain_flag = _number(raw["Pain"])
    nrs = _number(raw["NRS_pain"])  # "#BOÞ!" (a spreadsheet error) becomes NaN here
    # Pain = 0 with no score means "no pain", not "not asked".
    nrs = nrs.where(~(nrs.isna() & (pain_flag == 0)), 0.0)
    sex = _number(raw["Sex"]).map({1.0: "female", 2.0: "male"})
    inputs = pd.DataFrame(
        {
            "temperature_c": _number(raw["BT"]),
            "heart_rate": _number(raw["HR"]),
            "respiratory_rate": _number(raw["RR"]),
            "spo2": _number(raw["Saturation"]) if "Saturation" in raw else np.nan,
            "systolic_bp": _number(raw["SBP"]),
            "diastolic_bp": _number(raw["DBP"]),
            "transport_mode": _number(raw["Arrival mode"]).map(lambda v: _ARRIVAL.get(int(v), "other")),
            "age": _number(raw["Age"]),
            "sex": sex,
            "chief_complaint": raw["Chief_complain"].str.strip().replace("", None),
            "mental_status": _number(raw["Mental"]).map(lambda v: _AVPU.get(int(v))),
            "pain": nrs.clip(0, 10),
            "injury": _number(raw["Injury"]).map({1.0: False, 2.0: True}),
        }
    )
    expert = _number(raw["KTAS_expert"])
    if expert.isna().any() or not expert.between(1, 5).all():
        raise ValidationFailed(f"{path}: KTAS_expert must be 1-5 on every row.")
    nurse = _number(raw["KTAS_RN"]).to_numpy(dtype=int) if "KTAS_RN" in raw else None
    site = _number(raw["Group"]).map(lambda v: _SITE.get(int(v), "other")).to_numpy(dtype=object)
    return KtasData(inputs, expert.to_numpy(dtype=int), nurse, site)
