"""Merge the facts of all a patient's documents into one record, every line with its sources.

Reconciliation follows the order of the documents: the newest statement about a medication or a
problem decides its status ("stopped" in last week's letter beats "active" in last year's), and
every mention stays listed as a source, so a clinician can check what the line rests on.

Only grounded facts (``exact`` or ``fuzzy``) that no clinician rejected enter the record; the
caller applies corrections first (``RecordFact.value`` and ``assertion`` are the reviewed ones).
Assertions follow ConText: an absent problem is listed as refuted, never as a problem; family
mentions go to the family history; hypothetical ones are left out.

Each document's encounter facts (dates, department, chief complaint) make one encounter line; its
procedures and follow-up instructions are listed with their sources. Demographics stated by a document
are compared with the patient on file: a different sex, a different date of birth or an age that does
not fit the birth date at the document's date (± 1 year) raises an identity warning, since the
document may belong to another patient.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from medspeak.clinical.patients import age_on
from medspeak.i18n import N_, Said
from medspeak.indexing import coding
from medspeak.indexing.rules.lexicon import drug_names
from medspeak.indexing.rules.medications import normalize_strength

__all__ = [
    "AGE_TOLERANCE_YEARS",
    "AllergyLine",
    "DemographicsLine",
    "EncounterLine",
    "FollowUpLine",
    "IdentityWarning",
    "MedicationLine",
    "PatientIdentity",
    "PatientRecord",
    "ProblemLine",
    "ProcedureLine",
    "RecordFact",
    "Source",
    "TimelinePoint",
    "age_on",
    "ingredient_key",
    "merge_facts",
]

AGE_TOLERANCE_YEARS = 1  # a stated age may lag a birthday, or be counted at admission rather than discharge

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
    atc: str | None = None  # WHO ATC code, where the drug terminology gives one
    # discharge | current | admission | inpatient (given in hospital only) | None (not stated)
    setting: str | None = None
    regimen: int = 0  # 0 for a drug taken one way; 1, 2... for each regimen the newest document lists

    @property
    def key(self) -> str:
        """Identifies the line in a record: the ingredient, and the regimen when there are several."""
        return self.ingredient if not self.regimen else f"{self.ingredient}#{self.regimen}"

    @property
    def inpatient_only(self) -> bool:
        return self.setting == "inpatient"


@dataclass(frozen=True)
class ProblemLine:
    """A problem with the newest statement about it: ``verification`` is confirmed, provisional or refuted."""

    text: str
    verification: str
    historical: bool
    last_seen: datetime
    sources: list[Source]
    code: tuple[str, str] | None = None  # (system, code): ICD-10 (CIM-10) or ICD-10-CM, only when confident


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


@dataclass(frozen=True)
class EncounterLine:
    """One document's account of its visit: dates as written (parsed where unambiguous), department,
    chief complaint(s), and the facts they were read from."""

    document_id: int
    document_name: str
    admission: str | None
    discharge: str | None
    visit: str | None
    start: date | None  # admission, else visit date, parsed
    end: date | None  # discharge date, parsed
    department: str | None
    chief_complaints: list[str]
    sources: list[Source]
    statements: list[tuple[str, Source]] = field(default_factory=list)  # (what it says, its source) each


@dataclass(frozen=True)
class ProcedureLine:
    """A procedure with the newest statement about it: ``status`` completed, planned or not-done."""

    text: str
    status: str
    historical: bool
    last_seen: datetime
    sources: list[Source]


@dataclass(frozen=True)
class FollowUpLine:
    """A follow-up instruction of one document: with whom and when, as written."""

    text: str
    with_whom: str | None
    interval: str | None
    date: datetime  # the document's date, from which the interval counts
    sources: list[Source]


@dataclass(frozen=True)
class DemographicsLine:
    """What one mention says about who the patient is."""

    age: int | None
    sex: str | None
    birth_date: date | None
    birth_date_text: str | None
    source: Source


@dataclass(frozen=True)
class PatientIdentity:
    """The patient on file, against whom documents' demographics are checked."""

    sex: str  # female | male | unknown
    birth_date: date


@dataclass(frozen=True)
class IdentityWarning:
    """A document's demographics contradict the patient on file: it may belong to another patient."""

    document_id: int
    document_name: str
    message: str
    source: Source
    confirmed_by: str | None = None  # "who, when": a clinician confirmed the document is this patient's


@dataclass
class PatientRecord:
    """The merged record; ``left_out`` counts facts kept out and why (ungrounded, rejected)."""

    medications: list[MedicationLine] = field(default_factory=list)
    problems: list[ProblemLine] = field(default_factory=list)
    refuted: list[ProblemLine] = field(default_factory=list)
    family_history: list[ProblemLine] = field(default_factory=list)
    findings: list[ProblemLine] = field(default_factory=list)  # examination findings, found or denied
    allergies: list[AllergyLine] = field(default_factory=list)
    nkda: list[Source] = field(default_factory=list)  # statements of no known drug allergy
    timeline: list[TimelinePoint] = field(default_factory=list)
    encounters: list[EncounterLine] = field(default_factory=list)
    procedures: list[ProcedureLine] = field(default_factory=list)
    follow_ups: list[FollowUpLine] = field(default_factory=list)
    demographics: list[DemographicsLine] = field(default_factory=list)
    identity_warnings: list[IdentityWarning] = field(default_factory=list)
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


