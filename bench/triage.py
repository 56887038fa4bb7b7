"""Triage speed: one assessment with its SHAP explanation, and batch scoring, against a logistic regression.

Run: ``PYTHONPATH=. .venv/bin/python bench/triage.py [--data ../shared/data/ktas/ktas_train.csv] [--json]``.
Targets (issue 5): one assessment with SHAP <= 20 ms; batch >= 5,000 patients/s. The baseline is a plain
multinomial logistic regression on the same features (missing values imputed), timed the same way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import save_results

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn: Callable[[], object], repeat: int, clock: Callable[[], float] = time.perf_counter) -> list[float]:
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        start = clock()
        fn()
        samples.append(clock() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "ktas" / "ktas_train.csv")
    parser.add_argument("--single", type=int, default=200, help="single assessments to time")
    parser.add_argument("--batch", type=int, default=20_000, help="patients in the batch")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from medspeak.services.triage import TriageEngine, _reference_result, _result
    from medspeak.triage.features import inputs_frame
    from medspeak.triage.inputs import TriageInputs
    from medspeak.triage.ktas import read_ktas

    engine = TriageEngine.load()
    model = engine.model
    data = read_ktas(args.data)
    x_all = model.space.transform(data.inputs)
    baseline = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=2000))
    baseline.fit(x_all, data.expert)
    records = [
        TriageInputs(**row)
        for row in data.inputs.astype(object).where(data.inputs.notna(), None).to_dict("records")[:50]
    ]
    rng = np.random.default_rng(0)
    batch = data.inputs.iloc[rng.integers(0, len(data.inputs), args.batch)].reset_index(drop=True)

    def one_xgb() -> None:
        _result(
            engine, records[rng.integers(0, len(records))]
        )  # what the service computes: score, rules, SHAP, pathway

    def one_batch_path() -> None:
        # The same result through the batch path (a DataFrame, shap's TreeExplainer): the single path before
        # the NumPy fast path, kept as the reference the tests compare it with.
        _reference_result(engine, records[rng.integers(0, len(records))])

    def one_lr() -> None:
        features = model.space.transform(inputs_frame([records[rng.integers(0, len(records))]]))
        baseline.predict_proba(features)
        # the linear model's own explanation: coefficient x centred value, per level
        lr = baseline[-1]
        _ = lr.coef_ * baseline[:-1].transform(features)

    single = {
        "xgboost + rules": _timed(one_xgb, args.single),
        "xgboost + rules, batch path": _timed(one_batch_path, args.single),
        "logistic regression": _timed(one_lr, args.single),
    }
    # CPU time of this process: on a shared, loaded machine wall time mostly measures the other processes.
    single_cpu = {
        "xgboost + rules": _timed(one_xgb, args.single, time.process_time),
        "xgboost + rules, batch path": _timed(one_batch_path, args.single, time.process_time),
        "logistic regression": _timed(one_lr, args.single, time.process_time),
    }
    xgb_batch = min(_timed(lambda: model.score(batch), 3))
    xgb_batch_cpu = min(_timed(lambda: model.score(batch), 3, time.process_time))
    batch_s = {
        "xgboost + rules": xgb_batch,
        "xgboost + rules, batch path": xgb_batch,  # the same batch scoring: only single assessments differ
        "logistic regression": min(_timed(lambda: baseline.predict_proba(model.space.transform(batch)), 3)),
    }
    batch_cpu_s = {
        "xgboost + rules": xgb_batch_cpu,
        "xgboost + rules, batch path": xgb_batch_cpu,
        "logistic regression": min(
            _timed(lambda: baseline.predict_proba(model.space.transform(batch)), 3, time.process_time)
        ),
    }
    results = {
        name: {
            "single_p50_ms": 1000 * statistics.median(samples),
            "single_p95_ms": 1000 * statistics.quantiles(samples, n=20)[18],
            "single_cpu_p50_ms": 1000 * statistics.median(single_cpu[name]),
            "batch_patients_per_s": args.batch / batch_s[name],
            "batch_cpu_patients_per_s": args.batch / batch_cpu_s[name],
        }
        for name, samples in single.items()
    }
    xgb_r, lr_r = results["xgboost + rules"], results["logistic regression"]
    out = {
        "model_version": model.version,
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "batch_size": args.batch,
        "results": results,
        "single_ratio_xgb_over_lr": xgb_r["single_p50_ms"] / lr_r["single_p50_ms"],
        "batch_ratio_xgb_over_lr": xgb_r["batch_patients_per_s"] / lr_r["batch_patients_per_s"],
        "targets": {"single_ms": 20, "batch_per_s": 5000},
        "meets_targets": xgb_r["single_p50_ms"] <= 20 and xgb_r["batch_patients_per_s"] >= 5000,
    }
    if save_results("triage", out, print_json=args.json):
        return
    sys.stdout.write(f"{'':30} {'1 p50 ms':>9} {'1 p95 ms':>9} {'1 cpu ms':>9} {'batch /s':>10} {'cpu /s':>10}\n")
    for name, r in results.items():
        sys.stdout.write(
            f"{name:30} {r['single_p50_ms']:9.2f} {r['single_p95_ms']:9.2f} {r['single_cpu_p50_ms']:9.2f} "
            f"{r['batch_patients_per_s']:10.0f} {r['batch_cpu_patients_per_s']:10.0f}\n"
        )
    sys.stdout.write("single: one patient with the full result (xgboost: rules, SHAP and pathway too; logistic:\n")
    sys.stdout.write("coefficient x value explanation); batch: probabilities and levels, no explanation.\n")
    sys.stdout.write("xgboost + rules: the one triage path (NumPy columns, SHAP by table; API, pages, batches);\n")
    sys.stdout.write("batch path: one patient in a DataFrame with shap's TreeExplainer (the tests' SHAP reference).\n")
    sys.stdout.write(
        f"cpu ms, cpu /s: this process's CPU time (load average {out['load_average_1min']:.1f} on {out['cpus']} CPUs: "
        "wall times include waiting for them).\n"
    )
    sys.stdout.write(
        f"xgboost / logistic: single {out['single_ratio_xgb_over_lr']:.1f}x the time, "
        f"batch {out['batch_ratio_xgb_over_lr']:.2f}x the throughput; targets met: {out['meets_targets']}\n"
    )


if __name__ == "__main__":
    main()
