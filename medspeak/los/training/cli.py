"""``medspeak train los`` and ``medspeak eval los|occupancy``: the functions the main CLI registers.

Training writes the committed artifact (``models/los/``): the model, its figures, its model card and
the SHA-256 manifest. Evaluating on the folder the model was trained on re-runs the grouped
cross-validation (scoring a model on its own training stays would flatter it); on any other
MIMIC-IV-format folder the committed model is scored as it is.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import typer

from medspeak.errors import ValidationFailed
from medspeak.los import artifact
from medspeak.los.admissions import Admission
from medspeak.los.features import snapshot
from medspeak.los.training import CrossValidation, LosMetrics, cross_validate, fit_calibrated, metrics
from medspeak.los.training.backtest import BacktestResult, backtest
from medspeak.los.training.mimic import load_mimic
from medspeak.los.training.modelcard import write_model_card

__all__ = ["eval_los_command", "eval_occupancy_command", "synthetic_figures", "train_command"]

_SYNTHETIC_PATIENTS: Final = 5000  # the generator "at scale": the largest demo it makes, ~10x the MIMIC stays
_SYNTHETIC_SEED: Final = 20261128
_IN_BED_DAYS: Final = (1, 3, 7)  # figures for stays still going on after these many days
_SYNTHETIC_NOW: Final = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)  # fixed: the same figures on every run


def synthetic_figures(n_patients: int = _SYNTHETIC_PATIENTS, seed: int = _SYNTHETIC_SEED) -> dict[str, Any]:
    """Grouped cross-validation of the same pipeline on the project's generator (finished stays)."""
    from medspeak.demo.generator import generate
    from medspeak.los.training.demo import from_demo

    admissions = from_demo(generate(seed, n_patients, _SYNTHETIC_NOW))
    cv = cross_validate(admissions)
    return {"patients": n_patients, "seed": seed, **cv.figures.as_dict()}


def train_command(
    mimic: Path, out: Path = artifact.DEFAULT_DIR, *, synthetic_patients: int = _SYNTHETIC_PATIENTS
) -> None:
    """Train on a MIMIC-IV folder and write the artifact, figures, model card and manifest to ``out``."""
    admissions = load_mimic(mimic)
    typer.echo(f"{len(admissions)} admissions read; grouped cross-validation...")
    cv = cross_validate(admissions)
    typer.echo("Back-test of the census forecast...")
    occupancy = backtest(cv)
    figures: dict[str, Any] = {
        "los": cv.figures.as_dict(),
        "los_in_bed": {f"day_{d:g}": cv.in_bed_figures(float(d)).as_dict() for d in _IN_BED_DAYS},
        "occupancy": _occupancy_dict(occupancy),
    }
    if synthetic_patients:
        typer.echo(f"The same pipeline on the generator ({synthetic_patients} patients)...")
        figures["synthetic_los"] = synthetic_figures(synthetic_patients)
    model = fit_calibrated(admissions)
    model.meta_ = {
        "trained_on": "MIMIC-IV Clinical Database Demo v2.2 (PhysioNet, ODbL 1.0)",
        "training_admissions": len(cv.admissions),
        "training_fingerprint": artifact.fingerprint(admissions),
        "training_median_days": round(float(np.median([a.los_days or 0.0 for a in cv.admissions])), 4),
    }
    finished = cv.admissions
    actual = np.array([a.los_days or 0.0 for a in finished])
    apparent = model.quantiles([snapshot(a, 0.0) for a in finished])
    in_sample = metrics(actual, apparent, np.full(len(finished), np.median(actual)))
    figures["los_in_sample"] = in_sample.as_dict()  # the final model on its own training stays: flattering
    files = model.save(out)
    model.meta_["version"] = "los-" + artifact.sha256_of(out / "booster.json")[:12]
    files = model.save(out)
    metrics_file = out / artifact.METRICS_FILE
    metrics_file.write_text(json.dumps({"version": model.meta_["version"], **figures}, indent=2) + "\n", "utf-8")
    card = write_model_card(out, model, figures)
    artifact.write_manifest(out, [*files, metrics_file, card])
    typer.echo(json.dumps(figures, indent=2))
    typer.echo(f"Model {model.meta_['version']} written to {out}")


def _occupancy_dict(result: BacktestResult) -> dict[str, Any]:
    return {
        **result.as_dict(),
        "coverage_50": round(result.coverage_50, 3),
        "mean_census": round(result.mean_census, 2),
        "mae_by_horizon": result.mae_by_horizon,
        "coverage_90_by_horizon": result.coverage_90_by_horizon,
    }


def _committed_cv(admissions: list[Admission], folder: Path) -> tuple[CrossValidation, str]:
    """Out-of-fold predictions for the training folder; the committed model as it is for another one."""
    model = artifact.load_committed(folder)
    if artifact.fingerprint(admissions) == model.meta_.get("training_fingerprint"):
        return cross_validate(admissions, model.hyper), "grouped cross-validation (the model's training folder)"
    finished = [a for a in admissions if a.los_days is not None]
    if not finished:
        raise ValidationFailed("The folder has no finished stay (admission with a discharge time) to evaluate.")
    predicted = model.quantiles([snapshot(a, 0.0) for a in finished])
    baseline = np.full(len(finished), float(model.meta_.get("training_median_days", math.nan)))
    actual = np.array([a.los_days or 0.0 for a in finished])
    figures: LosMetrics = metrics(actual, predicted, baseline)
    cv = CrossValidation(finished, predicted, baseline, figures, [model], np.zeros(len(finished), dtype=np.int64))
    return cv, f"committed model {model.meta_.get('version', '?')} on new admissions"


def _emit(payload: dict[str, Any], mode: str, json_out: bool) -> None:
    if json_out:
        typer.echo(json.dumps(payload))
        typer.echo(f"({mode})", err=True)
        return
    typer.echo(f"Evaluation: {mode}")
    for key, value in payload.items():
        typer.echo(f"  {key:<20} {value}")


def eval_los_command(mimic: Path, json_out: bool, folder: Path = artifact.DEFAULT_DIR) -> None:
    """Length of stay at admission on every admission of a MIMIC-IV-format folder."""
    cv, mode = _committed_cv(load_mimic(mimic), folder)
    _emit(cv.figures.as_dict(), mode, json_out)


def eval_occupancy_command(mimic: Path, json_out: bool, folder: Path = artifact.DEFAULT_DIR) -> None:
    """Back-test of the 14-day census forecast on the replayed admissions of a MIMIC-IV-format folder."""
    cv, mode = _committed_cv(load_mimic(mimic), folder)
    _emit(backtest(cv).as_dict(), mode, json_out)
