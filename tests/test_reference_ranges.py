"""Abnormal flags from the reference ranges data file: borderlines, units, critical limits, the document's flag."""

from __future__ import annotations

import pytest

from medspeak.reference_ranges import flag_for, ranges

# Values are compared as written in the document (one or two decimals): a step of 0.01 either side of
# a limit is the tolerance the tests state.
_STEP = 0.01


def _level(kind: str, measure: str, value: float, unit: str | None) -> str | None:
    flag = flag_for(kind, measure, value, unit)
    return flag.level if flag else None


@pytest.mark.parametrize(
    ("kind", "measure", "value", "unit", "level"),
    [
        ("lab", "potassium", 3.3, "mmol/L", "low"),
        ("lab", "potassium", 3.5, "mmol/L", None),  # the lower limit itself is normal
        ("lab", "potassium", 3.5 - _STEP, "mmol/L", "low"),
        ("lab", "potassium", 5.0, "mmol/L", None),
        ("lab", "potassium", 5.0 + _STEP, "mmol/L", "high"),
        ("lab", "potassium", 2.8, "mmol/L", "critical low"),
        ("lab", "potassium", 6.5, "mEq/L", "critical high"),
        ("lab", "white blood cells", 13.0, "x10^9/L", "high"),
        ("lab", "white blood cells", 13.0, "K/µL", "high"),
        ("lab", "white blood cells", 11.0, "x10^9/L", None),
        ("vital", "systolic_bp", 197, "mm[Hg]", "critical high"),
        ("vital", "diastolic_bp", 97, "mm[Hg]", "high"),
        ("vital", "diastolic_bp", 89, "mmHg", None),
        ("vital", "systolic_bp", 139, "mm[Hg]", None),
        ("vital", "systolic_bp", 140, "mm[Hg]", "high"),
        ("vital", "spo2", 96, "%", None),
        ("vital", "spo2", 95, "%", "low"),
        ("vital", "spo2", 91, "%", "critical low"),
        ("vital", "temperature", 37.4, "Cel", None),
        ("vital", "temperature", 38.1, "Cel", "high"),
        ("vital", "temperature", 101.2, "[degF]", "high"),
        ("lab", "hemoglobin", 11.2, "g/dL", "low"),
        ("lab", "hemoglobin", 112, "g/L", "low"),
        ("lab", "inr", 1.1, None, None),
        ("lab", "inr", 5.0, None, "critical high"),
    ],
)
def test_values_are_flagged_against_their_range(
    kind: str, measure: str, value: float, unit: str | None, level: str | None
) -> None:
    assert _level(kind, measure, value, unit) == level


def test_the_unit_decides_the_range_mmol_and_mg_apart() -> None:
    assert _level("lab", "glucose", 180, "mg/dL") == "high"
    assert _level("lab", "glucose", 5.4, "mmol/L") is None
    assert _level("lab", "glucose", 180, "mmol/L") == "critical high"  # 180 mmol/L is not a normal mg/dL value
    assert _level("lab", "creatinine", 1.4, "mg/dL") == "high"
    assert _level("lab", "creatinine", 100, "µmol/L") is None
    assert _level("lab", "urea", 7.0, "mmol/L") is None and _level("lab", "urea", 25, "mg/dL") == "high"


def test_no_range_in_that_unit_means_no_flag_never_a_guess() -> None:
    assert flag_for("lab", "potassium", 3.3, "mg/dL") is None
    assert flag_for("lab", "potassium", 3.3, None) is None
    assert flag_for("lab", "tsh", 50, "mIU/L") is None


def test_the_document_flag_wins_and_every_flag_has_words_a_symbol_and_a_source() -> None:
    printed = flag_for("lab", "potassium", 4.0, "mmol/L", document_flag="H")
    assert printed is not None and (printed.level, printed.source) == ("high", "the document")
    flag = flag_for("lab", "potassium", 3.3, "mmol/L")
    assert flag is not None
    assert (flag.words, flag.symbol, flag.reference) == ("low", "↓", "3.5–5")
    assert "MedlinePlus" in flag.source


def test_every_row_cites_a_source_and_has_a_coherent_range() -> None:
    assert len(ranges()) >= 25
    for row in ranges():
        assert row.source.strip(), row
        limits = [x for x in (row.critical_low, row.low, row.high, row.critical_high) if x is not None]
        assert limits == sorted(limits), row
    covered = {r.measure for r in ranges()}
    needed = {"sodium", "potassium", "chloride", "bicarbonate", "urea", "creatinine", "glucose", "hemoglobin"}
    assert needed | {"white blood cells", "platelets", "crp", "troponin", "inr", "systolic_bp", "spo2"} <= covered
