"""Merge the facts of all a patient's documents into one record, every line with its sources.

Reconciliation follows the order of the documents: the newest statement about a medication or a
problem decides its status ("stopped" in last week's letter beats "active" in last year's), and
every mention stays listed as a source, so a clinician can check what the line rests on.

Only grounded facts (``exact`` or ``fuzzy``) that no clinician rejected enter the record; the
caller applies corrections first (``RecordFact.value`` and ``assertion`` are the reviewed ones).
Assertions follow ConText: an absent problem is listed as refuted, never as a problem; family
mentions go to the family history; hypothetical ones are left out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from medspeak.indexing.rules.lexicon import drug_names
from medspeak.indexing.rules.medications import normalize_strength

__all__ = [
    "AllergyLine",
    "MedicationLine",
    "PatientRecord",
    "ProblemLine",
    "RecordFact",
    "Source",
    "TimelinePoint",
    "ingredient_key",
    "merge_facts",
]

GROUNDED = frozenset({"exact", "fuzzy"})
_STOPPED = "stopped"
_RESTARTED = frozenset({"started", "changed"})
# Salt and release-form words after the ingredient ("metoprolol tartrate", "metformin ER"): the
# first word is never dropped, so "potassium chloride" stays itself.
_SALT_WORDS = frozenset(
    "tartrate succinate hydrochloride hcl sodium potassium calcium maleate besylate mesylate sulfate sulphate "
    "citrate phosphate acetate fumarate bromide magnesium er xr xl sr cr la dr ec".split()
)
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


@dataclass(frozen=True)
class Source:
    """Where a record line comes from: one fact, its document and the words it was read from."""

    fact_id: int
    document_id: int
    document_name: str
    date: datetime  # the document's clinical date (its stay, else its upload)
    evidence_text: str
    evidence_start: int | None = None
    evidence_end: int | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    extractor: str = "rules"
    confidence: float = 1.0
    grounding: str = "exact"
    review_status: str = "proposed"  # proposed | accepted | corrected (rejected facts never get here)
    reviewer: str | None = None


@dataclass(frozen=True)
class RecordFact:
    """A stored fact as the merge reads it, after the clinician's correction if there is one."""

    source: Source
    category: str
    label: str
    assertion: str
    value: Mapping[str, Any]


@dataclass(frozen=True)
class MedicationLine:
    """One normalised ingredient: its newest status and attributes, and every mention of it."""

    ingredient: str
    name: str
    strength: str | None
    route: str | None
    frequency: str | None
    as_needed: bool
    status: str  # active | stopped
    changed: bool  # the documents give different strengths
    last_seen: datetime
    sources: list[Source]


@dataclass(frozen=True)
class ProblemLine:
    """A problem with the newest statement about it: ``verification`` is confirmed, provisional or refuted."""

    text: str
    verification: str
    historical: bool
    last_seen: datetime
    sources: list[Source]


@dataclass(frozen=True)
class AllergyLine:
    substance: str
    reactions: list[str]
    sources: list[Source]


@dataclass(frozen=True)
class TimelinePoint:
    """A vital sign or laboratory value at its document's date."""

    kind: str  # vital | lab
    name: str  # vital type (heart_rate...) or lab name
    value: float
    unit: str | None
    flag: str | None
    reference_range: str | None
    source: Source

    @property
    def date(self) -> datetime:
        return self.source.date


@dataclass
class PatientRecord:
    """The merged record; ``left_out`` counts facts kept out and why (ungrounded, rejected)."""

    medications: list[MedicationLine] = field(default_factory=list)
    problems: list[ProblemLine] = field(default_factory=list)
    refuted: list[ProblemLine] = field(default_factory=list)
    family_history: list[ProblemLine] = field(default_factory=list)
    allergies: list[AllergyLine] = field(default_factory=list)
    nkda: list[Source] = field(default_factory=list)  # statements of no known drug allergy
    timeline: list[TimelinePoint] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def active_medications(self) -> list[MedicationLine]:
        return [m for m in self.medications if m.status == "active"]

    @property
    def allergy_conflict(self) -> bool:
        """NKDA stated somewhere while an allergy is recorded elsewhere: a clinician must check."""
        return bool(self.nkda and self.allergies)


def ingredient_key(name: str, normalized_name: str | None = None) -> str:
    """The generic ingredient a medication name stands for: brand → generic, salt words dropped."""
    names = drug_names()
    base = " ".join((normalized_name or name).lower().split())
    if base in names:
        return names[base]
    words = _WORD.findall(base)
    if not words:
        return base
    kept = [words[0], *(w for w in words[1:] if w not in _SALT_WORDS)]
    joined = " ".join(kept)
    return names.get(joined, joined)


