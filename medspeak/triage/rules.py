"""Hard safety rules: danger-zone vital signs and critical presentations, from ``data/safety_rules.json``.

Applied after the model. A rule only caps the level (1 most urgent): ``final = min(model, rules)``,
so no rule can make a patient less urgent. Every rule that fired is returned, with its source.
The rules validate themselves when loaded: a typo in the file stops the service, not a patient.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd  # no stubs in the pinned set

from medspeak.triage.inputs import as_number

__all__ = ["RULES_FILE", "FiredRule", "SafetyRule", "apply_caps", "apply_caps_one", "load_rules"]

RULES_FILE: Final = Path(__file__).parent / "data" / "safety_rules.json"
_OPS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class SafetyRule:
    """A threshold on one input, or a minimum similarity to one complaint category."""

    id: str
    name: str
    level: int  # the least urgent level a patient meeting the rule may get
    source: str
    field: str | None = None
    op: str | None = None
    value: Any = None
    complaint: str | None = None
    min_similarity: float = 0.6

    def __post_init__(self) -> None:
        if not 1 <= self.level <= 5:
            raise ValueError(f"rule {self.id}: level must be 1-5")
        if (self.field is None) == (self.complaint is None):
            raise ValueError(f"rule {self.id}: give either a field or a complaint category")
        if self.field is not None and self.op not in (*_OPS, "in"):
            raise ValueError(f"rule {self.id}: unknown operator {self.op!r}")

    def matches(
        self,
        frame: pd.DataFrame,
        similarity: dict[str, npt.NDArray[np.float64]],
        numeric: dict[str, npt.NDArray[np.float64]] | None = None,
    ) -> npt.NDArray[np.bool_]:
        """Which rows meet the rule; a missing value never fires a rule (the result lists it as missing).

        ``numeric`` caches the columns already converted to floats, shared by the rules of one batch.
        """
        if self.complaint is not None:
            sims = similarity[self.complaint]
            return np.asarray(np.nan_to_num(sims, nan=0.0) >= self.min_similarity, dtype=bool)
        field = str(self.field)
        if self.op == "in":
            return np.asarray(frame[field].isin(list(self.value)).to_numpy(), dtype=bool)
        cache = {} if numeric is None else numeric
        if field not in cache:
            cache[field] = pd.to_numeric(frame[field], errors="coerce").to_numpy(dtype=float)
        values = cache[field]
        with np.errstate(invalid="ignore"):
            hit = np.asarray(_OPS[str(self.op)](values, float(self.value)), dtype=bool)
        return np.asarray(hit & ~np.isnan(values), dtype=bool)

    def matches_one(self, values: Mapping[str, Any], similarity: Mapping[str, float]) -> bool:
        """:meth:`matches` for one patient (``values``: the input fields; ``similarity``: per category)."""
        if self.complaint is not None:
            sim = similarity[self.complaint]
            return bool((0.0 if math.isnan(sim) else sim) >= self.min_similarity)  # as nan_to_num: missing is 0
        value = values.get(str(self.field))
        if self.op == "in":
            return value is not None and value in list(self.value)  # pandas' isin never matches a missing value
        number = as_number(value)
        return not math.isnan(number) and bool(_OPS[str(self.op)](number, float(self.value)))

    def describe(self) -> str:
        """The threshold in words, e.g. ``spo2 < 90``."""
        if self.complaint is not None:
            return f"complaint similar to “{self.complaint}” (≥ {self.min_similarity:g})"
        if self.op == "in":
            return f"{self.field} is {' or '.join(self.value)}"
        return f"{self.field} {self.op} {self.value:g}"


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that fired for one patient, as stored and shown."""

    id: str
    name: str
    level: int
    threshold: str
    source: str


@lru_cache(maxsize=2)
def load_rules(path: Path = RULES_FILE) -> tuple[SafetyRule, ...]:
    """The rules of a rules file, with each source reference spelled out."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    sources: dict[str, str] = spec["sources"]
    rules = []
    for raw in spec["rules"]:
        if raw["source"] not in sources:
            raise ValueError(f"rule {raw['id']}: unknown source {raw['source']}")
        rules.append(SafetyRule(**{**raw, "source": sources[raw["source"]]}))
    return tuple(rules)


def apply_caps_one(
    level: int, values: Mapping[str, Any], similarity: Mapping[str, float], rules: Sequence[SafetyRule]
) -> tuple[int, list[FiredRule]]:
    """:func:`apply_caps` for one patient: the final level and the rules fired, in the rules' order."""
    fired = [
        FiredRule(rule.id, rule.name, rule.level, rule.describe(), rule.source)
        for rule in rules
        if rule.matches_one(values, similarity)
    ]
    return min([level, *(f.level for f in fired)]), fired


def apply_caps(
    levels: npt.NDArray[np.int_],
    frame: pd.DataFrame,
    similarity: dict[str, npt.NDArray[np.float64]],
    rules: Sequence[SafetyRule],
) -> tuple[npt.NDArray[np.int_], list[list[FiredRule]]]:
    """Cap each row's level by the rules it meets; return the final levels and the rules fired per row."""
    final = np.asarray(levels, dtype=int).copy()
    fired: list[list[FiredRule]] = [[] for _ in range(len(final))]
    numeric: dict[str, npt.NDArray[np.float64]] = {}
    for rule in rules:
        hit = rule.matches(frame, similarity, numeric)
        final = np.where(hit, np.minimum(final, rule.level), final)
        for i in np.flatnonzero(hit):
            fired[i].append(FiredRule(rule.id, rule.name, rule.level, rule.describe(), rule.source))
    return final, fired
