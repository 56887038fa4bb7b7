"""Laboratory results and requested panels consistent with the visit's reason (SI units)."""

from __future__ import annotations

import random
from typing import Final

from medspeak.demo.catalog import Term
from medspeak.demo.orders import BASIC_PANEL, LABS
from medspeak.demo.phrases import format_number
from medspeak.demo.reasons import Reason

__all__ = ["lab_results", "requested_panels"]

_PANELS: Final = (  # how a requisition groups the basic tests
    (("hemoglobin", "wbc", "platelets"), Term("Complete blood count", "Numération formule sanguine")),
    (("sodium", "potassium", "creatinine"), Term("Electrolytes and creatinine", "Ionogramme et créatinine")),
    (("glucose",), Term("Glucose", "Glycémie")),
)


def lab_results(rng: random.Random, reason: Reason, language: str) -> list[tuple[str, float, str, str]]:
    """(name, value, unit, line) for the basic panel and the reason's own tests, abnormal where it is."""
    abnormal = {code: (mean, sd) for code, mean, sd in reason.lab_values}
    results = []
    for code in (*BASIC_PANEL, *reason.labs):
        test = LABS[code]
        mean, sd = abnormal.get(code, (test.mean, test.sd))
        value = round(max(rng.gauss(mean, sd), test.mean * 0.2), test.decimals)
        name = test.name.text(language)
        line = f"{name} {format_number(value, test.decimals, language)} {test.unit}".rstrip()
        results.append((name, float(value), test.unit, line))
    return results


def requested_panels(reason: Reason, language: str) -> list[str]:
    """The requisition's lines: the basic panels, then the reason's own tests."""
    return [term.text(language) for _codes, term in _PANELS] + [LABS[c].name.text(language) for c in reason.labs]
