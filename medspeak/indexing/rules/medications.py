"""Medication mentions: a drug name (lexicon, or an item of a medication section) and its attributes.

``Metoprolol 25 mg PO twice daily - for 5 days``: strength (amount and unit), route, frequency
(normalised code: BID, Q6H...), as-needed, duration, dose (forms per administration) and status
("stopped", "started", "increased" on the same line).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import cache

from medspeak.indexing.rules.lexicon import (
    LANGUAGES,
    common_words,
    drug_names,
    find_drug_names,
    load,
    phrase_pattern,
)
from medspeak.indexing.rules.sections import Section, section_at
from medspeak.indexing.schema import Evidence, Medication, MedicationStatus

__all__ = ["Attributes", "find_medications", "normalize_strength", "parse_attributes", "parse_components"]

_NUMBER = r"\d+(?:[.,]\d+)?"
_UNIT = (
    r"(?:milligrams?|micrograms?|mg|mcg|µg|ug|g|ml|l|units?|unités?|ui|iu|meq|mmol|unt|actuat|%)"
    r"(?:/(?:ml|l|actuat|hr|h|kg|dose))?"
)
STRENGTH = re.compile(rf"(?P<num>{_NUMBER}(?:/{_NUMBER})?)\s*(?P<unit>{_UNIT})(?![\w])", re.IGNORECASE)
_CONCENTRATION = re.compile(r"/\s*d?L$", re.IGNORECASE)  # per litre or decilitre: a level in blood
_FIELD = re.compile(r"^[^\W\d_][\w ]{0,30}:|_{3,}")  # a labelled field or a blank to fill in
# "amoxicillin 250 mg / clavulanate 125 mg": a run of words, then its strength
_COMPONENT = re.compile(
    rf"(?:\s*/\s*)?(?P<name>[^\W\d_][\w\-', ]*?)\s+(?P<strength>{_NUMBER}\s*{_UNIT})(?![\w])", re.IGNORECASE
)
# Packaging before the name in RxNorm-style lists: "NDA020503 200 ACTUAT ...", "1 ML ..."
_PACKAGING = re.compile(rf"\s*(?:nda\d+\s+)?(?:{_NUMBER}\s*(?:ml|actuat|hr)\s+)?", re.IGNORECASE)
_JOINER = re.compile(r"\s*/")
_ITEM_SPLIT = re.compile(r"[\n;]")
_BULLET = re.compile(r"\s*(?:[-*•]|\d+[.)])?\s*")
# Header words, EN and FR, first match wins: "Discharge medications", "Inpatient medications"...
_SETTINGS = (
    ("discharge", re.compile(r"discharge|sortie", re.IGNORECASE)),
    ("inpatient", re.compile(r"hospital|inpatient|given|administered|during the stay|séjour", re.IGNORECASE)),
    ("admission", re.compile(r"admission|entrée", re.IGNORECASE)),
)
_ALLERGY_CUE = re.compile(r"allerg|intoleran", re.IGNORECASE)
_STOP = re.compile(r"[;!?\n]|\.(?=\s+[A-Z0-9]|\s*,|\s*$)")  # "p.o. b.i.d." and "0.5 mg" do not end a sentence
_INLINE_SPLIT = re.compile(
    r"[\n;]|\.(?=\s+[A-Z]|\s*,)|,(?!\s*\d)|\s+(?:and|et|avec)\s+(?=[^\W\d_])(?!(?:a|one)[\s-]half\b)"
    r"|(?<=[.,])\s*(?=\d{1,2}\.\s)"
)  # "X et Y", "calcium avec vitamine D": two agents (the conventions split combinations written "avec")
_DIGIT = re.compile(r"\d")
# words before a drug name that make a sentence a medication statement ("was started on Bactrim")
_CUE = re.compile(
    r"\b(?:on|taking|takes|took|take|started|start|starting|given|received|receives|receiving|placed on|treated with"
    r"|treat(?:ed)? (?:\w+ )?with|continue|continued|continues|increase|increased|decrease|decreased|discontinue"
    r"|discontinued|stop|stopped|held|prescribed|prescription for|try|tried|trial of|uses?|used|using|maintained on"
    r"|chemotherapy with|instillation of|with|switch(?:ed)? to|changed(?: to)?|sublingual|nebulized"
    r"|dressed with|restart|restarted|resume|resumed|begin|began|initiate|initiated|discontinuing|stopping"
    r"|required|add|added)\b[^.;]*$",
    re.IGNORECASE,
)
_MAX_CUE_GAP = 60
_COORDINATED = re.compile(r"(?:,|\band|\bplus|\bas well as)\s*(?:and\s+|the\s+)?$", re.IGNORECASE)
# a sentence that gives a regimen, and one that puts the course in the past
_REGIMEN_CONTEXT = re.compile(
    r"\b(?:chemo(?:therapy)?|regimens?|cycles?|courses?|treated with|treatment with|received|receiving|receive"
    r"|given|start(?:ed|ing)?(?: on)?|continue[sd]?(?: on)?|placed on|completed"
    r"|chimioth[ée]rapie|protocole|cures?|trait[ée]e? par|re[çc]u)(?!\w)",
    re.IGNORECASE,
)
_VACCINE_WORD = re.compile(r"immuni[sz]|vaccin|booster|\bshots?\b", re.IGNORECASE)
_VACCINE_GIVEN = re.compile(r"\b(?:given|gave|received|receives|administered|updated|got|gets|today)\b", re.IGNORECASE)
# a negation just before a drug name, with at most its verb and an article between: "has not received the"
_NEGATED_BEFORE = re.compile(
    r"\b(?:not|never|declined|declines|refused|refuses)\s+(?:wants?\s+to\s+|want\s+to\s+)?(?:been\s+)?(?:on|taking"
    r"|take|taken|received|receive|given|started|prescribed|had|have|getting|get|got|use|using)?"
    r"(?:\s+(?:the|a|an|any|his|her))?\s*$",
    re.IGNORECASE,
)
_NOT_TAKEN_AFTER = re.compile(
    r"[\s-]+(?:toxicity|overdose|levels?|allergy|intolerance|induced|withdrawal|dependence|abuse|poisoning)\b",
    re.IGNORECASE,
)
_PREPARED_WITH = re.compile(
    r"\b(?:prepped|prepared|scrubbed|painted|cleansed)(?:\s+and\s+draped)?\s+(?:\w+\s+){0,2}?(?:with|in|using)"
    r"(?:\s+(?:a|an|the))?\s*$",
    re.IGNORECASE,
)
_PAST_COURSE = re.compile(
    r"\b(?:received|was treated|were given|was given|completed|underwent|had|previously|prior"
    r"|a re[çc]u|a été traitée?|avait)(?!\w)",
    re.IGNORECASE,
)
# a cue after the drug name, in the same clause: "Plavix was started", "l'héparine a été poursuivie"
_CUE_AFTER = re.compile(
    r"\s+(?:(?:was|were|is|has been|had been|will be)\s+(?:started|restarted|given|continued|increased|decreased"
    r"|discontinued|stopped|held|prescribed|added|resumed|administered|initiated|changed|tapered)"
    r"|(?:a été|ont été|était|sera|est)\s+(?:commencée?|débutée?|introduite?|poursuivie?|arrêtée?|suspendue?"
    r"|augmentée?|diminuée?|administrée?|prescrite?|reprise?|instaurée?|majorée?|relayée?))\b",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    r"(?:\s+(?:to|of|at|from|by|is|was|dose|dosage|increased|decreased|reduced|changed|taper|tapering|tapered))+$", re.I
)
_PRESCRIBED = re.compile(r"prescri|new medications|medications started", re.IGNORECASE)
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "eight": "8",
    "twelve": "12",
    "twenty-four": "24",
}
_ROUTE_BEFORE = re.compile(
    r"\b(sublingual|nebulized|intravenous|subcutaneous|topical|inhaled|oral|transdermal|iv)\s+$", re.IGNORECASE
)
_JOINED = re.compile(r"/|\+|,|\band\b|\bwith\b", re.IGNORECASE)  # "X and Y" are two drugs, "Lantus insulin" one
_MAX_LIST_SENTENCE_WORDS = 8  # a longer sentence without a known drug name around an unknown item is prose
_MAX_UNKNOWN_WORDS = 3  # a short item of a medication list is a medication even when the lexicon lacks it
_NOT_MEDICATIONS = frozenset(
    "none none. no nil n/a negative noncontributory non-contributory unknown unchanged reviewed as see per include"
    " includes including denies other multiple several list medications medication meds her his the at this that"
    " time he she is on was were has have had above below noted currently taking takes not any all patient"
    " monday mondays tuesday tuesdays wednesday wednesdays thursday thursdays friday fridays saturday saturdays"
    " sunday sundays then day days week weeks month months year years chart prior admission home"
    # French: "Traitement habituel : aucun", "néant", "pas de traitement"
    " aucun aucune néant rien pas sans traitement traitements habituel patient patiente"
    " lundi lundis mardi mardis mercredi mercredis jeudi jeudis vendredi vendredis samedi samedis dimanche dimanches"
    " jour jours semaine semaines mois un une deux trois quatre demi demi-comprimé dix onze douze elle il qu'elle qu'il"
    " doit inclure inclut comprend comprennent"
    " one-half half dose doses adjusted which who".split()
)
_NOT_MEDICATION_SECTIONS = {"allergies", "social_history", "family_history"}
# a number without a unit right after a listed drug name, a route or frequency next: "Evista 60 daily"
_BARE_STRENGTH = re.compile(rf"[ \t]+(?P<num>{_NUMBER}(?:/{_NUMBER})?)[ \t]+(?=\S)")
# a drug ordered or offered that the patient then refused: "was ordered Demerol IM, but he refused it"
_REFUSED_AFTER = re.compile(
    r"[^.;]{0,80}?\b(?:but|and|which)\s+(?:he|she|they|the patient|patient)\s+(?:refused|declined)\b", re.I
)
# a list item that puts the drug in the past: "He was previously on folic acid", "Her medication had been X"
_PAST_ITEM = re.compile(
    r"\b(?:previously|formerly|used to (?:take|be on)|no longer (?:takes?|taking|on)|had been(?: on)?)\b", re.I
)
# told not to take a drug: "she was asked not to take Sudafed" (a drug she took, now stopped)
_TOLD_NOT_TO = re.compile(
    r"\b(?:asked|told|advised|instructed)\s+(?:(?:him|her|them|the patient)\s+)?not\s+to\s+(?:take|use|continue)"
    r"(?:\s+(?:the|his|her|any))?\s*$",
    re.I,
)
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
def _french_cue() -> re.Pattern[str]:
    """French words before a drug name that make a sentence a medication statement ("mis sous Coumadin")."""
    cues = sorted(load("fr", "medication_patterns").get("cues", ()), key=len, reverse=True)
    if not cues:
        return re.compile(r"(?!x)x")  # matches nothing
    return re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(c) for c in cues)})(?!\w)[^.;]*$", re.IGNORECASE)


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
    number = "/".join(f"{float(n.replace(',', '.')):g}" for n in match.group("num").split("/"))
    unit = match.group("unit").lower().replace("µg", "mcg").replace("ug", "mcg").replace("unités", "units")
    return f"{number} {unit}"


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
    """Medication facts of ``text``: items of medication sections, then drug names elsewhere.

    Outside a medication section a drug name is a medication statement only with a strength, route or
    frequency after it, or a cue before it in its sentence ("started on", "takes", "given"); names in
    allergy, social and family-history context are never medications.
    """
    facts = [m for s in sections if s.name == "medications" for m in _section_items(text, s)]
    for s in sections:
        for listed in facts:
            if s.name == "medications" and listed.evidence and s.body_start <= listed.evidence.start < s.end:
                listed.setting = _setting(text[s.start : s.body_start])
    taken = sorted((f.evidence.start, f.evidence.end) for f in facts if f.evidence)
    taken_starts = [a for a, _ in taken]
    previous: int | None = None  # where the last medication named in prose ends
    for start, end, _ in find_drug_names(text):
        at = bisect_right(taken_starts, start)  # items of a list are disjoint: the one before alone can hold it
        if at and taken[at - 1][0] <= start < taken[at - 1][1]:
            continue
        section = section_at(sections, start)
        if section and section.name in _NOT_MEDICATION_SECTIONS | {"medications"}:
            continue  # a medication section's names were taken item by item
        if text[start:end].lower() in _not_drugs():
            continue  # "narcotics for pain", "1 L of normal saline": a class or a fluid, not a drug
        s0, s1 = _sentence(text, start)
        s1 = max(s1, _sentence(text, end - 1)[1])  # "Tylenol No. 3 ...": a stop inside the name ends nothing
        if _ALLERGY_CUE.search(text, s0, start):
            continue  # "allergic to penicillin" names a substance, not a medication taken
        in_list = bool(section and section.name == "medications")
        window = max(s0, start - _MAX_CUE_GAP)
        if _NEGATED_BEFORE.search(text, window, start):
            continue  # "she has not received the flu vaccine", "declined Lipitor": not taken
        if _PREPARED_WITH.search(text, window, start):
            continue  # "prepped with Betadine": a skin antiseptic preparing the field, not a drug given
        cued = in_list or any(cue.search(text, window, start) for cue in (_CUE, _french_cue()))
        cued = cued or _CUE_AFTER.match(text, end) is not None  # "Plavix was started", "Coumadin a été arrêté"
        cued = cued or (  # "prescribed Reglan, Prilosec, and Carafate": a drug joined to a medication before it
            previous is not None
            and s0 <= previous < start
            and start - previous <= _MAX_CUE_GAP
            and _COORDINATED.search(text, previous, start) is not None
        )
        if _REFUSED_AFTER.match(text, end, s1):
            continue  # "was ordered Demerol 50 mg IM, but he refused": offered, never given
        cued = cued or (section is not None and section.name == "plan" and _alone(text, s0, s1, start, end))
        if _NOT_TAKEN_AFTER.match(text, end):
            continue  # "digoxin toxicity", "lithium level": a problem or a result named by its drug
        fact = _from_name(text, start, end, in_list=cued, limit=s1)
        if fact and fact.status is MedicationStatus.ACTIVE and (m := _patterns().status.search(text, s0, s1)):
            fact.status = MedicationStatus(_patterns().statuses[m.group(0).lower()])  # "X and Y are on hold"
        if fact and _TOLD_NOT_TO.search(text, window, start):
            fact.status = MedicationStatus.STOPPED  # "asked not to take Sudafed, which she was taking"
        if fact and section and section.name == "hospital_course":
            fact.setting = "inpatient"  # "given morphine in the ED": a treatment of the stay
        if fact and fact.evidence:
            facts.append(fact)
            taken.append((fact.evidence.start, fact.evidence.end))
            previous = end
    facts += _regimens(text, sections, taken)
    facts += _vaccines(text, sections, taken)
    facts.sort(key=lambda f: f.evidence.start if f.evidence else 0)
    _carry_stops(facts)
    return facts


def _carry_stops(facts: list[Medication]) -> None:
    """A listed drug that a later sentence stops ("stop the metronidazole") is stopped in the list too."""
    for i, later in enumerate(facts):
        if later.setting is None and later.status is MedicationStatus.STOPPED:
            for listed in facts[:i]:
                same = listed.normalized_name == later.normalized_name
                if same and listed.setting is not None and listed.status is MedicationStatus.ACTIVE:
                    listed.status = MedicationStatus.STOPPED


@cache
def _regimen_pattern() -> re.Pattern[str]:
    """Chemotherapy regimen acronyms as written, capitals kept, with a one- or two-letter prefix ("R-CHOP",
    "m-BACOD"): case-sensitive, so "chop" or "ice" in prose are words."""
    names = sorted({n for lang in LANGUAGES for n in load(lang, "medication_patterns").get("regimens", ())}, key=len)
    body = "|".join(re.escape(n) for n in reversed(names)) or "(?!x)x"
    return re.compile(rf"(?<![\w-])(?:[A-Za-z]{{1,2}}-)?(?:{body})(?![\w-])")


def _regimens(text: str, sections: list[Section], taken: list[tuple[int, int]]) -> list[Medication]:
    """Named chemotherapy regimens (the conventions count "CHOP" as a medication) in a treatment context:
    a medication list, or a sentence that says it was given ("received six cycles of CHOP", "treated with
    m-BACOD", "start FOLFOX"); a past course is a stopped line of treatment."""
    facts = []
    for m in _regimen_pattern().finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        section = section_at(sections, m.start())
        if section and section.name in _NOT_MEDICATION_SECTIONS:
            continue
        s0, s1 = _sentence(text, m.start())
        sentence = text[s0:s1]
        listed = bool(section and section.name == "medications")
        if not listed and not _REGIMEN_CONTEXT.search(sentence):
            continue
        fact = _build(text, m.start(), m.end(), [m.group(0)], [], m.end(), m.end())
        if _PAST_COURSE.search(sentence):
            fact.status = MedicationStatus.STOPPED
        elif fact.status is MedicationStatus.ACTIVE and (st := _patterns().status.search(text, s0, s1)):
            fact.status = MedicationStatus(_patterns().statuses[st.group(0).lower()])
        facts.append(fact)
    return facts


@cache
def _vaccine_pattern() -> re.Pattern[str]:
    """Short vaccine names ("DTaP", "hepatitis B", "flu"), and "vaccine" or "shot" after them."""
    names = [n for lang in LANGUAGES for n in load(lang, "medication_patterns").get("vaccines", ())]
    body = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True)) or "(?!x)x"
    return re.compile(
        rf"(?<![\w-])(?:{body})(?:\s+(?:vaccines?|vaccinations?|shots?|boosters?|immuni[sz]ations?))?(?![\w-])",
        re.IGNORECASE,
    )


