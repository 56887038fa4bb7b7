"""The distribution of occupied beds in a ward for each of the next days, computed exactly.

Beds occupied at a census moment = patients in a bed now who are still in (independent Bernoulli
variables: a Poisson-binomial) + planned elective admissions still in (more Bernoullis) + emergency
and other arrivals still in. Arrivals on each day are Poisson with the ward's weekday rate; keeping
only those still in hospital at the census thins a Poisson into a Poisson, whose mean sums
rate x P(stay longer than the time left). This is the method of UCLH's ``patientflow`` (Bernoulli
generating functions and thinned Poisson arrivals, King Z. et al.), done with numpy arrays for every
census moment at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.stats import poisson

from medspeak.los.distribution import StayDistribution
from medspeak.los.survival import Survival

__all__ = [
    "BANDS",
    "DayOutlook",
    "Electives",
    "WardInputs",
    "census_moments",
    "day_outlooks",
    "mid_quantiles",
    "occupancy_pmfs",
]

BANDS: Final = (0.05, 0.25, 0.5, 0.75, 0.95)  # the 90 % and 50 % bands and the median
_BINS_PER_DAY: Final = 24  # arrivals are spread hour by hour between now and each census
_ELECTIVE_HOUR: Final = 8  # planned admissions arrive in the morning
_POISSON_TAIL: Final = 1e-9


@dataclass(frozen=True)
class Electives:
    """``count`` planned admissions on the day ``day_offset`` days from today (1 = tomorrow)."""

    day_offset: int
    count: int


@dataclass(frozen=True)
class WardInputs:
    """What a ward's forecast needs.

    Attributes:
        capacity: beds.
        current: stay distributions of the patients in a bed now.
        weekday_arrivals: expected admissions per day, Monday first (7 values).
        arrival_stay: survival of an arrival's stay (days).
        elective_stay: survival of a planned admission's stay (days).
        electives: extra planned admissions (what-if).
    """

    capacity: int
    current: StayDistribution
    weekday_arrivals: NDArray[np.float64]
    arrival_stay: Survival
    elective_stay: Survival
    electives: tuple[Electives, ...] = ()


@dataclass(frozen=True)
class DayOutlook:
    """Occupied beds at one census moment: mean, bands, and P(more patients than beds)."""

    day: date
    mean: float
    p05: int
    p25: int
    p50: int
    p75: int
    p95: int
    p_exceed: float


def census_moments(now: datetime, horizon_days: int) -> list[datetime]:
    """The midnight census at the end of each of the next ``horizon_days`` days (tomorrow first)."""
    midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    return [midnight + timedelta(days=d + 1, hours=24) - timedelta(seconds=1) for d in range(horizon_days)]


def _arrival_means(inputs: WardInputs, now: datetime, moments: list[datetime]) -> NDArray[np.float64]:
    """Expected arrivals between now and each census moment that are still in at that moment."""
    end = moments[-1]
    n_bins = int(np.ceil((end - now).total_seconds() / 3600 * _BINS_PER_DAY / 24))
    starts = [now + timedelta(hours=24 / _BINS_PER_DAY * i) for i in range(n_bins)]
    mids = np.array([(s - now).total_seconds() / 86400 + 0.5 / _BINS_PER_DAY for s in starts])
    rates = np.array([inputs.weekday_arrivals[s.weekday()] / _BINS_PER_DAY for s in starts])
    ahead = np.array([(m - now).total_seconds() / 86400 for m in moments])
    left = ahead[:, None] - mids[None, :]  # days between each arrival bin and each census
    kept = np.where(left > 0, inputs.arrival_stay.at(np.maximum(left, 0.0)), 0.0)
    return np.asarray(kept @ rates, dtype=np.float64)


def _elective_probs(inputs: WardInputs, now: datetime, moments: list[datetime]) -> NDArray[np.float64]:
    """P(each planned admission is in a bed at each census); shape (moments, electives)."""
    arrivals = [
        datetime.combine(now.date() + timedelta(days=e.day_offset), time(_ELECTIVE_HOUR), tzinfo=now.tzinfo)
        for e in inputs.electives
        for _ in range(e.count)
    ]
    if not arrivals:
        return np.zeros((len(moments), 0))
    left = np.array([[(m - a).total_seconds() / 86400 for a in arrivals] for m in moments])
    return np.where(left > 0, inputs.elective_stay.at(np.maximum(left, 0.0)), 0.0)


def poisson_binomial(probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exact distribution of sums of independent Bernoullis, one row of ``probs`` (moments, n) at a time."""
    moments, n = probs.shape
    pmf = np.zeros((moments, n + 1))
    pmf[:, 0] = 1.0
    for j in range(n):  # multiply the generating function by (1 - p + p z)
        p = probs[:, j : j + 1]
        pmf[:, 1 : j + 2] = pmf[:, 1 : j + 2] * (1 - p) + pmf[:, : j + 1] * p
        pmf[:, 0:1] *= 1 - p
    return pmf


