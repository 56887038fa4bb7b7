"""The typed record: what one document says about a patient, each fact with its evidence.

Assertion values follow ConText (Harkema et al., J Biomed Inform 2009): a problem may be stated as
present, absent (negated), possible (uncertain), historical, of a family member, or hypothetical.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Allergy",
    "Assertion",
    "DateKind",
    "Demographics",
    "Encounter",
    "Evidence",
    "Fact",
    "Finding",
    "FollowUp",
    "Grounding",
    "Lab",
    "Medication",
    "MedicationStatus",
    "Order",
    "Problem",
    "Procedure",
    "Sex",
    "Vital",
]


class Assertion(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    POSSIBLE = "possible"
    HISTORICAL = "historical"
    FAMILY = "family"
    HYPOTHETICAL = "hypothetical"


class Grounding(StrEnum):
    """How the evidence was aligned to the source: verbatim, approximately, or not at all."""

    EXACT = "exact"
    FUZZY = "fuzzy"
    NONE = "none"


class MedicationStatus(StrEnum):
    ACTIVE = "active"
    STARTED = "started"
    STOPPED = "stopped"
    CHANGED = "changed"


class Evidence(BaseModel):
    """Where a fact stands in the document: ``text == document_text[start:end]`` once grounded.

    ``page`` counts from 1; ``bbox`` is (x0, y0, x1, y1) in page fractions (origin top-left), the
    union of the boxes of the words under the span, when ingestion gave words with boxes.
    """

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None


class _FactBase(BaseModel):
    """Fields every fact shares: its evidence and how far to trust it."""

    label: str  # short human-readable statement, e.g. "Metoprolol 25 mg"
    evidence: Evidence | None = None
    extractor: str = "rules"
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    grounding: Grounding = Grounding.NONE
    assertion: Assertion = Assertion.PRESENT
    # Reasons a reviewer should look twice (``assertion_disagrees:rules=absent``...); stored in the payload
    flags: list[str] = Field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The category-specific fields (and review ``flags``), as stored in the ``facts.value`` JSON column."""
        skip = {"label", "evidence", "extractor", "confidence", "grounding", "assertion", "category"}
        return self.model_dump(mode="json", exclude=skip)


class Problem(_FactBase):
    """A problem, diagnosis or symptom; ``assertion`` says whether the patient has it."""

    category: Literal["problem"] = "problem"
    text: str
    section: str | None = None  # canonical section name it was found in


class Finding(_FactBase):
    """An examination or test finding ("crépitants aux bases", negated: "No JVD"), kept apart from the
    problem list a clinician reads; ``assertion`` says whether it was found."""

    category: Literal["finding"] = "finding"
    text: str
    section: str | None = None  # canonical section name it was found in (exam)


class Medication(_FactBase):
    """A medication mention: ``Metoprolol 25 mg PO twice daily``.

    ``strength`` is the amount per unit form as written ("25 mg"); ``dose`` the number of forms per
    administration ("2 tablets"); ``frequency`` a normalised code (BID, Q6H...) with the text kept in
    the evidence; ``normalized_name`` the lower-case generic (ingredient) name when known.
    """

    category: Literal["medication"] = "medication"
    name: str
    normalized_name: str
    strength: str | None = None
    dose: str | None = None
    unit: str | None = None
    route: str | None = None
    frequency: str | None = None
    duration: str | None = None
    as_needed: bool = False
    status: MedicationStatus = MedicationStatus.ACTIVE
    # Where the document lists it: discharge | current | admission | inpatient (given in hospital only);
    # None when the document does not say (a prescription, a letter's prose).
    setting: str | None = None


class Vital(_FactBase):
    """A vital sign: ``type`` among systolic_bp, diastolic_bp, heart_rate, respiratory_rate,
    temperature, spo2, weight, height, pain; ``unit`` in UCUM where one applies (mm[Hg], /min, Cel, %, kg).
    """

    category: Literal["vital"] = "vital"
    type: str
    value: float
    unit: str | None = None


class Lab(_FactBase):
    """A laboratory result with its unit, abnormal flag (H/L) and reference range as written."""

    category: Literal["lab"] = "lab"
    name: str
    value: float
    unit: str | None = None
    flag: str | None = None
    reference_range: str | None = None


class Allergy(_FactBase):
    """An allergy (substance, reaction) or, with ``nkda``, the statement of no known allergy."""

    category: Literal["allergy"] = "allergy"
    substance: str | None = None
    reaction: str | None = None
    nkda: bool = False


class Order(_FactBase):
    """Something requested: a lab test, an imaging examination, a consult or a medication."""

    category: Literal["order"] = "order"
    kind: Literal["lab", "imaging", "consult", "medication", "other"]
    text: str


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class DateKind(StrEnum):
    ADMISSION = "admission"
    DISCHARGE = "discharge"
    VISIT = "visit"


class Demographics(_FactBase):
    """Who the document says the patient is: ``age`` in whole years, ``sex``, the birth date as written.

    One fact per mention ("60 year-old ... female", "Patiente de 72 ans", a header's date of birth);
    the merged record compares them with the patient on file to catch a document filed to the wrong
    patient. ``birth_date`` is the written date parsed when unambiguous.
    """

    category: Literal["demographics"] = "demographics"
    age: int | None = Field(default=None, ge=0, le=130)
    sex: Sex | None = None
    birth_date_text: str | None = None
    birth_date: date | None = None

    @model_validator(mode="after")
    def _states_something(self) -> Demographics:
        if self.age is None and self.sex is None and not self.birth_date_text:
            raise ValueError("a demographics fact states an age, a sex or a date of birth")
        return self


class Encounter(_FactBase):
    """What a document says about the visit: one of its dates, its department or its chief complaint.

    One fact per statement, merged per document into the record's encounter: ``date_text`` as
    written ("22/10/2026 13:04") with ``parsed_date`` when unambiguous; ``department`` the ward or
    service ("Cardiology", "Chirurgie"); ``chief_complaint`` the reason for the visit in the patient's
    words. Symptoms of the chief-complaint section are the encounter's reason, not problem-list
    entries (a symptom also written elsewhere is a problem from that other mention).
    """

    category: Literal["encounter"] = "encounter"
    chief_complaint: str | None = None
    department: str | None = None
    date_kind: DateKind | None = None
    date_text: str | None = None
    parsed_date: date | None = None

    @model_validator(mode="after")
    def _states_something(self) -> Encounter:
        if not (self.chief_complaint or self.department or self.date_text):
            raise ValueError("an encounter fact states a chief complaint, a department or a date")
        if self.date_text and self.date_kind is None:
            raise ValueError("an encounter date says whether it is the admission, discharge or visit date")
        return self


class Procedure(_FactBase):
    """A procedure: done (``present``), in the past (``historical``: "s/p appendectomy"), planned
    (``hypothetical``) or not done (``absent``)."""

    category: Literal["procedure"] = "procedure"
    text: str
    section: str | None = None


class FollowUp(_FactBase):
    """A follow-up instruction: with whom (a clinic, a specialty, the family physician) and when.

    ``text`` is the instruction as written ("Follow up with cardiology in 2 weeks"); ``with_whom``
    and ``interval`` its parts when written ("cardiology", "2 weeks"; "1 mois").
    """

    category: Literal["follow_up"] = "follow_up"
    text: str
    with_whom: str | None = None
    interval: str | None = None


Fact = Annotated[
    Problem | Finding | Medication | Vital | Lab | Allergy | Order | Demographics | Encounter | Procedure | FollowUp,
    Field(discriminator="category"),
]
