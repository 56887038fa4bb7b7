"""Beds, today's census and lengths of stay.

Ward sizes scale with the number of demo patients so that the census looks like a real one: about
half the patients lie in a bed now, filling the hospital to 78-92 %. From about 200 patients the
wards have their full size (ICU 8 beds, the others 16-30). Lengths of stay are log-normal with the
per-ward medians and dispersions of the MIMIC-IV demo (``medspeak.demo.calibration.LOS_DAYS``).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import timedelta
from typing import Final

from medspeak.demo.calibration import LOS_DAYS
from medspeak.demo.catalog import WARDS
from medspeak.demo.dataset import DemoWard

__all__ = ["OCCUPANCY_BAND", "current_stay", "past_stay_length", "plan_census", "plan_wards"]

OCCUPANCY_BAND: Final = (0.78, 0.92)  # hospital-wide share of beds filled now
_CENSUS_SHARE: Final = 0.5  # at most this share of the demo patients is in a bed now
_MIN_BEDS: Final = 2
_MAX_PAST_STAY: Final = timedelta(days=27)  # past stays fit in the 30-day window of the demo
_MAX_CURRENT_STAY: Final = timedelta(days=40)
_MAX_ELAPSED: Final = timedelta(days=30)


def plan_wards(n_patients: int) -> tuple[DemoWard, ...]:
    """The wards, sized for ``n_patients`` (full size from about 200 patients)."""
    full = sum(w.full_capacity for w in WARDS)
    wanted = n_patients * _CENSUS_SHARE / (sum(OCCUPANCY_BAND) / 2)
    scale = min(1.0, wanted / full)
    return tuple(DemoWard(w.code, w.name, max(_MIN_BEDS, round(w.full_capacity * scale))) for w in WARDS)


def plan_census(rng: random.Random, wards: tuple[DemoWard, ...], n_patients: int) -> dict[str, int]:
    """How many patients lie in each ward now; never more than its beds."""
    beds = [w.code for w in wards for _ in range(w.capacity)]
    target = round(len(beds) * rng.uniform(*OCCUPANCY_BAND))
    occupied = Counter(rng.sample(beds, min(target, int(n_patients * _CENSUS_SHARE))))
    return {w.code: occupied.get(w.code, 0) for w in wards}


def past_stay_length(rng: random.Random, ward: str) -> timedelta:
    """A finished stay's length, drawn from the ward's log-normal (capped to fit the demo window)."""
    median, sigma, _n = LOS_DAYS[ward]
    days = math.exp(rng.gauss(math.log(median), sigma))
    return min(timedelta(days=days), _MAX_PAST_STAY)


def current_stay(rng: random.Random, ward: str) -> tuple[timedelta, timedelta]:
    """(total length, time already spent) for a patient in a bed now.

    Patients present on a given day are length-biased: a log-normal(mu, sigma) stay seen at a random
    moment has length log-normal(mu + sigma^2, sigma), and the time spent so far is uniform on it.
    """
    median, sigma, _n = LOS_DAYS[ward]
    while True:
        length = timedelta(days=math.exp(rng.gauss(math.log(median) + sigma**2, sigma)))
        elapsed = length * rng.uniform(0.02, 0.98)
        if length <= _MAX_CURRENT_STAY and elapsed <= _MAX_ELAPSED:
            return length, elapsed
