"""Kaplan-Meier survival of the length of stay, for patients not yet admitted.

Arrivals have no features yet: their stays follow the ward's history. Stays still going on when the
history is read are right-censored, which Kaplan-Meier accounts for (a plain average of finished
stays would be biased short).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Survival", "kaplan_meier"]


@dataclass(frozen=True)
class Survival:
    """A step function: P(stay > t) for t in days; 1 before the first event."""

    times: NDArray[np.float64]
    surv: NDArray[np.float64]

    def at(self, days: NDArray[np.float64]) -> NDArray[np.float64]:
        """P(stay > days), elementwise (0 for negative times means 'not yet arrived' is handled by callers)."""
        days = np.asarray(days, dtype=np.float64)
        index = np.searchsorted(self.times, days, side="right") - 1
        values = np.where(index >= 0, self.surv[np.clip(index, 0, None)], 1.0)
        return np.asarray(values, dtype=np.float64)

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """Random stays (days) by inverting the step function; the tail beyond the last event is its last time."""
        u = rng.random(size)
        # smallest t with S(t) <= u; S is non-increasing
        index = np.searchsorted(-self.surv, -u, side="left")
        return np.asarray(self.times[np.clip(index, 0, len(self.times) - 1)], dtype=np.float64)


def kaplan_meier(days: Sequence[float], finished: Sequence[bool]) -> Survival:
    """Kaplan-Meier estimate from stay lengths (days) and whether each stay had ended (else censored).

    With no finished stay at all, a one-day stay is assumed so the forecast still runs on an empty ward.
    """
    t = np.asarray(days, dtype=np.float64)
    event = np.asarray(finished, dtype=bool)
    if not event.any():
        return Survival(np.array([1.0]), np.array([0.0]))
    times = np.unique(t[event])
    at_risk = np.array([(t >= x).sum() for x in times], dtype=np.float64)
    deaths = np.array([((t == x) & event).sum() for x in times], dtype=np.float64)
    surv = np.cumprod(1.0 - deaths / at_risk)
    if t.max() > times[-1]:  # the longest stays are censored: let the curve end there rather than hang at S>0
        times = np.append(times, t.max())
        surv = np.append(surv, 0.0)
    else:
        surv[-1] = 0.0
    return Survival(times, np.asarray(surv, dtype=np.float64))