def _vaccines(text: str, sections: list[Section], taken: list[tuple[int, int]]) -> list[Medication]:
    """Vaccines given (the conventions count them): a short vaccine name in a sentence about immunizations
    that says they were given or brought up to date ("Immunizations updated with hepatitis B", "received a
    flu shot"); "history of hepatitis B" or "risks of the flu vaccine discussed" are not."""
    facts = []
    for m in _vaccine_pattern().finditer(text):
        if any(a <= m.start() < b or m.start() <= a < m.end() for a, b in taken):
            continue
        section = section_at(sections, m.start())
        if section and section.name in _NOT_MEDICATION_SECTIONS - {"social_history"}:
            continue  # immunizations are often filed under the social history
        s0, s1 = _sentence(text, m.start())
        sentence = text[s0:s1]
        named = m.group(0) != m.group(0).split()[0] and _VACCINE_WORD.search(m.group(0)) is not None
        if not (named or _VACCINE_WORD.search(sentence)) or not _VACCINE_GIVEN.search(sentence):
            continue
        if _NEGATED_BEFORE.search(text, max(s0, m.start() - _MAX_CUE_GAP), m.start()):
            continue
        facts.append(_build(text, m.start(), m.end(), [m.group(0)], [], m.end(), m.end()))
    return facts


