"""The visit and the patient as a document states them: encounter dates, department, chief complaint,
and demographics (age, sex, date of birth), each fact on the words it was read from.

The chief complaint is the body of the chief-complaint / reason-for-visit section ("Motif
d'admission"), one fact per listed item; a complaint denied there ("No complaints.") gives none.
Transcribed reports often run on from the complaint into the history under the same header
("CHIEF COMPLAINT: Rule out sleep apnea. Sample Patient is a 61-year-old ..."), or tell the complaint
as history ("This 24 year-old female presents complaining of a rash"): ``split_chief_complaints``
keeps only the complaint itself in the chief-complaint section, and the rest is history, where
problems are read as in any history.
Labels come from ``data/<language>/encounter.json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from medspeak.indexing.rules.context import context_for
from medspeak.indexing.rules.dates import DATE, parse_date
from medspeak.indexing.rules.lexicon import load
from medspeak.indexing.rules.sections import Section
from medspeak.indexing.schema import Assertion, DateKind, Demographics, Encounter, Evidence, Sex

__all__ = [
    "alternation",
    "encounter_lexicon",
    "find_demographics",
    "find_encounters",
    "sex_words",
    "split_chief_complaints",
]

_MAX_COMPLAINT_CHARS = 150  # a reason for visit is a phrase; a longer body is cut at its first sentence
_MAX_DEPARTMENT_CHARS = 60
_ITEM = re.compile(r"^[ \t]*(?:[-*•]|\d+[.)])?[ \t]*(?P<item>[^\n]+?)[ \t]*$", re.MULTILINE)
_NONE = re.compile(
    r"^(?:no(?:ne)?\b|no (?:new )?complaints?|n/a|nil|aucun|aucune|rien|sans objet|pas de plainte)", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"\.(?=\s|,|$)|[;\n]")


def alternation(words: list[str]) -> str:
    """A regex alternation of ``words``, longest first (so "follow up with" wins over "follow up")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def encounter_lexicon(language: str) -> dict[str, Any]:
    """``data/<language>/encounter.json``: labels of dates, department, demographics, follow-up cues."""
    return load(language, "encounter")


@cache
def _patterns(language: str) -> dict[str, re.Pattern[str]]:
    data = encounter_lexicon(language)
    header = r"^[ \t]*(?:#{1,3}[ \t]*)?(?P<label>%s)[ \t]*:[ \t]*"
    sexes = alternation(data["female_words"] + data["male_words"])
    units = alternation(data["age_units"])
    date = rf"(?P<value>{DATE.pattern})"
    department = rf"(?P<value>[^\n]{{2,{_MAX_DEPARTMENT_CHARS}}}?)[ \t.]*$"
    return {
        "date": re.compile(header % alternation(list(data["date_labels"])) + date, re.I | re.M),
        "prose_date": re.compile(rf"\b(?P<label>{alternation(list(data['prose_dates']))})\s+{date}", re.I),
        "department": re.compile(header % alternation(data["department_labels"]) + department, re.I | re.M),
        "birth": re.compile(
            header % alternation(data["birth_date_labels"])
            + rf"(?P<value>{DATE.pattern})(?:[ \t]*\((?P<inside>[^)\n]{{1,40}})\))?",
            re.I | re.M,
        ),
        "sex": re.compile(header % alternation(data["sex_labels"]) + rf"(?P<value>{sexes})\b", re.I | re.M),
        "age_line": re.compile(header % alternation(data["age_labels"]) + r"(?P<value>\d{1,3})\b", re.I | re.M),
        "age": re.compile(rf"\b(?P<age>\d{{1,3}})[ -]?(?:{units})(?![\w])", re.I),
        "sex_word": re.compile(rf"\b(?P<sex>{sexes})\b\.?", re.I),
    }


@cache
def sex_words(language: str) -> dict[str, Sex]:
    """Words that state a sex ("female", "gentleman", "patiente"), lower case."""
    data = encounter_lexicon(language)
    return {w: Sex.FEMALE for w in data["female_words"]} | {w: Sex.MALE for w in data["male_words"]}