def merge_facts(facts: Iterable[RecordFact], patient: PatientIdentity | None = None) -> PatientRecord:
    """The patient's record from the facts of all their documents (any order).

    With ``patient``, each document's demographics are checked against the patient on file
    (``PatientRecord.identity_warnings``).
    """
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
    exam = PatientRecord()  # findings merge like problems, and are listed apart from them
    _problems(by_category["finding"], exam)
    record.findings = sorted(exam.problems + exam.refuted, key=lambda p: p.text.lower())
    _allergies(by_category["allergy"], record)
    record.timeline = [p for f in by_category["vital"] + by_category["lab"] if (p := _point(f)) is not None]
    record.timeline.sort(key=lambda p: (p.date, p.kind, p.name))
    record.encounters = _encounters(by_category["encounter"])
    record.procedures = _procedures(by_category["procedure"])
    record.follow_ups = _follow_ups(by_category["follow_up"])
    record.demographics = [
        _demographics(f) for f in by_category["demographics"] if f.assertion in ("present", "historical")
    ]
    if patient is not None:
        record.identity_warnings = _identity_warnings(record.demographics, record.encounters, patient)
    record.left_out = dict(left_out)
    return record


def _parsed(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _encounters(facts: list[RecordFact]) -> list[EncounterLine]:
    by_document: dict[int, list[RecordFact]] = defaultdict(list)
    for fact in facts:
        if fact.assertion in ("present", "historical"):
            by_document[fact.source.document_id].append(fact)
    lines = []
    for group in by_document.values():
        written: dict[str, str] = {}
        parsed: dict[str, date] = {}
        for fact in group:
            kind, text = _str(fact.value.get("date_kind")), _str(fact.value.get("date_text"))
            if kind and text and kind not in written:
                written[kind] = text
                if (day := _parsed(fact.value.get("parsed_date"))) is not None:
                    parsed[kind] = day
        departments = [d for f in group if (d := _str(f.value.get("department")))]
        complaints = list(dict.fromkeys(c for f in group if (c := _str(f.value.get("chief_complaint")))))
        lines.append(
            EncounterLine(
                document_id=group[0].source.document_id,
                document_name=group[0].source.document_name,
                admission=written.get("admission"),
                discharge=written.get("discharge"),
                visit=written.get("visit"),
                start=parsed.get("admission") or parsed.get("visit"),
                end=parsed.get("discharge"),
                department=departments[0] if departments else None,
                chief_complaints=complaints,
                sources=[f.source for f in group],
                statements=[(f.label, f.source) for f in group],
            )
        )
    return sorted(lines, key=lambda e: (e.start or e.sources[0].date.date(), e.document_id), reverse=True)


_PROCEDURE_STATUS = {"absent": "not-done", "hypothetical": "planned", "possible": "planned"}


def _procedures(facts: list[RecordFact]) -> list[ProcedureLine]:
    groups: dict[str, list[RecordFact]] = defaultdict(list)
    for fact in facts:
        if fact.assertion != "family":
            groups[" ".join(str(fact.value.get("text") or fact.label).lower().split())].append(fact)
    lines = []
    for group in groups.values():
        newest = _latest_day(group)
        statuses = {_PROCEDURE_STATUS.get(f.assertion, "completed") for f in newest}
        status = "completed" if "completed" in statuses else "planned" if "planned" in statuses else "not-done"
        lines.append(
            ProcedureLine(
                text=str(group[-1].value.get("text") or group[-1].label),
                status=status,
                historical={f.assertion for f in group} == {"historical"},
                last_seen=group[-1].source.date,
                sources=[f.source for f in group],
            )
        )
    return sorted(lines, key=lambda p: (-p.last_seen.timestamp(), p.text.lower()))


def _follow_ups(facts: list[RecordFact]) -> list[FollowUpLine]:
    groups: dict[tuple[int, str], list[RecordFact]] = defaultdict(list)
    for fact in facts:
        if fact.assertion in ("present", "hypothetical"):  # "if symptoms persist, see..." is still advice given
            text = " ".join(str(fact.value.get("text") or fact.label).lower().split())
            groups[(fact.source.document_id, text)].append(fact)
    lines = [
        FollowUpLine(
            text=str(g[-1].value.get("text") or g[-1].label),
            with_whom=_str(g[-1].value.get("with_whom")),
            interval=_str(g[-1].value.get("interval")),
            date=g[-1].source.date,
            sources=[f.source for f in g],
        )
        for g in groups.values()
    ]
    return sorted(lines, key=lambda f: (-f.date.timestamp(), f.sources[0].evidence_start or 0))


def _demographics(fact: RecordFact) -> DemographicsLine:
    age = fact.value.get("age")
    return DemographicsLine(
        age=int(age) if isinstance(age, int | float | str) and str(age).isdigit() else None,
        sex=_str(fact.value.get("sex")),
        birth_date=_parsed(fact.value.get("birth_date")),
        birth_date_text=_str(fact.value.get("birth_date_text")),
        source=fact.source,
    )


# A document that may be another patient's: its name, why (the reasons joined by "; ") and its words.
_ANOTHER_PATIENT: Final = N_(
    "{document} may belong to another patient: {reasons} (“{words}”). Check the document before relying on it."
)


def _identity_warnings(
    lines: list[DemographicsLine], encounters: list[EncounterLine], patient: PatientIdentity
) -> list[IdentityWarning]:
    """Contradictions between what documents say about the patient and the patient on file."""
    stated_day = {e.document_id: e.start or e.end for e in encounters if e.start or e.end}
    warnings = []
    for line in lines:
        source = line.source
        reasons: list[str] = []
        if line.sex and patient.sex in ("female", "male") and line.sex != patient.sex:
            reasons.append(Said(N_("it says {stated}, the patient on file is {sex}"), stated=line.sex, sex=patient.sex))
        if line.birth_date is not None and line.birth_date != patient.birth_date:
            reasons.append(
                Said(
                    N_("it gives the date of birth {stated}, the patient on file was born {born}"),
                    stated=line.birth_date_text,
                    born=patient.birth_date.isoformat(),
                )
            )
        if line.age is not None:
            day = stated_day.get(source.document_id) or source.date.date()
            expected = age_on(patient.birth_date, day)
            if abs(line.age - expected) > AGE_TOLERANCE_YEARS:
                reasons.append(
                    Said(
                        N_("it gives the age {stated}, the patient on file was {expected} on {day}"),
                        stated=line.age,
                        expected=expected,
                        day=day.isoformat(),
                    )
                )
        if reasons:
            said = reasons[0]
            for reason in reasons[1:]:
                said = Said(N_("{first}; {second}"), first=said, second=reason)
            message = Said(
                _ANOTHER_PATIENT,
                document=source.document_name,
                reasons=said,
                words=source.evidence_text,
            )
            warnings.append(IdentityWarning(source.document_id, source.document_name, message, source))
    return warnings


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
        strengths = {normalize_strength(s) for f in taking if (s := _str(f.value.get("strength")))}
        regimens = _regimens([f for f in newest if _med_status(f) != _STOPPED]) if status == "active" else {}
        if len(regimens) < 2:
            regimens = {(): taking or group}
        for number, shown_group in enumerate(regimens.values(), start=1 if len(regimens) > 1 else 0):
            shown = shown_group[-1]
            mine = group if len(regimens) == 1 else shown_group
            lines.append(
                MedicationLine(
                    ingredient=ingredient,
                    name=str(shown.value.get("name") or shown.label),
                    strength=_str(shown.value.get("strength")),
                    route=_str(shown.value.get("route")),
                    frequency=_str(shown.value.get("frequency")),
                    as_needed=bool(shown.value.get("as_needed")),
                    status=status,
                    changed=len(strengths) > 1 and len(regimens) == 1,
                    last_seen=group[-1].source.date,
                    sources=[f.source for f in mine],
                    setting=_setting(newest if len(regimens) == 1 else shown_group),
                    regimen=number,
                    atc=coding.atc(str(shown.value.get("name") or shown.label), ingredient),
                )
            )
    return sorted(lines, key=lambda m: (m.status != "active", m.inpatient_only, m.ingredient, m.regimen))


def _regimens(newest: list[RecordFact]) -> dict[tuple[str | None, ...], list[RecordFact]]:
    """The distinct regimens (strength, route, frequency, as needed) the newest document lists.

    "Lamictal 100 mg daily" and "Lamictal 150 mg at bedtime" in one letter are two orders, both current;
    across documents a new strength replaces the old one (the line is marked ``changed``).
    """
    out: dict[tuple[str | None, ...], list[RecordFact]] = defaultdict(list)
    for fact in newest:
        strength = _str(fact.value.get("strength"))
        key = (
            normalize_strength(strength) if strength else None,
            _str(fact.value.get("route")),
            _str(fact.value.get("frequency")),
            "prn" if fact.value.get("as_needed") else None,
        )
        out[key].append(fact)
    return out


def _setting(mentions: list[RecordFact]) -> str | None:
    """Where the mentions list the drug: discharge beats current beats on admission; "inpatient" (given in
    hospital only) when every mention says so, since a mention that does not say may be a continuing order."""
    settings = {_str(f.value.get("setting")) for f in mentions}
    if settings == {"inpatient"}:
        return "inpatient"
    return next((s for s in ("discharge", "current", "admission") if s in settings), None)


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
        text = str(group[-1].value.get("text") or group[-1].label)
        line = ProblemLine(
            text=text,
            verification=verification,
            historical=assertions == {"historical"},
            last_seen=group[-1].source.date,
            sources=[f.source for f in group],
            code=coding.icd10(text),
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