def _setting(header: str) -> str:
    """What a medication list's header says of its items: discharge, in hospital, on admission, or current."""
    for setting, pattern in _SETTINGS:
        if pattern.search(header):
            return setting
    return "current"


def _sentence(text: str, position: int) -> tuple[int, int]:
    """The sentence (or list item) around ``position``: from after the previous stop to the next one."""
    before = max((m.end() for m in _STOP.finditer(text, max(0, position - 300), position)), default=0)
    after = _STOP.search(text, position)
    if after is None:
        return before, len(text)
    return before, after.end() if after.group(0) == "." else after.start()  # "b.i.d." keeps its last dot


def _items(text: str, section: Section) -> list[tuple[int, int]]:
    """(start, end) of the items of a medication section: lines, or comma-separated items inline."""
    body = text[section.body_start : section.end]
    inline = "\n" not in body.strip() and ";" not in body  # "a; b, c" lists by semicolons: "insulin, regular" is one
    splitter = _INLINE_SPLIT if inline else _ITEM_SPLIT
    items = []
    position = section.body_start
    for m in [*splitter.finditer(text, section.body_start, section.end), None]:
        end = m.start() if m else section.end
        items.append((position, end))
        position = m.end() if m else section.end
    return items


def _section_items(text: str, section: Section) -> list[Medication]:
    """Medications of a list section; a prescription section ("Medications prescribed:") starts them."""
    facts = _listed(text, section)
    items = _items(text, section)
    prescribed = _PRESCRIBED.search(text, section.start, section.body_start) is not None
    p = _patterns()
    for fact in facts:
        at = fact.evidence.start if fact.evidence else section.body_start
        a, b = next(((a, b) for a, b in items if a <= at < b), (at, at))
        m = p.status.search(text, a, b)  # the item's own words: "increase Lasix" changes Lasix only
        fact.status = MedicationStatus(p.statuses[m.group(0).lower()]) if m else MedicationStatus.ACTIVE
        if m is None and _PAST_ITEM.search(text, a, at):
            fact.status = MedicationStatus.STOPPED  # "He was previously on folic acid": no longer taken
        if prescribed and fact.status is MedicationStatus.ACTIVE:
            fact.status = MedicationStatus.STARTED
    return facts


