"""The census forecast: exact algebra agrees with simulation; alerts and what-if behave as a bed manager expects."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from scipy.stats import poisson

from medspeak.los.distribution import StayDistribution
from medspeak.los.montecarlo import simulate
from medspeak.los.occupancy import (
    Electives,
    WardInputs,
    census_moments,
    day_outlooks,
    mid_quantiles,
    occupancy_pmfs,
    poisson_binomial,
)
from medspeak.los.survival import kaplan_meier
from medspeak.services.beds import WardForecast

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday morning


_SUM_ORDER_SLACK = 1e-9  # far below a bed or a percent; far above float rounding of a sum of ~100 terms


def _ward(n: int, capacity: int, electives: tuple[Electives, ...] = (), arrivals: float = 3.0) -> WardInputs:
    rng = np.random.default_rng(3)
    q = np.exp(np.log(4.0) + np.array([-1.2, 0.0, 1.2])[None, :] + rng.normal(0, 0.4, (n, 1)))
    km = kaplan_meier(rng.lognormal(np.log(4), 0.9, 500), np.ones(500, dtype=bool))
    return WardInputs(
        capacity, StayDistribution.from_quantiles(q, rng.uniform(0, 5, n)), np.full(7, arrivals), km, km, electives
    )


def _outlooks(inputs: WardInputs, horizon: int = 14) -> list:  # type: ignore[type-arg]
    moments = census_moments(NOW, horizon)
    return day_outlooks(occupancy_pmfs(inputs, NOW, moments), moments, inputs.capacity)


def test_poisson_binomial_matches_enumeration() -> None:
    p = np.array([[0.2, 0.7, 0.5]])
    exact = poisson_binomial(p)[0]
    brute = np.zeros(4)
    for bits in range(8):
        chosen = [(bits >> i) & 1 for i in range(3)]
        brute[sum(chosen)] += np.prod([p[0, i] if c else 1 - p[0, i] for i, c in enumerate(chosen)])
    assert np.allclose(exact, brute)


def test_exact_forecast_agrees_with_monte_carlo() -> None:
    inputs = _ward(60, 70, (Electives(2, 4),))
    moments = census_moments(NOW, 14)
    exact = day_outlooks(occupancy_pmfs(inputs, NOW, moments), moments, 70)
    sims = simulate(inputs, NOW, moments, scenarios=4000, seed=1)
    for day, outlook in enumerate(exact):
        assert outlook.mean == pytest.approx(sims[:, day].mean(), abs=0.35)
        assert abs(outlook.p95 - np.quantile(sims[:, day], 0.95)) <= 1.5
        assert outlook.p05 <= outlook.p25 <= outlook.p50 <= outlook.p75 <= outlook.p95


def test_tomorrow_starts_from_the_patients_in_beds_and_settles_to_arrivals() -> None:
    outlooks = _outlooks(_ward(30, 40, arrivals=0.0))
    means = [o.mean for o in outlooks]
    assert means[0] < 30 and means == sorted(means, reverse=True) and means[-1] < 0.2 * means[0]  # it empties
    steady = _outlooks(_ward(0, 40, arrivals=3.0))
    assert steady[-1].mean > steady[0].mean > 0  # arrivals accumulate towards rate x mean stay


def test_exceedance_alert_fires_only_when_capacity_is_tight() -> None:
    def forecast(capacity: int) -> WardForecast:
        days = _outlooks(_ward(20, capacity, arrivals=5.0))
        return WardForecast(
            code="GMED",
            name="General Medicine",
            capacity=capacity,
            occupied_now=20,
            days=days,
            discharges_today=0.0,
            discharges_tomorrow=0.0,
        )

    tight, roomy = forecast(20), forecast(60)
    assert tight.alert_days and tight.peak_p_exceed > 0.2
    assert not roomy.alert_days and roomy.peak_p_exceed < 0.01


def test_planned_admissions_raise_the_forecast_from_their_day_on() -> None:
    base = _outlooks(_ward(20, 30))
    more = _outlooks(_ward(20, 30, (Electives(3, 6),)))
    # census moments are the ends of days 1, 2, ...: electives arrive on day 3
    assert more[0].mean == pytest.approx(base[0].mean) and more[1].mean == pytest.approx(base[1].mean)
    assert more[2].mean - base[2].mean == pytest.approx(6 * 1.0, abs=1.0)
    # Electives only add patients, so no day's forecast drops. The two forecasts are float sums built in a
    # different order, so "equal" days differ in the last bits (-3.6e-15 seen on one CPU): allow 1e-9 beds.
    assert all(m.mean >= b.mean - _SUM_ORDER_SLACK for m, b in zip(more, base, strict=True))
    assert more[2].p_exceed >= base[2].p_exceed - _SUM_ORDER_SLACK


def test_kaplan_meier_counts_censored_stays() -> None:
    km = kaplan_meier([1, 2, 2, 3, 5], [True, True, False, True, False])
    assert km.at(np.array([0.5, 1.0, 2.0, 3.0]))[0] == 1.0
    assert km.at(np.array([1.0]))[0] == pytest.approx(0.8)
    assert km.at(np.array([2.0]))[0] == pytest.approx(0.6)
    assert km.at(np.array([3.0]))[0] == pytest.approx(0.3)


def test_whole_bed_bands_hold_their_nominal_share_of_calibrated_censuses() -> None:
    # Censuses drawn from the forecast itself: a calibrated forecast's 90 % band should hold ~90 % of
    # them. The usual quantile makes [q05, q95] hold 90 % *or more* (~93 % at a dozen beds).
    rng = np.random.default_rng(7)
    inside90, inside50, usual = [], [], []
    for mean in rng.uniform(4, 30, 3000):
        pmf = poisson.pmf(np.arange(90), mean)
        q, n = mid_quantiles(pmf), rng.poisson(mean)
        inside90.append(q[0] <= n <= q[4])
        inside50.append(q[1] <= n <= q[3])
        cdf = np.cumsum(pmf)
        usual.append(np.searchsorted(cdf, 0.05) <= n <= np.searchsorted(cdf, 0.95))
    assert 0.88 <= np.mean(inside90) <= 0.92 < np.mean(usual)
    assert 0.47 <= np.mean(inside50) <= 0.53
    assert mid_quantiles(np.array([0.02, 0.95, 0.03])) == [1, 1, 1, 1, 1]  # one likely count: every band holds it
    assert mid_quantiles(np.array([1.0])) == [0, 0, 0, 0, 0]
