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

from medspeak.i18n import N_, Said
from medspeak.los.encoder import TEXT_GROUP
from medspeak.los.features import Snapshot

__all__ = ["Driver", "drivers"]

# The values of the categorical inputs a driver names, as the data stores them, marked for the catalogue so that
# a page shows them translated ("Admitted on a Monday": "Admis un lundi").
_VALUE_WORDS: Final = (
    *(N_("elective"), N_("urgent"), N_("emergency")),
    *(N_("referral"), N_("transfer"), N_("police"), N_("ambulance"), N_("walk-in")),
    *(N_("female"), N_("male")),
    *(N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"), N_("Sunday")),
)
_TOP: Final = 6
_NO_PRIOR_DAYS: Final = 365.0


@dataclass(frozen=True)
class Driver:
    """One input's effect on the predicted median stay.

    Attributes:
        feature: the input's name (``ward``, ``age_years``, ``reports_text``...).
        text: the patient's value in words, e.g. "Admitted as an emergency" (a ``Said``, to translate).
        effect_pct: how much it changes the median stay, percent (+35 = 35 % longer).
        effect_days: the same in days, at this patient's median.
    """

    feature: str
    text: str
    effect_pct: float
    effect_days: float

    @property
    def sentence(self) -> str:
        """ "Admitted at 20:15: lengthens the stay by about 9 % (+0.5 days)", a ``Said`` a page can translate."""
        way = (
            N_("{text}: lengthens the stay by about {pct:.0f} % ({days:+.1f} days)")
            if self.effect_pct >= 0
            else N_("{text}: shortens the stay by about {pct:.0f} % ({days:+.1f} days)")
        )
        return Said(way, text=self.text, pct=abs(self.effect_pct), days=self.effect_days)


def _reports(n: float, when: str) -> tuple[str, dict[str, object]]:
    """'no report', 'one report', 'N reports' (never 'report(s)'); ``when`` is the template's tail."""
    count = int(round(n))
    if count == 0:
        return (N_("No report written by admission") if when == "admission" else N_("No report so far")), {}
    if count == 1:
        return (N_("One report written by admission") if when == "admission" else N_("One report so far")), {}
    return (N_("{count} reports written by admission") if when == "admission" else N_("{count} reports so far")), {
        "count": count
    }


def _describe(feature: str, values: dict[str, float | str], words: list[str]) -> tuple[str, dict[str, object]]:
    """The patient's value of ``feature`` in words: an English template (marked ``N_``) and its values."""
    v = values.get(feature)
    n = float(v) if isinstance(v, int | float) else 0.0
    match feature:
        case "admission_type":
            return N_("Admission type: {value}"), {"value": v}
        case "admission_source":
            return N_("Came from: {value}"), {"value": v}
        case "ward":
            return N_("Ward {value}"), {"value": v}
        case "sex":
            return N_("Sex: {value}"), {"value": v}
        case "insurance":
            return N_("Insurance: {value}"), {"value": v}
        case "admit_weekday":
            return N_("Admitted on a {value}"), {"value": v}
        case "age_years":
            return N_("Age {years:.0f} years"), {"years": n}
        case "admit_hour":
            return N_("Admitted at {hour:02d}:{minute:02d}"), {"hour": int(n), "minute": int(n % 1 * 60)}
        case "ed_hours":
            if n > 0:
                return N_("{hours:.1f} h in the emergency department"), {"hours": n}
            return N_("No emergency department stay before"), {}
        case "prior_admissions_1y":
            return N_("{count:.0f} hospital stay(s) in the past year"), {"count": n}
        case "prior_mean_los_days":
            if n > 0:
                return N_("Earlier stays lasted {days:.1f} days on average"), {"days": n}
            return N_("No earlier stay on file"), {}
        case "days_since_last_discharge":
            if n < _NO_PRIOR_DAYS:
                return N_("Last discharged {days:.0f} days before"), {"days": n}
            return N_("No stay in the past year"), {}
        case "elapsed_days":
            return N_("{days:.1f} days already in hospital"), {"days": n}
        case "reports_so_far":
            return _reports(n, "admission")
        case _ if feature == TEXT_GROUP:
            if float(values.get("reports_so_far", 0) or 0) == 0:  # the model reads the absence of any report
                return N_("No report written by admission"), {}
            if words:
                return N_("What the reports say ({words})"), {"words": ", ".join(words)}
            return N_("What the reports say"), {}
    return "{feature}", {"feature": feature}


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
        template, params = _describe(feature, snap.values, words or [])
        out.append(Driver(feature, Said(template, **params), 100 * (factor - 1), median_days * (1 - 1 / factor)))
    return out