def merge_facts(facts: Iterable[RecordFact]) -> PatientRecord:
    """The patient's record from the facts of all their documents (any order)."""
    record = PatientRecord()
    left_out: dict[str, int] = defaultdict(int)
    by_category: dict[str, list[RecordFact]] = defaultdict(list)
    for fact in facts:
        if fact.source.grounding not in GROUNDED or not fact.source.evidence_text:
            left_out["ungrounded"] += 1
        elif fact.source.review_status == "rejected":
            left_out["rejected"] += 1
        else:
            by_category[fact.category].append(fact)
    for group in by_category.values():
        group.sort(key=lambda f: (f.source.date, f.source.fact_id))
    record.medications = _medications(by_category["medication"])
    _problems(by_category["problem"], record)
    _allergies(by_category["allergy"], record)
    record.timeline = [p for f in by_category["vital"] + by_category["lab"] if (p := _point(f)) is not None]
    record.timeline.sort(key=lambda p: (p.date, p.kind, p.name))
    record.left_out = dict(left_out)
    return record


def _latest_day(group: list[RecordFact]) -> list[RecordFact]:
    """The mentions from the newest document date (the group is sorted by date)."""
    last = group[-1].source.date.date()
    return [f for f in group if f.source.date.date() == last]


def _medications(facts: list[RecordFact]) -> list[MedicationLine]:
    groups: dict[str, list[RecordFact]] = defaultdict(list)
    for fact in facts:
        if fact.assertion in ("family", "hypothetical"):
            continue  # not the patient's treatment
        name = str(fact.value.get("name") or fact.label)
        groups[ingredient_key(name, _str(fact.value.get("normalized_name")))].append(fact)
    lines = []
    for ingredient, group in groups.items():
        newest = _latest_day(group)
        stopped = [f for f in newest if _med_status(f) == _STOPPED]
        restarted = [f for f in newest if _str(f.value.get("status")) in _RESTARTED]
        status = _STOPPED if stopped and not restarted else "active"
        taking = [f for f in group if _med_status(f) != _STOPPED]
        shown = (taking or group)[-1]
        strengths = {normalize_strength(s) for f in taking if (s := _str(f.value.get("strength")))}
        lines.append(
            MedicationLine(
                ingredient=ingredient,
                name=str(shown.value.get("name") or shown.label),
                strength=_str(shown.value.get("strength")),
                route=_str(shown.value.get("route")),
                frequency=_str(shown.value.get("frequency")),
                as_needed=bool(shown.value.get("as_needed")),
                status=status,
                changed=len(strengths) > 1,
                last_seen=group[-1].source.date,
                sources=[f.source for f in group],
            )
        )
    return sorted(lines, key=lambda m: (m.status != "active", m.ingredient))


def _med_status(fact: RecordFact) -> str:
    """A negated mention ("not taking aspirin") counts as stopped."""
    return _STOPPED if fact.assertion == "absent" else (_str(fact.value.get("status")) or "active")


def _problems(facts: list[RecordFact], record: PatientRecord) -> None:
    groups: dict[str, list[RecordFact]] = defaultdict(list)
    family: dict[str, list[RecordFact]] = defaultdict(list)
    for fact in facts:
        text = str(fact.value.get("text") or fact.label)
        key = " ".join(text.lower().split())
        if fact.assertion == "family":
            family[key].append(fact)
        elif fact.assertion != "hypothetical":
            groups[key].append(fact)
    for group in groups.values():
        newest = _latest_day(group)
        assertions = {f.assertion for f in newest}
        if assertions <= {"absent"}:
            verification = "refuted"
        elif assertions & {"present", "historical"}:
            verification = "confirmed"
        else:
            verification = "provisional"
        line = ProblemLine(
            text=str(group[-1].value.get("text") or group[-1].label),
            verification=verification,
            historical=assertions == {"historical"},
            last_seen=group[-1].source.date,
            sources=[f.source for f in group],
        )
        (record.refuted if verification == "refuted" else record.problems).append(line)
    for group in family.values():
        record.family_history.append(
            ProblemLine(
                str(group[-1].value.get("text") or group[-1].label),
                "confirmed",
                False,
                group[-1].source.date,
                [f.source for f in group],
            )
        )
    for lines in (record.problems, record.refuted, record.family_history):
        lines.sort(key=lambda p: p.text.lower())


def _allergies(facts: list[RecordFact], record: PatientRecord) -> None:
    groups: dict[str, list[RecordFact]] = defaultdict(list)
    for fact in facts:
        if fact.assertion != "present":
            continue  # "no allergy to latex" is not an allergy
        if fact.value.get("nkda"):
            record.nkda.append(fact.source)
        elif substance := _str(fact.value.get("substance")):
            groups[" ".join(substance.lower().split())].append(fact)
    for group in groups.values():
        reactions = list(dict.fromkeys(r for f in group if (r := _str(f.value.get("reaction")))))
        record.allergies.append(AllergyLine(str(group[-1].value["substance"]), reactions, [f.source for f in group]))
    record.allergies.sort(key=lambda a: a.substance.lower())


def _point(fact: RecordFact) -> TimelinePoint | None:
    if fact.assertion != "present":
        return None
    try:
        value = float(fact.value["value"])
    except (KeyError, TypeError, ValueError):
        return None
    name = _str(fact.value.get("type" if fact.category == "vital" else "name")) or fact.label
    return TimelinePoint(
        fact.category,
        name,
        value,
        _str(fact.value.get("unit")),
        _str(fact.value.get("flag")),
        _str(fact.value.get("reference_range")),
        fact.source,
    )


def _str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
