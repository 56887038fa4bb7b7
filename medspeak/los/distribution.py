"""A patient's length of stay as a distribution, conditional on the time already spent.

The model gives three percentiles of the total stay; a log-normal through them (median = P50, spread
from P10-P90) gives the whole curve. A patient still in after ``elapsed`` days has stay
L given L > elapsed: the survival curve is divided by S(elapsed), so the remaining stay is never
negative and grows with what the patient has already survived in hospital.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

__all__ = ["StayDistribution"]

_Z90: Final = float(ndtri(0.9))  # 1.2816: P10 and P90 lie this many sigmas from the median
_MIN_SIGMA: Final = 0.05
_TINY: Final = 1e-12


@dataclass(frozen=True)
class StayDistribution:
    """Log-normal total stay (days) of one or many patients, each conditioned on its elapsed days.

    Attributes:
        mu: ln of the median total stay, per patient.
        sigma: spread of ln(stay), per patient.
        elapsed: days already spent, per patient (0 at admission).
    """

    mu: NDArray[np.float64]
    sigma: NDArray[np.float64]
    elapsed: NDArray[np.float64]

    @classmethod
    def from_quantiles(cls, quantiles: NDArray[np.float64], elapsed: NDArray[np.float64]) -> StayDistribution:
        """From (n, 3) P10, P50, P90 of the total stay in days, and the days already spent."""
        logq = np.log(np.maximum(quantiles, _TINY))
        sigma = np.maximum((logq[:, 2] - logq[:, 0]) / (2 * _Z90), _MIN_SIGMA)
        return cls(logq[:, 1], sigma, np.asarray(elapsed, dtype=np.float64))

    def _surv(self, days: NDArray[np.float64]) -> NDArray[np.float64]:
        """Unconditional P(total stay > days); ``days`` broadcasts against the patients (last axis)."""
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(days, _TINY)) - self.mu) / self.sigma
        return np.asarray(ndtr(-z), dtype=np.float64)

    def still_in(self, ahead_days: NDArray[np.float64]) -> NDArray[np.float64]:
        """P(still in a bed ``ahead_days`` from now | in now); shape (len(ahead_days), patients)."""
        ahead = np.asarray(ahead_days, dtype=np.float64)[:, None]
        now = np.maximum(self._surv(self.elapsed), _TINY)
        return np.clip(self._surv(self.elapsed + ahead) / now, 0.0, 1.0)

    def remaining_quantiles(self, probs: tuple[float, ...] = (0.1, 0.5, 0.9)) -> NDArray[np.float64]:
        """Remaining days at each probability, given the stay so far; shape (patients, len(probs))."""
        s_now = self._surv(self.elapsed)
        # P(L <= t | L > e) = p  <=>  S(t) = (1 - p) S(e)
        target = np.clip((1 - np.asarray(probs))[None, :] * s_now[:, None], _TINY, 1 - _TINY)
        total = np.exp(self.mu[:, None] + self.sigma[:, None] * ndtri(1 - target))
        return np.asarray(np.maximum(total - self.elapsed[:, None], 0.0), dtype=np.float64)
