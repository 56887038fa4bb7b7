"""Triage agreement figures, as the issue and the KTAS literature report them.

Levels run 1 (most urgent) to 5. Under-triage: a level *less* urgent (a higher number) than the
expert's. Critical under-triage: among expert level 1-2 patients, the share placed at 3 or below.
ECE: expected calibration error of the top-class probability, 10 equal-width bins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score

__all__ = [
    "agreement",
    "bootstrap_ci",
    "critical_alert_figures",
    "ece_noise_floor",
    "expected_calibration_error",
    "second_reader_figures",
]

_LEVELS: Final = [1, 2, 3, 4, 5]


def expected_calibration_error(probabilities: npt.NDArray[np.float64], expert: npt.ArrayLike, bins: int = 10) -> float:
    """Mean |confidence - accuracy| over confidence bins, weighted by the bin's share of patients."""
    p = np.asarray(probabilities, dtype=float)
    truth = np.asarray(expert)
    confidence, predicted = p.max(axis=1), p.argmax(axis=1) + 1
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(confidence[members].mean() - (predicted[members] == truth[members]).mean())
    return float(error)


def ece_noise_floor(probabilities: npt.NDArray[np.float64], n_sim: int = 200, seed: int = 0) -> float:
    """Mean ECE of a *perfectly calibrated* model with these probabilities, on this many patients.

    Labels are drawn from the probabilities themselves, so every gap left is sampling noise. On a
    couple of hundred patients this floor is itself near 0.05-0.06: an observed ECE close to it says
    nothing against the calibration.
    """
    p = np.asarray(probabilities, dtype=float)
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(p, axis=1)
    draws = []
    for _ in range(n_sim):
        u = rng.random((len(p), 1))
        labels = np.minimum((u > cumulative).sum(axis=1), p.shape[1] - 1) + 1
        draws.append(expected_calibration_error(p, labels))
    return float(np.mean(draws))


def agreement(
    expert: npt.ArrayLike, predicted: npt.ArrayLike, probabilities: npt.NDArray[np.float64] | None = None
) -> dict[str, Any]:
    """The issue's figures for one set of levels against the expert's (``ece`` is None without probabilities)."""
    truth, pred = np.asarray(expert, dtype=int), np.asarray(predicted, dtype=int)
    critical = truth <= 2
    return {
        "n": int(len(truth)),
        "accuracy": float(accuracy_score(truth, pred)),
        "macro_f1": float(f1_score(truth, pred, labels=_LEVELS, average="macro", zero_division=0)),
        "kappa_linear": float(cohen_kappa_score(truth, pred, labels=_LEVELS, weights="linear")),
        "kappa_quadratic": float(cohen_kappa_score(truth, pred, labels=_LEVELS, weights="quadratic")),
        "under_triage": float((pred > truth).mean()),
        "over_triage": float((pred < truth).mean()),
        "critical_under_triage": float((pred[critical] >= 3).mean()) if critical.any() else 0.0,
        "ece": None if probabilities is None else expected_calibration_error(probabilities, truth),
    }


def second_reader_figures(expert: npt.ArrayLike, nurse: npt.ArrayLike, flagged: npt.ArrayLike) -> dict[str, float]:
    """The second reader beside the nurse (issue 15's keys).

    ``flag_rate``: share of patients flagged; ``nurse_under_triage_caught``: share of the nurses' under-triaged
    patients flagged; ``nurse_critical_under_triage``: expert level 1-2 patients the nurse placed at 3 or
    below; ``combined_critical_under_triage``: of those expert level 1-2 patients, the share the nurse placed
    at 3 or below *and* the reader did not flag.
    """
    truth, rn, flags = np.asarray(expert), np.asarray(nurse), np.asarray(flagged, dtype=bool)
    under = rn > truth
    critical = truth <= 2
    missed = critical & (rn >= 3)
    return {
        "flag_rate": float(flags.mean()),
        "nurse_under_triage_caught": float(flags[under].mean()) if under.any() else 0.0,
        "nurse_critical_under_triage": float(missed[critical].mean()) if critical.any() else 0.0,
        "combined_critical_under_triage": float((missed & ~flags)[critical].mean()) if critical.any() else 0.0,
    }


def critical_alert_figures(expert: npt.ArrayLike, alert: npt.ArrayLike) -> dict[str, float]:
    """``sensitivity``: share of expert level 1-2 patients alerted; ``alert_rate``: share of all patients alerted."""
    truth, alerts = np.asarray(expert), np.asarray(alert, dtype=bool)
    critical = truth <= 2
    return {
        "sensitivity": float(alerts[critical].mean()) if critical.any() else 0.0,
        "alert_rate": float(alerts.mean()),
    }


def bootstrap_ci(
    n: int, statistic: Callable[[npt.NDArray[np.int_]], float], n_boot: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Percentile 95 % interval of ``statistic(rows)`` over ``n_boot`` resamples of ``n`` row indices."""
    rng = np.random.default_rng(seed)
    stats = [statistic(rng.integers(0, n, n)) for _ in range(n_boot)]
    low, high = np.nanpercentile(stats, [2.5, 97.5])
    return float(low), float(high)
