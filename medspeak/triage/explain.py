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

from medspeak.triage.features import Feature
from medspeak.triage.model import TriageModel

__all__ = ["Contribution", "Explainer", "Explanation"]

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
