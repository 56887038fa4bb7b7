"""Why the model proposed a level: SHAP values (TreeExplainer) in clinical words.

For one patient, each feature's SHAP value on the predicted level's score (log-odds) gives the
waterfall; its direction in words comes from an urgency contrast, the same SHAP values weighted
+2 … -2 over levels 1 … 5 (softmax scores are shift-invariant, so the centred contrast is
meaningful): positive means the feature pushed towards the urgent levels. "SpO2 88 % → more urgent".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shap
import xgboost as xgb

from medspeak.clinical.vitals import TRIAGE_VITALS
from medspeak.i18n import N_, Said
from medspeak.triage.features import Feature
from medspeak.triage.model import TriageModel

__all__ = ["Contribution", "Driver", "Explainer", "Explanation", "Points", "probability_points"]

_URGENCY_WEIGHTS: Final = np.array([2.0, 1.0, 0.0, -1.0, -2.0])  # level 1 … 5
_SHOWN: Final = 8  # the waterfall keeps the strongest contributions; the rest are summed in one bar


@dataclass(frozen=True, slots=True)
class Contribution:
    feature: str
    label: str  # "SpO2 88 %", "Complaint like “Chest pain” (0.82)", "Pain not recorded"
    shap: float  # on the predicted level's log-odds
    direction: str  # "more urgent" | "less urgent"


@dataclass(frozen=True, slots=True)
class Explanation:
    level: int  # the model's level (before the safety rules)
    base_value: float
    contributions: tuple[Contribution, ...]
    other: float  # the sum of the contributions not shown

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _wording(feature: Feature, value: float) -> str:
    if np.isnan(value):
        return f"{feature.label.split(' (')[0]} not recorded"
    if feature.name.startswith("complaint:"):
        return f"{feature.label} ({value:.2f})"
    if feature.name.startswith("arrival:") or feature.name in ("female", "injury"):
        return feature.label if value >= 0.5 else f"not: {feature.label.lower()}"
    if feature.name == "avpu":
        return f"AVPU {('alert', 'verbal', 'pain', 'unresponsive')[int(value)]}"
    if feature.name == "shock_index":
        return f"Shock index {value:.2f}"
    return f"{feature.label} {value:g} {feature.unit}".strip()


class Explainer:
    """A TreeExplainer built once per model (tens of milliseconds), reused for every patient."""

    def __init__(self, model: TriageModel) -> None:
        self.model = model
        self._tree = shap.TreeExplainer(model.booster)

    def values(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """SHAP values, rows × features × levels, on the (uncalibrated) log-odds scale."""
        # A DMatrix built here runs single-threaded: shap's own (all cores) spends ~10 ms starting threads for
        # one patient, half the 20 ms budget; the values are the same (xgboost's TreeSHAP either way).
        matrix = xgb.DMatrix(features, feature_names=None, nthread=1)
        return np.asarray(self._tree.shap_values(matrix), dtype=float)

    def contributions(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """:meth:`values` for the pages and the API: the same Shapley values, by table lookup.

        The model's :class:`~medspeak.triage.treeshap.TreeTable` gives path-dependent TreeSHAP in ~0.2 ms a patient
        (XGBoost's recursion: 1-1.7 ms; shap's wrapper adds an additivity check on top);
        tests/triage/test_treeshap.py holds the three equal. Without a table (trees too deep for one),
        XGBoost's own ``pred_contribs``.
        """
        if self.model.table is not None:
            return self.model.table.shap_values(features)
        matrix = xgb.DMatrix(features, nthread=1)
        contribs = self.model.booster.predict(matrix, pred_contribs=True, validate_features=False)
        # XGBoost: rows × levels × (features + bias); shap's layout: rows × features × levels, no bias.
        return np.ascontiguousarray(np.transpose(contribs[:, :, :-1], (0, 2, 1)), dtype=np.float64)

    def explain(
        self, features: npt.NDArray[np.float32], level: int, values: npt.NDArray[np.float64] | None = None
    ) -> Explanation:
        """The waterfall for one patient (a 1 × features matrix) and the model's level.

        ``values`` (from :meth:`values`) saves a second SHAP pass when the caller already has them.
        """
        values = (self.values(features) if values is None else values)[0]
        on_level = values[:, level - 1]
        urgency = values @ _URGENCY_WEIGHTS
        order = np.argsort(-np.abs(on_level))
        shown = order[:_SHOWN]
        contributions = tuple(
            Contribution(
                self.model.space.names[i],
                _wording(self.model.space.features[i], float(features[0, i])),
                float(on_level[i]),
                "more urgent" if urgency[i] >= 0 else "less urgent",
            )
            for i in shown
        )
        base = float(np.atleast_1d(self._tree.expected_value)[level - 1])
        return Explanation(level, base, contributions, float(on_level[order[_SHOWN:]].sum()))

    def global_importance(self, features: npt.NDArray[np.float32]) -> list[tuple[str, float]]:
        """Mean |SHAP| per feature over rows and levels, most important first (for the model card)."""
        mean = np.abs(self.values(features)).mean(axis=(0, 2))
        labels = [f.label for f in self.model.space.features]
        return sorted(zip(labels, mean.tolist(), strict=True), key=lambda t: -t[1])


# --- Probability points: what the nurse reads (issue 15) -------------------------------------------------

_STEPS: Final = 32  # midpoint rule along the straight path: the points add up to the change to ~1e-4
MIN_POINTS: Final = 1.0  # a driver that moves P(level 1-2) by less than one percentage point is not shown
MAX_DRIVERS: Final = 6
_SECTIONS: Final = {
    **dict.fromkeys((v.key for v in TRIAGE_VITALS), "vitals"),
    "shock_index": "vitals",
    "mental_status": "vitals",
    "chief_complaint": "complaint",
    "injury": "complaint",
    "age": "age and sex",
    "sex": "age and sex",
    "transport_mode": "arrival",
}


@dataclass(frozen=True, slots=True)
class Driver:
    """One input's share of P(level 1-2), in percentage points (+ towards level 1-2)."""

    input: str  # the TriageInputs field (or "shock_index")
    section: str  # "vitals" | "complaint" | "age and sex" | "arrival"
    label: str  # "Heart rate 130 /min", "Complaint “dyspnea” (like Breathing difficulty)": a Said, to translate
    points: float


