"""Hard safety rules: danger-zone vital signs and critical presentations, from ``data/safety_rules.json``.

Applied after the model. A rule with effect ``level`` caps the level (1 most urgent):
``final = min(model, rules)``, so no rule can make a patient less urgent. A rule with effect ``alert``
leaves the level alone and raises the critical alert ("possible level 1-2"): it is kept for presentations
the experts often keep at level 3 (its measured precision is in the model card). A rule is one
threshold, several thresholds that must all hold (shock: hypotension *and* tachycardia), or a minimum
similarity to one complaint category. Every rule that fired is returned, with its source. The rules
validate themselves when loaded: a typo in the file stops the service, not a patient.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd  # no stubs in the pinned set

from medspeak.clinical.vitals import TRIAGE_VITALS
from medspeak.i18n import N_, Said
from medspeak.triage.inputs import Columns, TriageInputs, columns_of

__all__ = ["RULES_FILE", "Condition", "FiredRule", "SafetyRule", "apply_caps", "load_rules"]

RULES_FILE: Final = Path(__file__).parent / "data" / "safety_rules.json"
_OPS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


_EFFECTS: Final = ("level", "alert")
_WORDS: Final = {
    **{v.key: (v.words, v.unit) for v in TRIAGE_VITALS},
    "age": (N_("age"), N_("years")),
    "mental_status": ("AVPU", ""),
    "immunocompromised": (N_("immunocompromised"), ""),
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One threshold on one input: ``heart_rate > 100``, or ``mental_status in (pain, unresponsive)``."""

    field: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in (*_OPS, "in"):
            raise ValueError(f"unknown operator {self.op!r}")

    def matches(self, columns: Columns) -> npt.NDArray[np.bool_]:
        """Which rows meet the threshold; a missing value never does."""
        values = columns[self.field]
        if self.op == "in":  # objects: None (missing) is never among the values
            return np.asarray(np.isin(values, list(self.value)) & np.array([v is not None for v in values]), bool)
        with np.errstate(invalid="ignore"):
            hit = np.asarray(_OPS[self.op](values, float(self.value)), dtype=bool)
        return np.asarray(hit & ~np.isnan(values), dtype=bool)

    def describe(self) -> str:
        """``SpO2 < 92 %``, ``AVPU is pain or unresponsive``: an English :class:`Said` a page can translate."""
        name, unit = _WORDS.get(self.field, (self.field.replace("_", " "), ""))
        if self.op == "in":
            words = [N_("yes") if v is True else N_("no") if v is False else str(v) for v in self.value]
            values: str = words[0]
            for word in words[1:]:
                values = Said(N_("{first} or {second}"), first=values, second=word)
            return Said(N_("{name} is {values}"), name=name, values=values)
        if not unit:
            return Said(N_("{name} {op} {value:g}"), name=name, op=self.op, value=self.value)
        return Said(N_("{name} {op} {value:g} {unit}"), name=name, op=self.op, value=self.value, unit=unit)


@dataclass(frozen=True, slots=True)
class SafetyRule:
    """Thresholds that must all hold, or a minimum similarity to one complaint category."""

    id: str
    name: str
    level: int  # effect "level": the least urgent level a patient meeting the rule may get
    source: str
    conditions: tuple[Condition, ...] = ()
    complaint: str | None = None
    min_similarity: float = 0.6
    effect: str = "level"  # "level": caps the level; "alert": raises the critical alert only

    def __post_init__(self) -> None:
        if not 1 <= self.level <= 5:
            raise ValueError(f"rule {self.id}: level must be 1-5")
        if bool(self.conditions) == (self.complaint is not None):
            raise ValueError(f"rule {self.id}: give either conditions (field, op, value) or a complaint category")
        if self.effect not in _EFFECTS:
            raise ValueError(f"rule {self.id}: effect must be one of {', '.join(_EFFECTS)}")

    @classmethod
    def from_spec(cls, raw: Mapping[str, Any], source: str) -> SafetyRule:
        """A rule from its JSON: ``field``/``op``/``value`` for one threshold, or ``all`` for several."""
        spec = dict(raw)
        conditions = [spec.pop("all")] if "all" in spec else []
        if "field" in spec:
            conditions = [[{"field": spec.pop("field"), "op": spec.pop("op", None), "value": spec.pop("value", None)}]]
        try:
            parsed = tuple(Condition(**c) for group in conditions for c in group)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"rule {spec.get('id')}: {exc}") from exc
        spec.pop("precision_note", None)
        return cls(**{**spec, "source": source, "conditions": parsed})

    def matches(self, columns: Columns, similarity: Mapping[str, npt.NDArray[np.float64]]) -> npt.NDArray[np.bool_]:
        """Which rows (of one patient or a batch) meet the rule; a missing value never fires a rule (the result
        lists it as missing), and a missing complaint counts as similarity 0."""
        if self.complaint is not None:
            sims = similarity[self.complaint]
            return np.asarray(np.nan_to_num(sims, nan=0.0) >= self.min_similarity, dtype=bool)
        hit = np.ones(len(columns["age"]), dtype=bool)
        for condition in self.conditions:
            hit &= condition.matches(columns)
        return hit

    def describe(self) -> str:
        """The threshold in words, e.g. ``SpO2 < 92 %`` or ``systolic BP < 90 mmHg and heart rate > 100 /min``."""
        if self.complaint is not None:
            return Said(
                N_("complaint similar to “{complaint}” (≥ {similarity:g})"),
                complaint=self.complaint,
                similarity=self.min_similarity,
            )
        said = self.conditions[0].describe()
        for condition in self.conditions[1:]:
            said = Said(N_("{first} and {second}"), first=said, second=condition.describe())
        return said

    def fired(self) -> FiredRule:
        return FiredRule(self.id, self.name, self.level, self.describe(), self.source, self.effect)


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that fired for one patient, as stored and shown."""

    id: str
    name: str
    level: int
    threshold: str
    source: str
    effect: str = "level"  # "level": it capped the level; "alert": it raised the critical alert only


@lru_cache(maxsize=2)
def load_rules(path: Path = RULES_FILE) -> tuple[SafetyRule, ...]:
    """The rules of a rules file, with each source reference spelled out."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    sources: dict[str, str] = spec["sources"]
    rules = []
    for raw in spec["rules"]:
        if raw["source"] not in sources:
            raise ValueError(f"rule {raw['id']}: unknown source {raw['source']}")
        rules.append(SafetyRule.from_spec(raw, sources[raw["source"]]))
    return tuple(rules)


def apply_caps(
    levels: npt.ArrayLike,
    records: pd.DataFrame | Sequence[TriageInputs] | Columns,
    similarity: Mapping[str, npt.NDArray[np.float64]],
    rules: Sequence[SafetyRule],
) -> tuple[npt.NDArray[np.int_], list[list[FiredRule]]]:
    """Cap each row's level by the level rules it meets; return the final levels and every rule fired per row.

    One patient or a batch, the same code: ``records`` as a DataFrame, a list of inputs or their columns.
    """
    columns = records if isinstance(records, dict) else columns_of(records)
    final = np.asarray(levels, dtype=int).copy()
    fired: list[list[FiredRule]] = [[] for _ in range(len(final))]
    for rule in rules:
        hit = rule.matches(columns, similarity)
        if rule.effect == "level":
            final = np.where(hit, np.minimum(final, rule.level), final)
        for i in np.flatnonzero(hit):
            fired[i].append(rule.fired())
    return final, fired
