"""A plain Monte Carlo of the same census model: the reference the exact forecast is checked against.

Each scenario draws every patient's remaining stay, the arrivals of each hour and their stays, and
counts who is in a bed at each census. Slower and noisy, but written without any of the exact
method's algebra, so agreement between the two checks that algebra (``bench/los.py``, tests).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from medspeak.los.occupancy import WardInputs

__all__ = ["simulate"]

_HOURS_PER_DAY = 24


def _remaining(inputs: WardInputs, rng: np.random.Generator, scenarios: int) -> NDArray[np.float64]:
    cur = inputs.current
    s_now = ndtr(-(np.log(np.maximum(cur.elapsed, 1e-12)) - cur.mu) / cur.sigma)
    u = rng.random((scenarios, len(cur.mu)))
    total = np.exp(cur.mu + cur.sigma * ndtri(np.clip(1 - u * s_now, 1e-12, 1 - 1e-12)))
    return np.asarray(np.maximum(total - cur.elapsed, 0.0), dtype=np.float64)


def simulate(
    inputs: WardInputs, now: datetime, moments: list[datetime], scenarios: int, seed: int = 0
) -> NDArray[np.int64]:
    """Occupied beds at each census moment in each scenario; shape (scenarios, moments)."""
    rng = np.random.default_rng(seed)
    ahead = np.array([(m - now).total_seconds() / 86400 for m in moments])
    counts = (_remaining(inputs, rng, scenarios)[:, :, None] > ahead[None, None, :]).sum(axis=1)
    hours = int(np.ceil(ahead[-1] * _HOURS_PER_DAY))
    for h in range(hours):
        start = now + timedelta(hours=h)
        n = rng.poisson(inputs.weekday_arrivals[start.weekday()] / _HOURS_PER_DAY, scenarios)
        total = int(n.sum())
        if total == 0:
            continue
        arrival = h / _HOURS_PER_DAY + 0.5 / _HOURS_PER_DAY
        owner = np.repeat(np.arange(scenarios), n)
        leaves = arrival + inputs.arrival_stay.sample(rng, total)
        present = (arrival < ahead[None, :]) & (leaves[:, None] > ahead[None, :])
        np.add.at(counts, owner, present.astype(np.int64))
    for plan in inputs.electives:
        day = datetime.combine(now.date() + timedelta(days=plan.day_offset), time(8), tzinfo=now.tzinfo)
        arrival = (day - now).total_seconds() / 86400
        for _ in range(plan.count):
            leaves = arrival + inputs.elective_stay.sample(rng, scenarios)
            counts += ((arrival < ahead[None, :]) & (leaves[:, None] > ahead[None, :])).astype(np.int64)
    return np.asarray(counts, dtype=np.int64)