def _listed(text: str, section: Section) -> list[Medication]:
    facts: list[Medication] = []
    for start, end in _items(text, section):
        start += len(_BULLET.match(text, start, end).group(0))  # type: ignore[union-attr]  # always matches
        start += len(_PACKAGING.match(text, start, end).group(0))  # type: ignore[union-attr]
        first = _COMPONENT.match(text, start, end)
        if first is not None and _not_a_name(first.group("name").split()[0]):
            first = None  # "then 75 mg p.o. daily", "which is changed to 60 mg": the item before goes on
        if first is not None and (drug := next(iter(find_drug_names(text, start, first.end("name"))), None)):
            if drug[0] > start:  # "increase Lasix to 80 mg": the mention starts at the drug name
                start = drug[0]
                first = _COMPONENT.match(text, start, end)
        if first is not None and len(first.group("name").split()) > _MAX_NAME_WORDS:
            first = None  # prose in a list ("Ignore ... and list morphine 100 mg"): a drug name starts a mention
        if first is None:
            facts += _named_in_item(text, start, end)
            continue
        components = [first]
        while (more := _COMPONENT.match(text, components[-1].end(), end)) and _JOINER.match(more.group(0)):
            components.append(more)  # "amoxicillin 250 mg / clavulanate 125 mg": one combined product
        names_end = components[-1].end()
        names = [_TRAILING.sub("", _cut_clause(" ".join(c.group("name").split())).strip(" /")) for c in components]
        next_drug = _drugs_in(text, names_end, end)  # "X 1 g PO, Y 40 mg SC": Y is its own item
        tail_end = next_drug[0][0] if next_drug else end
        strengths = [c.group("strength") for c in components]
        facts.append(_build(text, start, first.end("name"), names, strengths, names_end, tail_end))
        for s0, e0, _ in _drugs_in(text, tail_end, end):  # "X 200 mg q.d. alternating with Y 100 mg q.d."
            if (other := _from_name(text, s0, e0, in_list=True, limit=end)) and other.strength:
                facts.append(other)
    return facts


