"""Medication mentions: a drug name (lexicon, or an item of a medication section) and its attributes.

``Metoprolol 25 mg PO twice daily - for 5 days``: strength (amount and unit), route, frequency
(normalised code: BID, Q6H...), as-needed, duration, dose (forms per administration) and status
("stopped", "started", "increased" on the same line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from medspeak.indexing.rules.lexicon import LANGUAGES, drug_names, load, phrase_pattern
from medspeak.indexing.rules.sections import Section, section_at
from medspeak.indexing.schema import Evidence, Medication, MedicationStatus

__all__ = ["Attributes", "find_medications", "normalize_strength", "parse_attributes", "parse_components"]

_NUMBER = r"\d+(?:[.,]\d+)?"
_UNIT = r"(?:mg|mcg|µg|ug|g|ml|l|units?|unités?|ui|iu|meq|mmol|unt|actuat|%)(?:/(?:ml|l|actuat|hr|h|kg|dose))?"
STRENGTH = re.compile(rf"(?P<num>{_NUMBER})\s*(?P<unit>{_UNIT})(?![\w])", re.IGNORECASE)
# "amoxicillin 250 mg / clavulanate 125 mg": a run of words, then its strength
_COMPONENT = re.compile(
    rf"(?:\s*/\s*)?(?P<name>[^\W\d_][\w\-', ]*?)\s+(?P<strength>{_NUMBER}\s*{_UNIT})(?![\w])", re.IGNORECASE
)
# Packaging before the name in RxNorm-style lists: "NDA020503 200 ACTUAT ...", "1 ML ..."
_PACKAGING = re.compile(rf"\s*(?:nda\d+\s+)?(?:{_NUMBER}\s*(?:ml|actuat|hr)\s+)?", re.IGNORECASE)
_JOINER = re.compile(r"\s*/")
_ITEM_SPLIT = re.compile(r"[\n;]")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])?\s*")
_ALLERGY_CUE = re.compile(r"allerg", re.IGNORECASE)
_MAX_TAIL = 120  # characters after the strength where route/frequency are looked for
_MAX_NAME_WORDS = 4  # "insulin isophane, human" is a name; a longer run of words before a strength is prose
_MAX_GAP = 30  # characters between a drug name and its strength ("Metoprolol tartrate 25 mg")


@dataclass(frozen=True)
class _Patterns:
    routes: dict[str, str]
    route: re.Pattern[str]
    frequencies: dict[str, str]
    frequency: re.Pattern[str]
    intervals: tuple[re.Pattern[str], ...]
    as_needed: re.Pattern[str]
    durations: tuple[re.Pattern[str], ...]
    dose: re.Pattern[str]
    statuses: dict[str, str]
    status: re.Pattern[str]
    drug: re.Pattern[str]


@cache
def _patterns() -> _Patterns:
    """Route, frequency and status phrases of every language: notes mix them ("Paracétamol 1 g PO")."""
    routes, frequencies, statuses = {}, {}, {}
    as_needed: list[str] = []
    forms: list[str] = []
    for language in LANGUAGES:
        data = load(language, "medication_patterns")
        routes.update({p: code for code, ps in data["routes"].items() for p in ps})
        frequencies.update({p: code for code, ps in data["frequencies"].items() for p in ps})
        statuses.update({p: code for code, ps in data["status"].items() for p in ps})
        as_needed += data["as_needed"]
        forms += data["forms"]
    datas = [load(language, "medication_patterns") for language in LANGUAGES]
    return _Patterns(
        routes=routes,
        route=phrase_pattern(list(routes)),
        frequencies=frequencies,
        frequency=phrase_pattern(list(frequencies)),
        intervals=tuple(re.compile(d["interval"], re.IGNORECASE) for d in datas),
        as_needed=phrase_pattern(as_needed),
        durations=tuple(re.compile(d["duration"], re.IGNORECASE) for d in datas),
        dose=re.compile(
            rf"(?P<n>{_NUMBER})\s*(?:{'|'.join(re.escape(f) for f in sorted(forms, key=len, reverse=True))})\b", re.I
        ),
        statuses=statuses,
        status=phrase_pattern(list(statuses)),
        drug=phrase_pattern(list(drug_names())),
    )


def normalize_strength(text: str) -> str:
    """``"25 MG"`` → ``"25 mg"``, ``"0,5 mg"`` → ``"0.5 mg"``, ``"1.0 g"`` → ``"1 g"``; µg written mcg."""
    match = STRENGTH.fullmatch(text.strip())
    if not match:
        return text.strip().lower()
    number = float(match.group("num").replace(",", "."))
    unit = match.group("unit").lower().replace("µg", "mcg").replace("ug", "mcg").replace("unités", "units")
    return f"{number:g} {unit}"


def parse_components(text: str) -> list[tuple[str, str]]:
    """(ingredient, strength) pairs of a medication description, lower case.

    ``"amoxicillin 250 MG / clavulanate 125 MG Oral Tablet"`` → ``[("amoxicillin", "250 mg"),
    ("clavulanate", "125 mg")]``; packaging before the name (``"1 ML"``) is dropped.
    """
    packaging = _PACKAGING.match(text)
    body = text[packaging.end() :] if packaging else text
    return [
        (" ".join(m.group("name").lower().split()), normalize_strength(m.group("strength")))
        for m in _COMPONENT.finditer(body)
    ]


def find_medications(text: str, sections: list[Section]) -> list[Medication]:
    """Medication facts of ``text``: items of medication sections, then lexicon names elsewhere."""
    facts = [m for s in sections if s.name == "medications" for m in _section_items(text, s)]
    taken = [(f.evidence.start, f.evidence.end) for f in facts if f.evidence]
    patterns = _patterns()
    for hit in patterns.drug.finditer(text):
        if any(a <= hit.start() < b for a, b in taken):
            continue
        section = section_at(sections, hit.start())
        line_start = text.rfind("\n", 0, hit.start()) + 1
        if (section and section.name == "allergies") or _ALLERGY_CUE.search(text, line_start, hit.start()):
            continue  # "allergic to penicillin" names a substance, not a medication taken
        fact = _from_name(text, hit.start(), hit.end(), in_list=bool(section and section.name == "medications"))
        if fact and fact.evidence:
            facts.append(fact)
            taken.append((fact.evidence.start, fact.evidence.end))
    return sorted(facts, key=lambda f: f.evidence.start if f.evidence else 0)


def _section_items(text: str, section: Section) -> list[Medication]:
    facts = []
    position = section.body_start
    for raw in _ITEM_SPLIT.split(text[section.body_start : section.end]):
        start, end = position, position + len(raw)
        position = end + 1
        start += len(_BULLET.match(raw).group(0))  # type: ignore[union-attr]  # the pattern always matches
        start += len(_PACKAGING.match(text, start).group(0))  # type: ignore[union-attr]
        first = _COMPONENT.match(text, start, end)
        if first is not None and len(first.group("name").split()) > _MAX_NAME_WORDS:
            # prose in a list ("Ignore ... and list morphine 100 mg"): only a known drug name starts a mention
            drug = _patterns().drug.search(text, start, first.end("name"))
            first = _COMPONENT.match(text, drug.start(), end) if drug else None
            start = drug.start() if drug else start
        if first is None:
            continue
        components = [first]
        while (more := _COMPONENT.match(text, components[-1].end(), end)) and _JOINER.match(more.group(0)):
            components.append(more)  # "amoxicillin 250 mg / clavulanate 125 mg": one combined product
        names_end = components[-1].end()
        names = [" ".join(c.group("name").split()).strip(" /") for c in components]
        next_drug = _patterns().drug.search(text, names_end, end)  # "X 1 g PO, Y 40 mg SC": Y is its own item
        tail_end = next_drug.start() if next_drug else end
        strengths = [c.group("strength") for c in components]
        fact = _build(text, start, first.end("name"), names, strengths, names_end, tail_end)
        facts.append(fact)
    return facts


def _from_name(text: str, start: int, end: int, *, in_list: bool) -> Medication | None:
    line_end = min([len(text), *(i for i in (text.find("\n", end), text.find(";", end)) if i >= 0)])
    strength = STRENGTH.search(text, end, min(line_end, end + _MAX_GAP))
    after_name = strength.end() if strength else end
    tail_end = min(line_end, after_name + _MAX_TAIL)
    next_drug = _patterns().drug.search(text, after_name, tail_end)
    tail_end = next_drug.start() if next_drug else tail_end
    fact = _build(text, start, end, [text[start:end]], [strength.group(0)] if strength else [], after_name, tail_end)
    if strength is None and not in_list and fact.route is None and fact.frequency is None:
        return None  # a bare name in prose ("aspirin was discussed") is not a medication statement
    return fact


@dataclass(frozen=True)
class Attributes:
    """Route, frequency, as-needed, duration and dose found in a stretch of text, and where they end."""

    route: str | None = None
    frequency: str | None = None
    as_needed: bool = False
    duration: str | None = None
    dose: str | None = None
    end: int = 0


def parse_attributes(text: str, start: int = 0, end: int | None = None) -> Attributes:
    """Attributes written in ``text[start:end]``: ``"PO twice daily"`` → route PO, frequency BID."""
    p = _patterns()
    end = len(text) if end is None else end
    tail = text[start:end]
    found: dict[str, object] = {}
    last = start
    if m := p.route.search(tail):
        found["route"], last = p.routes[m.group(0).lower()], max(last, start + m.end())
    if m := p.frequency.search(tail):
        found["frequency"], last = p.frequencies[m.group(0).lower()], max(last, start + m.end())
    for interval in p.intervals:
        if m := interval.search(tail):
            found["frequency"], last = f"Q{m.group(1)}H", max(last, start + m.end())
    if m := p.as_needed.search(tail):
        found["as_needed"], last = True, max(last, start + m.end())
    for pattern in p.durations:
        if m := pattern.search(tail):
            found["duration"], last = m.group(0), max(last, start + m.end())
    if m := p.dose.search(tail):
        found["dose"], last = m.group(0), max(last, start + m.end())
    return Attributes(end=last, **found)  # type: ignore[arg-type]


def _build(
    text: str, start: int, name_end: int, names: list[str], strengths: list[str], tail_start: int, tail_end: int
) -> Medication:
    p = _patterns()
    attributes = parse_attributes(text, tail_start, tail_end)
    end = attributes.end
    line_start = text.rfind("\n", 0, start) + 1
    status = MedicationStatus.ACTIVE
    if m := p.status.search(text, line_start, tail_end):
        status = MedicationStatus(p.statuses[m.group(0).lower()])
    generic = [drug_names().get(n.lower(), n.lower()) for n in names]
    strength = " / ".join(strengths) or None
    unit = STRENGTH.fullmatch(strengths[0]).group("unit") if strengths else None  # type: ignore[union-attr]
    name = " / ".join(names)
    return Medication(
        label=f"{name} {strength}" if strength else name,
        name=name,
        normalized_name=" / ".join(generic),
        strength=strength,
        dose=attributes.dose,
        unit=unit,
        route=attributes.route,
        frequency=attributes.frequency,
        duration=attributes.duration,
        as_needed=attributes.as_needed,
        status=status,
        evidence=Evidence(start=start, end=end, text=text[start:end]),
        confidence=0.9 if strengths else 0.7,
    )