def find_encounters(text: str, language: str, sections: list[Section]) -> list[Encounter]:
    """Encounter facts: the chief complaint(s), dates of admission, discharge or visit, the department.

    ``sections`` as ``find_sections`` gives them (before ``split_chief_complaints``).
    """
    p, data = _patterns(language), encounter_lexicon(language)
    found: list[Encounter] = []
    seen: set[tuple[int, int]] = set()

    def add(start: int, end: int, label: str, confidence: float, **fields: Any) -> None:
        if (start, end) in seen:
            return
        seen.add((start, end))
        found.append(
            Encounter(
                label=label,
                evidence=Evidence(start=start, end=end, text=text[start:end]),
                confidence=confidence,
                **fields,
            )
        )

    for section in sections:
        if section.name == "chief_complaint":
            for start, end in _complaint_spans(text, section)[0]:
                add(start, end, f"Chief complaint: {text[start:end]}", 0.9, chief_complaint=text[start:end])
    for m in p["date"].finditer(text):
        kind = DateKind(data["date_labels"][" ".join(m["label"].lower().split())])
        _date(add, text, m, kind, language)
    for m in p["prose_date"].finditer(text):
        kind = DateKind(data["prose_dates"][" ".join(m["label"].lower().split())])
        _date(add, text, m, kind, language)
    if first := _bare_date(text):  # Synthea: the note opens with its date on a line of its own
        written = text[first[0] : first[1]]
        add(*first, f"Visit date: {written}", 0.8, date_kind=DateKind.VISIT, date_text=written,
            parsed_date=parse_date(written, language))  # fmt: skip
    for m in p["department"].finditer(text):
        value = m["value"].strip().rstrip(".")
        if value and not DATE.search(value) and not re.search(r"\d{3,}", value):
            add(m.start("label"), m.start("value") + len(value), f"Department: {value}", 0.85, department=value)
    return found


def _date(add: Callable[..., None], text: str, m: re.Match[str], kind: DateKind, language: str) -> None:
    written = m["value"]
    add(
        m.start("label"),
        m.end("value"),
        f"{kind.value.capitalize()} date: {written}",
        0.9,
        date_kind=kind,
        date_text=written,
        parsed_date=parse_date(written, language),
    )


def _bare_date(text: str) -> tuple[int, int] | None:
    head = text[:200]
    m = re.search(r"^[ \t]*(\d{4}-\d{2}-\d{2})[ \t]*$", head, re.MULTILINE)
    if m and not head[: m.start()].strip():
        return m.start(1), m.end(1)
    return None


_NARRATIVE = re.compile(
    r"^(?:this|the|patient|pt|he|she|mr|mrs|ms|miss|a|an|il|elle|le|la|ce|cette)\b|\byears?[- ]old\b|\bans\b", re.I
)
_COMPLAINING = re.compile(
    r"\b(?:complaining of|complains of|complaint of|c/o|presents? with|presenting with|here for|admis\w* pour"
    r"|consulte pour|consultant pour)\s+(?P<what>[^.;\n]{2,120})",
    re.I,
)


def split_chief_complaints(text: str, sections: list[Section]) -> list[Section]:
    """``sections`` with each chief-complaint section cut after its complaint; what follows (or a
    complaint told as a story) becomes history (``hpi``)."""
    out = []
    for section in sections:
        if section.name != "chief_complaint":
            out.append(section)
            continue
        spans, narrative = _complaint_spans(text, section)
        if narrative:
            out.append(Section("hpi", section.start, section.body_start, section.end))
            continue
        cut = max((end for _, end in spans), default=section.end)
        while cut < section.end and text[cut] in ".,;: \t\n":
            cut += 1
        if spans and text[cut : section.end].strip():
            out += [
                Section(section.name, section.start, section.body_start, cut),
                Section("hpi", cut, cut, section.end),
            ]
        else:
            out.append(section)
    return out


def _complaint_spans(text: str, section: Section) -> tuple[list[tuple[int, int]], bool]:
    """(the complaint items, whether the section tells a story rather than listing a complaint)."""
    items = _complaints(text, section)
    if len(items) != 1 or not _NARRATIVE.search(text, items[0][0], items[0][1]):
        return items, False
    told = _COMPLAINING.search(text, items[0][0], section.end)
    if told is None or told.start() > items[0][1]:
        return [], True
    start, end = told.start("what"), told.end("what")
    if article := re.match(r"(?:a|an|the|some|une?|des)\s+", told["what"], re.I):
        start += article.end()
    while end > start and text[end - 1] in " ,":
        end -= 1
    return [(start, end)], True


def _complaints(text: str, section: Section) -> list[tuple[int, int]]:
    """Items of a chief-complaint section: one a line (bullets) or the body's first sentence."""
    body = text[section.body_start : section.end]
    lines = [m for m in _ITEM.finditer(text, section.body_start, section.end) if m["item"].strip(" ,.;:")]
    if "\n" in body.strip() and len(lines) > 1:
        bounds = [(m.start("item"), m.end("item")) for m in lines]
    else:
        start = section.body_start
        while start < section.end and (text[start].isspace() or text[start] in ",;:-"):
            start += 1
        stop = _SENTENCE_END.search(text, start, section.end)
        bounds = [(start, stop.start() if stop else section.end)]
    items = []
    for start, end in bounds:
        end = min(end, start + _MAX_COMPLAINT_CHARS)
        while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;:"):
            end -= 1
        phrase = text[start:end]
        if len(phrase) >= 2 and any(c.isalpha() for c in phrase) and not _NONE.match(phrase):
            items.append((start, end))
    return items


