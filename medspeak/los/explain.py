"""SHAP drivers in words: what lengthens or shortens this patient's predicted stay, and by how much.

SHAP values of the median are on the ln(days) scale; a value v multiplies the stay by exp(v), read
as "+35 %" or "-20 %". One-hot columns and text axes are summed back into the input they came from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from medspeak.los.encoder import TEXT_GROUP
from medspeak.los.features import Snapshot

__all__ = ["Driver", "drivers"]

_TOP: Final = 6
_NO_PRIOR_DAYS: Final = 365.0


@dataclass(frozen=True)
class Driver:
    """One input's effect on the predicted median stay.

    Attributes:
        feature: the input's name (``ward``, ``age_years``, ``reports_text``...).
        text: the patient's value in words, e.g. "Admitted as an emergency".
        effect_pct: how much it changes the median stay, percent (+35 = 35 % longer).
        effect_days: the same in days, at this patient's median.
    """

    feature: str
    text: str
    effect_pct: float
    effect_days: float

    @property
    def sentence(self) -> str:
        way = "lengthens" if self.effect_pct >= 0 else "shortens"
        return f"{self.text}: {way} the stay by about {abs(self.effect_pct):.0f} % ({self.effect_days:+.1f} days)"


def _reports(n: float, when: str) -> str:
    """'no report', 'one report', 'N reports' (never 'report(s)')."""
    count = int(round(n))
    return {0: f"No report {when}", 1: f"One report {when}"}.get(count, f"{count} reports {when}")


def _describe(feature: str, values: dict[str, float | str], words: list[str]) -> str:
    v = values.get(feature)
    n = float(v) if isinstance(v, int | float) else 0.0
    match feature:
        case "admission_type":
            return f"Admission type: {v}"
        case "admission_source":
            return f"Came from: {v}"
        case "ward":
            return f"Ward {v}"
        case "sex":
            return f"Sex: {v}"
        case "insurance":
            return f"Insurance: {v}"
        case "admit_weekday":
            return f"Admitted on a {v}"
        case "age_years":
            return f"Age {n:.0f} years"
        case "admit_hour":
            return f"Admitted at {int(n):02d}:{int(n % 1 * 60):02d}"
        case "ed_hours":
            return f"{n:.1f} h in the emergency department" if n > 0 else "No emergency department stay before"
        case "prior_admissions_1y":
            return f"{n:.0f} hospital stay(s) in the past year"
        case "prior_mean_los_days":
            return f"Earlier stays lasted {n:.1f} days on average" if n > 0 else "No earlier stay on file"
        case "days_since_last_discharge":
            return f"Last discharged {n:.0f} days before" if n < _NO_PRIOR_DAYS else "No stay in the past year"
        case "elapsed_days":
            return f"{n:.1f} days already in hospital"
        case "reports_so_far":
            return _reports(n, "written by admission")
        case _ if feature == TEXT_GROUP:
            if float(values.get("reports_so_far", 0) or 0) == 0:  # the model reads the absence of any report
                return "No report written by admission"
            return "What the reports say" + (f" ({', '.join(words)})" if words else "")
    return feature


def drivers(
    contributions: NDArray[np.float64],
    groups: list[str],
    snap: Snapshot,
    median_days: float,
    words: list[str] | None = None,
    top: int = _TOP,
) -> list[Driver]:
    """The ``top`` inputs with the largest effect on one patient's median, largest first.

    Args:
        contributions: SHAP values of one row (ln days), base value last.
        groups: the input each column comes from (``FeatureEncoder.groups``).
        snap: the patient's snapshot, for the values in words.
        median_days: the predicted median total stay, days.
        words: report words to show for the text input (only for roles that may read reports).
    """
    summed: dict[str, float] = defaultdict(float)
    for group, value in zip(groups, contributions[:-1], strict=True):
        summed[group] += float(value)
    ranked = sorted(summed.items(), key=lambda kv: -abs(kv[1]))[:top]
    out = []
    for feature, value in ranked:
        if abs(value) < 1e-6:
            continue
        factor = float(np.exp(value))
        # effect in days: the median with this input's effect minus the median without it
        out.append(
            Driver(
                feature,
                _describe(feature, snap.values, words or []),
                100 * (factor - 1),
                median_days * (1 - 1 / factor),
            )
        )
    return out