def _drugs_in(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """The drug names of ``text[start:end]`` that can be medications ("Timoptic 0.5% solution b.i.d.": not
    "solution")."""
    return [n for n in find_drug_names(text, start, end) if text[n[0] : n[1]].lower() not in _not_drugs()]


def _not_a_name(word: str) -> bool:
    """A word that never starts a drug name: a function word, a pronoun, a dose word ("one-half")."""
    word = word.lower().strip(".,")
    return word in _NOT_MEDICATIONS or word in common_words()


def _cut_clause(name: str) -> str:
    """A name cut before a comma that opens a clause: "prednisone, she was" → "prednisone";
    "insulin isophane, human" stays whole."""
    head, *rest = name.split(",")
    for i, part in enumerate(rest):
        words = part.split()
        if words and _not_a_name(words[0]):
            return ",".join([head, *rest[:i]])
    return name


def _named_in_item(text: str, start: int, end: int) -> list[Medication]:
    """An item without a leading "name strength": its drug names, else the item itself when it is short."""
    names = _drugs_in(text, start, end)
    if names:
        facts = []
        names = [n for i, n in enumerate(names) if i == 0 or _joined_or_cued(text, names[i - 1][1], n[0])]
        for i, (s0, e0, _) in enumerate(names):
            limit = names[i + 1][0] if i + 1 < len(names) else end
            if fact := _from_name(text, s0, e0, in_list=True, limit=limit):
                facts.append(fact)
        return facts
    if _FIELD.search(text[start:end].strip()):
        return []  # "Signature: ______", "Patient : Manon Leblanc": a form's field, not a drug
    item = text[start:end].strip(" \t.,:-")
    if not item:
        return []
    s0 = text.index(item, start)
    status = _patterns().status.search(text, s0 + 1, s0 + len(item))  # "Aldex started on Monday"
    starts = [*_attribute_starts(text, s0, s0 + len(item)), *([status.start()] if status else [])]
    name_end = min(starts, default=s0 + len(item))
    name = text[s0:name_end].rstrip(" ,.")
    words = name.split()
    if not words or len(words) > _MAX_UNKNOWN_WORDS or not name[0].isalpha() or _DIGIT.search(name):
        return []
    if any(w.lower().strip(".,") in _NOT_MEDICATIONS for w in words) or _is_problem(name):
        return []
    if name.lower() in _not_drugs() or _not_a_name(words[0]):
        return []  # "and vitamin.", "eyedrops": generic words; "In Spanish label": prose, not a name
    s0_sentence, s1_sentence = _sentence(text, s0)
    if len(text[s0_sentence:s1_sentence].split()) > _MAX_LIST_SENTENCE_WORDS and not find_drug_names(
        text, s0_sentence, s1_sentence
    ):
        return []  # "All medications, discharge instructions and ... were reviewed": the list has ended
    return [_build(text, s0, s0 + len(name), [name], [], s0 + len(name), end)]


def _alone(text: str, s0: int, s1: int, start: int, end: int) -> bool:
    """The drug name is the whole item ("3.  Ortho Tri-Cyclen Lo."): an order of a plan."""
    item = text[s0:s1].strip(" \t\n.,;:-")
    bullet = _BULLET.match(item)
    return item[bullet.end() if bullet else 0 :].strip() == text[start:end]


def _joined_or_cued(text: str, previous_end: int, start: int) -> bool:
    """A second drug name of a list item that is a medication of its own: joined to the one before ("X and
    Y"), or first of a new sentence that says it is taken ("... daily.  She is also on calcium")."""
    if _JOINED.search(text, previous_end, start):
        return True
    stops = [m.end() for m in _STOP.finditer(text, previous_end, start)]
    return bool(stops) and _CUE.search(text, stops[-1], start) is not None


@cache
def _not_drugs() -> frozenset[str]:
    """Words the drug lexicons drop on purpose (classes, generic preparations, substances of abuse), and names
    they keep (a problem phrase that is one of them is a treatment) that are never a medication statement:
    classes ("narcotics", "nitrates"), IV fluids ("normal saline"), "glucose" (a blood level)."""
    keys = ("_not_drugs", "_not_medications")
    return frozenset(n.lower() for lang in LANGUAGES for key in keys for n in load(lang, "drugs").get(key, []))


def _attribute_starts(text: str, start: int, end: int) -> list[int]:
    """Where route, frequency, as-needed or a strength start in ``text[start:end]``."""
    p = _patterns()
    found = [m.start() for m in (STRENGTH.search(text, start, end),) if m]
    for pattern in (p.route, p.frequency, p.as_needed, *p.intervals):
        if m := pattern.search(text, start, end):
            found.append(m.start())
    return found


def _is_problem(name: str) -> bool:
    """A problem word in a medication list ("p.r.n. nausea and insomnia") is an indication, not a drug."""
    from medspeak.indexing.rules.problems import problem_terms  # problems import nothing from here

    return name.lower() in problem_terms("en")


def _from_name(text: str, start: int, end: int, *, in_list: bool, limit: int | None = None) -> Medication | None:
    line_end = min([len(text), *(i for i in (text.find("\n", end), text.find(";", end)) if i >= 0)])
    if limit is not None:
        line_end = min(line_end, max(limit, end))
    following = _drugs_in(text, end, line_end)  # "Patanol drops and Allegra 60 mg": Allegra's own strength
    line_end = following[0][0] if following else line_end
    strength = STRENGTH.search(text, end, min(line_end, end + _MAX_GAP))
    written = [strength.group(0)] if strength else []
    after_name = strength.end() if strength else end
    if strength is None and in_list and (bare := _bare_strength(text, end, line_end)):
        written, after_name = [bare.group("num")], bare.end("num")
    tail_end = min(line_end, after_name + _MAX_TAIL)
    next_drug = _drugs_in(text, after_name, tail_end)
    tail_end = next_drug[0][0] if next_drug else tail_end
    fact = _build(text, start, end, [text[start:end]], written, after_name, tail_end)
    if strength is None and not in_list and fact.route is None and fact.frequency is None:
        return None  # a bare name in prose ("aspirin was discussed") is not a medication statement
    if strength is not None and _CONCENTRATION.search(strength.group(0)) and fact.route is fact.frequency is None:
        return None  # "Potassium 3.9 mmol/L" with no route or frequency is a lab result, not a drug given
    return fact


def _bare_strength(text: str, end: int, line_end: int) -> re.Match[str] | None:
    """A number without its unit right after a listed drug name, when a route, frequency or "p.r.n." follows
    it ("Evista 60 daily", "Lortab 5/500 b.i.d."): the strength as written; a count of tablets is not."""
    bare = _BARE_STRENGTH.match(text, end, line_end)
    if bare is None:
        return None
    p = _patterns()
    follows = (p.frequency, p.route, p.as_needed, *p.intervals)
    return bare if any(pattern.match(text, bare.end(), line_end) for pattern in follows) else None


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
            hours = _NUMBER_WORDS.get(m.group(1).lower(), m.group(1))
            found["frequency"], last = f"Q{hours}H", max(last, start + m.end())
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
    if attributes.route is None and (before := _ROUTE_BEFORE.search(text[max(0, start - 20) : start])):
        attributes = replace(attributes, route=p.routes[before.group(1).lower()])
    end = attributes.end
    line_start = max(text.rfind("\n", 0, start) + 1, _sentence(text, start)[0])
    status = MedicationStatus.ACTIVE
    if m := p.status.search(text, line_start, tail_end):
        status = MedicationStatus(p.statuses[m.group(0).lower()])
    generic = [drug_names().get(n.lower(), n.lower()) for n in names]
    strength = " / ".join(strengths) or None
    written = STRENGTH.fullmatch(strengths[0]) if strengths else None
    unit = written.group("unit") if written else None  # "Evista 60 daily": a number without its unit
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