def find_demographics(text: str, language: str) -> list[Demographics]:
    """Demographics facts: a header's date of birth (with the age and sex beside it), sex and age lines,
    and prose such as "a 60 year-old ... female", "a 45-year-old gentleman", "Patiente de 72 ans"."""
    p, words = _patterns(language), sex_words(language)
    spans: list[tuple[int, int, dict[str, Any]]] = []
    for m in p["birth"].finditer(text):
        fields: dict[str, Any] = {"birth_date_text": m["value"], "birth_date": parse_date(m["value"], language)}
        end = m.end("value")
        if inside := m["inside"]:
            if age := p["age"].search(inside):
                fields["age"] = int(age["age"])
            if sex := p["sex_word"].search(inside):
                fields["sex"] = words[sex["sex"].lower().rstrip(".")]
            if "age" in fields or "sex" in fields:
                end = m.end()
        spans.append((m.start("label"), end, fields))
    for m in p["sex"].finditer(text):
        spans.append((m.start("label"), m.end("value"), {"sex": words[m["value"].lower()]}))
    for m in p["age_line"].finditer(text):
        spans.append((m.start("label"), m.end("value"), {"age": int(m["value"])}))
    context = context_for(language)
    # "his mother is a 75-year-old woman" describes a relative, not the patient
    spans += [s for s in _prose(text, language) if context.assertion(text, s[0], s[1]) is not Assertion.FAMILY]
    facts: list[Demographics] = []
    taken: list[tuple[int, int]] = []
    for start, end, fields in sorted(spans, key=lambda s: (s[0], -s[1])):
        if any(a < end and start < b for a, b in taken) or fields.get("age", 0) > 130:
            continue
        taken.append((start, end))
        parts = [
            f"{fields['age']} y" if "age" in fields else "",
            str(fields.get("sex") or ""),
            fields.get("birth_date_text") or "",
        ]
        facts.append(
            Demographics(
                label="Patient: " + ", ".join(x for x in parts if x),
                evidence=Evidence(start=start, end=end, text=text[start:end]),
                confidence=0.9,
                **fields,
            )
        )
    return facts


_FR_PATIENT = re.compile(
    r"\b(?P<who>patiente?|homme|femme|monsieur|madame)\s+(?:âgée?\s+)?de\s+(?P<age>\d{1,3})\s+ans\b", re.I
)
_EN_SEX_FIRST = re.compile(
    r"\b(?P<sex>female|male)\s*,?\s+(?:aged?\s+)?(?P<age>\d{1,3})[ -](?:years?[ -]old|yo|y/o)\b", re.I
)


def _prose(text: str, language: str) -> list[tuple[int, int, dict[str, Any]]]:
    """Age (and sex, when the same phrase states it) in running text."""
    p, words = _patterns(language), sex_words(language)
    spans: list[tuple[int, int, dict[str, Any]]] = []
    if language == "fr":
        for m in _FR_PATIENT.finditer(text):
            who = m["who"].lower()
            fields: dict[str, Any] = {"age": int(m["age"])}
            if who != "patient":  # "patient" is also the generic word: it states no sex
                fields["sex"] = words.get(who, Sex.FEMALE if who == "patiente" else Sex.MALE)
            spans.append((m.start(), m.end(), fields))
        return spans
    for m in _EN_SEX_FIRST.finditer(text):
        spans.append((m.start(), m.end(), {"age": int(m["age"]), "sex": words[m["sex"].lower()]}))
    for m in p["age"].finditer(text):
        if m["age"] == "0" or re.match(r"\s*(?:ago|history|of\b)", text[m.end() : m.end() + 10], re.I):
            continue  # "10 years ago", "20 years of smoking": a duration, not an age
        unit = m.group(0)[len(m["age"]) :].strip(" -").lower()
        if unit == "years" and not re.match(r"\s*(?:old|of age)", text[m.end() : m.end() + 8], re.I):
            continue  # "for 5 years"
        fields = {"age": int(m["age"])}
        end = m.end()
        # the sex in the same phrase: "60 year-old nonhispanic white female", "45-year-old gentleman"
        window = re.match(r"[^.;,\n]{0,40}", text[m.end() :])
        sex = p["sex_word"].search(window.group(0)) if window else None
        if sex and len(sex["sex"]) > 2:  # a lone "M"/"F" in prose is too ambiguous
            fields["sex"] = words[sex["sex"].lower()]
            end = m.end() + sex.end("sex")
        spans.append((m.start(), end, fields))
    return spans
