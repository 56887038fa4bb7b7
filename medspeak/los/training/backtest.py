"""Back-test of the census forecast: replay past admissions, forecast from each day, compare.

MIMIC shifts each patient's dates by its own number of years, so the demo's 80 patients are spread
over a century and never share a ward. The replay folds every admission into one 13-week window
(each moved by a whole number of 13-week periods: weekday and time of day are kept, as MIMIC keeps
them), which gives a small hospital of about 14 occupied beds. From each midnight after a 4-week
warm-up the forecast uses only what was known then: the patients in a bed (their at-admission
distribution from the cross-validation fold that never saw them, conditioned on the time already
spent), arrivals per weekday and stays of the weeks before. Bands are mid-distribution quantiles
(``medspeak.los.occupancy.mid_quantiles``); the randomised PIT is kept as a calibration check that
does not depend on how whole-bed bands are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

import numpy as np

from medspeak.los.admissions import Admission, PriorStay, Report
from medspeak.los.distribution import StayDistribution
from medspeak.los.occupancy import WardInputs, census_moments, day_outlooks, occupancy_pmfs
from medspeak.los.survival import kaplan_meier
from medspeak.los.training import CrossValidation

__all__ = ["BacktestResult", "backtest", "replay"]

WINDOW_DAYS: Final = 91  # 13 weeks: a whole number of weeks keeps each weekday
_WARMUP_DAYS: Final = 28  # forecasts start once four weeks of history exist
_HISTORY_DAYS: Final = 28  # arrival rates and arrivals' stays from the four weeks before each forecast
_REFERENCE: Final = datetime(2100, 1, 4)  # a Monday before every shifted MIMIC date


def _shift(adm: Admission, by: timedelta) -> Admission:
    return replace(
        adm,
        admitted_at=adm.admitted_at + by,
        discharged_at=None if adm.discharged_at is None else adm.discharged_at + by,
        prior_stays=tuple(PriorStay(p.admitted_at + by, p.discharged_at + by) for p in adm.prior_stays),
        reports=tuple(Report(r.at + by, r.text) for r in adm.reports),
    )


def replay(admissions: Sequence[Admission], window_days: int = WINDOW_DAYS) -> list[Admission]:
    """Each admission moved by whole ``window_days`` periods so that it starts inside one window."""
    window = timedelta(days=window_days)
    return [_shift(a, -((a.admitted_at - _REFERENCE) // window) * window) for a in admissions]


@dataclass(frozen=True)
class BacktestResult:
    """Figures over every (forecast day, horizon) pair; per-horizon figures for the page."""

    days: int
    horizon_days: int
    mae_beds: float
    coverage_90: float
    coverage_50: float
    mean_census: float
    mae_by_horizon: list[float]
    coverage_90_by_horizon: list[float]

    def as_dict(self) -> dict[str, float | int]:
        """The JSON the ``medspeak eval occupancy`` command prints."""
        return {
            "days": self.days,
            "horizon_days": self.horizon_days,
            "mae_beds": round(self.mae_beds, 3),
            "coverage_90": round(self.coverage_90, 3),
        }


def _in_bed(stays: Sequence[Admission], at: datetime) -> list[int]:
    return [i for i, a in enumerate(stays) if a.admitted_at <= at and (a.discharged_at is None or a.discharged_at > at)]


def _inputs(cv: CrossValidation, stays: Sequence[Admission], origin: datetime) -> WardInputs:
    current = _in_bed(stays, origin)
    elapsed = np.array([(origin - stays[i].admitted_at).total_seconds() / 86400 for i in current])
    mu, sigma = np.zeros(len(current)), np.zeros(len(current))
    for row, i in enumerate(current):
        model = cv.models[int(cv.fold_of[i])]  # the fold that never saw this patient
        dist = model.in_bed([stays[i]], [float(elapsed[row])])
        mu[row], sigma[row] = dist.mu[0], dist.sigma[0]
    since = origin - timedelta(days=_HISTORY_DAYS)
    recent = [a for a in stays if since <= a.admitted_at < origin]
    rates = np.zeros(7)
    for a in recent:
        rates[a.admitted_at.weekday()] += 1
    rates /= _HISTORY_DAYS / 7
    ends = [min(a.discharged_at or origin, origin) for a in recent]
    km = kaplan_meier(
        [(e - a.admitted_at).total_seconds() / 86400 for a, e in zip(recent, ends, strict=True)],
        [a.discharged_at is not None and a.discharged_at <= origin for a in recent],
    )
    current_dist = StayDistribution(mu, sigma, elapsed)
    return WardInputs(capacity=10_000, current=current_dist, weekday_arrivals=rates, arrival_stay=km, elective_stay=km)


def backtest(cv: CrossValidation, horizon_days: int = 14, window_days: int = WINDOW_DAYS) -> BacktestResult:
    """Forecast the replayed hospital's midnight census from each day, and score it against what happened."""
    stays = replay(cv.admissions, window_days)
    start = _REFERENCE + timedelta(days=_WARMUP_DAYS)
    origins = [start + timedelta(days=d) for d in range(window_days - _WARMUP_DAYS - horizon_days + 1)]
    errors, inside90, inside50, census = [], [], [], []
    for origin in origins:
        moments = census_moments(origin, horizon_days)
        outlooks = day_outlooks(occupancy_pmfs(_inputs(cv, stays, origin), origin, moments), moments, 10_000)
        actual = [len(_in_bed(stays, m)) for m in moments]
        errors.append([abs(o.p50 - n) for o, n in zip(outlooks, actual, strict=True)])
        inside90.append([o.p05 <= n <= o.p95 for o, n in zip(outlooks, actual, strict=True)])
        inside50.append([o.p25 <= n <= o.p75 for o, n in zip(outlooks, actual, strict=True)])
        census += actual
    err, in90 = np.array(errors, dtype=float), np.array(inside90, dtype=float)
    return BacktestResult(
        days=len(origins),
        horizon_days=horizon_days,
        mae_beds=float(err.mean()),
        coverage_90=float(in90.mean()),
        coverage_50=float(np.mean(inside50)),
        mean_census=float(np.mean(census)),
        mae_by_horizon=[round(float(x), 3) for x in err.mean(axis=0)],
        coverage_90_by_horizon=[round(float(x), 3) for x in in90.mean(axis=0)],
    )