@dataclass(frozen=True, slots=True)
class Points:
    """P(level 1-2) explained: from the average patient's probability to this patient's, input by input."""

    base: float  # percent, the model's P(level 1-2) before any input is known
    probability: float  # percent, this patient's P(level 1-2)
    drivers: tuple[Driver, ...]  # |points| ≥ MIN_POINTS, strongest first, at most MAX_DRIVERS
    other: float  # the points of every input not shown
    by_input: dict[str, float]  # every input's points, shown or not (a missing input's weight, in points)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _critical_gradient(margins: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    """d P(level 1-2) / d margins (rows: points on the path) for softmax(margins / T): p_k (1[k ≤ 2] - P12) / T."""
    shifted = np.exp((margins - margins.max(axis=1, keepdims=True)) / temperature)
    p = shifted / shifted.sum(axis=1, keepdims=True)
    critical = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    return np.asarray(p * (critical - p[:, :2].sum(axis=1, keepdims=True)) / temperature, dtype=float)


def _label(
    key: str, features: tuple[Feature, ...], row: npt.NDArray[np.float32], inputs: dict[str, Any]
) -> tuple[str, dict[str, object]]:
    """The input's value in words: an English template (marked ``N_``) and its values."""
    value = inputs.get(key)
    if key == "shock_index":
        index = next(float(row[i]) for i, f in enumerate(features) if f.name == "shock_index")
        if np.isnan(index):
            return N_("Shock index not known"), {}
        return N_("Shock index {index:.2f} (heart rate / systolic BP)"), {"index": index}
    if value is None:
        label = next((f.label for f in features if f.source == key), key.replace("_", " "))
        name = label.split(" (")[0].replace("Sex female", "Sex").replace("Arrival by walk-in", "Arrival")
        return N_("{name} not recorded"), {"name": name}
    if key == "chief_complaint":
        sims = [(float(row[i]), f.label) for i, f in enumerate(features) if f.name.startswith("complaint:")]
        best, like = max(sims)
        if best >= 0.3:
            return N_("Complaint “{value}” (like “{like}”)"), {
                "value": value,
                "like": like.removeprefix("Complaint like ").strip("“”"),
            }
        return N_("Complaint “{value}” (no close category)"), {"value": value}
    if key == "transport_mode":
        return N_("Arrival: {value}"), {"value": value}
    if key == "mental_status":
        return N_("AVPU {value}"), {"value": value}
    if key == "sex":
        return N_("Sex {value}"), {"value": value}
    if key == "injury":
        return (N_("Injury") if value else N_("No injury")), {}
    feature = next(f for f in features if f.name == key)
    number = f"{float(value):.1f}" if key == "temperature_c" else f"{float(value):g}"
    if not feature.unit:
        return N_("{name} {number}"), {"name": feature.label, "number": number}
    return N_("{name} {number} {unit}"), {"name": feature.label, "number": number, "unit": feature.unit}


def probability_points(
    model: TriageModel, features: npt.NDArray[np.float32], shap_values: npt.NDArray[np.float64], inputs: dict[str, Any]
) -> Points:
    """The SHAP values of one patient turned into percentage points of the calibrated P(level 1-2), per input.

    SHAP values are additive in the trees' margins (log-odds); a probability is not. The margins move
    from the base (no input known) to the patient's along a straight path; each input's points are its
    share of the change of P(level 1-2) along that path (integrated gradients, Sundararajan et al., ICML
    2017), so the points of all inputs add up to P(level 1-2) minus the base. An input's features are
    summed (the 26 complaint similarities are one driver: the complaint).
    """
    values = shap_values[0]  # features × levels
    margins = np.asarray(model.margins(features)[0], dtype=float)
    base = margins - values.sum(axis=0)
    total = margins - base
    path = base + ((np.arange(_STEPS) + 0.5) / _STEPS)[:, None] * total
    gradient = _critical_gradient(path, model.temperature).mean(axis=0)
    per_feature = 100.0 * (values @ gradient)
    grouped: dict[str, float] = {}
    for feature, points in zip(model.space.features, per_feature, strict=True):
        key = "shock_index" if feature.name == "shock_index" else feature.source
        grouped[key] = grouped.get(key, 0.0) + float(points)
    order = sorted(grouped, key=lambda k: -abs(grouped[k]))
    shown = [k for k in order if abs(grouped[k]) >= MIN_POINTS][:MAX_DRIVERS]
    said = {k: _label(k, model.space.features, features[0], inputs) for k in shown}
    drivers = tuple(
        Driver(k, _SECTIONS.get(k, "other"), Said(t, **p), round(grouped[k], 1)) for k, (t, p) in said.items()
    )

    def critical(m: npt.NDArray[np.float64]) -> float:
        shifted = np.exp((m - m.max()) / model.temperature)
        return float(100.0 * shifted[:2].sum() / shifted.sum())

    other = sum(v for k, v in grouped.items() if k not in shown)
    return Points(round(critical(base), 1), round(critical(margins), 1), drivers, round(other, 1), grouped)