def occupancy_pmfs(inputs: WardInputs, now: datetime, moments: list[datetime]) -> list[NDArray[np.float64]]:
    """P(occupied beds = k) for k = 0, 1, ... at each census moment."""
    ahead = np.array([(m - now).total_seconds() / 86400 for m in moments])
    stay = inputs.current.still_in(ahead) if len(inputs.current.mu) else np.zeros((len(moments), 0))
    bernoulli = np.hstack([stay, _elective_probs(inputs, now, moments)])
    base = poisson_binomial(bernoulli)
    means = _arrival_means(inputs, now, moments)
    out = []
    for i, mean in enumerate(means):
        top = int(poisson.isf(_POISSON_TAIL, mean)) + 1 if mean > 0 else 0
        arrivals = poisson.pmf(np.arange(top + 1), mean)
        pmf = np.convolve(base[i], arrivals)
        out.append(pmf / pmf.sum())
    return out


def mid_quantiles(pmf: NDArray[np.float64], probs: tuple[float, ...] = BANDS) -> list[int]:
    """Quantiles of a count by its mid-distribution function F(k - 1) + P(k) / 2 (Parzen, 2004).

    A band of whole beds cannot hold exactly 90 %. The usual quantile (smallest k with F(k) >= p)
    makes [q05, q95] hold 90 % *or more*, up to 90 % plus the mass of both end beds: with ~14
    occupied beds that is ~93-95 %, and a back-test then finds the band too wide. With the
    mid-distribution function the end beds count half in, half out, so the band holds 90 % on
    average: a census falls inside [q05, q95] when its mid-PIT F(n - 1) + P(n) / 2 lies within
    [0.05, 0.95], the mid-point form of the randomised PIT that checks forecasts of counts
    (Czado, Gneiting & Held, 2009). Lower quantiles take the lowest count reaching p, upper ones
    the highest count not passing p, so that both ends of a band are treated alike; the median is
    the usual one, and every band contains it. ``probs`` must be increasing.
    """
    cdf = np.cumsum(pmf)
    mid = cdf - pmf / 2
    last = len(pmf) - 1
    median = min(int(np.searchsorted(cdf, 0.5 - 1e-12)), last)
    out: list[int] = []
    for p in probs:
        if p < 0.5:  # the lowest count whose mid-probability reaches p, never above the median
            out.append(min(int(np.searchsorted(mid, p - 1e-12, side="left")), median))
        elif p > 0.5:  # the highest count whose mid-probability does not pass p, never below the median
            out.append(max(int(np.searchsorted(mid, p + 1e-12, side="right")) - 1, median))
        else:
            out.append(median)
    return out


def day_outlooks(pmfs: list[NDArray[np.float64]], moments: list[datetime], capacity: int) -> list[DayOutlook]:
    """Mean, 50 % and 90 % bands (mid-distribution quantiles) and P(occupied > capacity) per census moment."""
    out = []
    for pmf, moment in zip(pmfs, moments, strict=True):
        q = mid_quantiles(pmf)
        out.append(
            DayOutlook(
                day=moment.date(),
                mean=float(np.arange(len(pmf)) @ pmf),
                p05=q[0],
                p25=q[1],
                p50=q[2],
                p75=q[3],
                p95=q[4],
                p_exceed=float(pmf[capacity + 1 :].sum()),
            )
        )
    return out
