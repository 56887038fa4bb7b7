"""Benchmark: a 14-day census forecast for a 500-bed ward, exact algebra vs plain Monte Carlo.

Run: ``.venv/bin/python -m bench.los``. Prints a table and writes ``bench/results/los.json``.
The exact forecast must take <= 1 s (issue 6); the Monte Carlo shows what the same answer costs by
simulation, and how far its quantiles are from the exact ones.
"""

from __future__ import annotations

import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from medspeak.los.distribution import StayDistribution
from medspeak.los.montecarlo import simulate
from medspeak.los.occupancy import Electives, WardInputs, census_moments, day_outlooks, mid_quantiles, occupancy_pmfs
from medspeak.los.survival import kaplan_meier

BEDS = 500
HORIZON = 14
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
OUT = Path(__file__).resolve().parent / "results" / "los.json"


def _ward() -> WardInputs:
    rng = np.random.default_rng(0)
    n = int(BEDS * 0.9)  # a ward 90 % full
    q = np.exp(np.log(4.5) + np.array([-1.3, 0.0, 1.3])[None, :] + rng.normal(0, 0.5, (n, 1)))
    km = kaplan_meier(rng.lognormal(np.log(4.5), 1.0, 5000), np.ones(5000, dtype=bool))
    return WardInputs(
        BEDS, StayDistribution.from_quantiles(q, rng.uniform(0, 8, n)), np.full(7, 80.0), km, km, (Electives(1, 20),)
    )


def main() -> dict[str, object]:
    inputs, moments = _ward(), census_moments(NOW, HORIZON)
    start = time.perf_counter()
    exact = day_outlooks(occupancy_pmfs(inputs, NOW, moments), moments, BEDS)
    exact_s = time.perf_counter() - start
    rows = []
    for scenarios in (1_000, 10_000):
        start = time.perf_counter()
        sims = simulate(inputs, NOW, moments, scenarios, seed=1)
        mc_s = time.perf_counter() - start
        # the simulated census's own 90 % band, by the same whole-bed rule as the exact forecast
        bands = [mid_quantiles(np.bincount(sims[:, d]) / scenarios, (0.05, 0.95)) for d in range(len(exact))]
        gap = max(max(abs(o.p05 - b[0]), abs(o.p95 - b[1])) for o, b in zip(exact, bands, strict=True))
        rows.append(
            {
                "method": f"Monte Carlo {scenarios:,}",
                "seconds": round(mc_s, 3),
                "max_band_gap_beds": round(float(gap), 2),
            }
        )
    result: dict[str, object] = {
        "beds": BEDS,
        "patients_in_beds": len(inputs.current.mu),
        "horizon_days": HORIZON,
        "exact_seconds": round(exact_s, 4),
        "exact_within_1s": exact_s <= 1.0,
        "monte_carlo": rows,
        "machine": f"{platform.machine()} {platform.python_version()}",
    }
    print(f"{'method':<22}{'seconds':>10}{'90% band gap (beds)':>22}")  # noqa: T201 - a benchmark prints its table
    print(f"{'exact (this forecast)':<22}{exact_s:>10.4f}{'-':>22}")  # noqa: T201
    for r in rows:
        print(f"{r['method']:<22}{r['seconds']:>10.3f}{r['max_band_gap_beds']:>22.1f}")  # noqa: T201
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
