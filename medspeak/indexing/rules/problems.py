"""Problems: lexicon terms, SNOMED-tagged mentions ("acute bronchitis (disorder)"), items of a problem
list after a trigger ("history of A, B, C") or in a history section; each with its ConText assertion.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import cache

from medspeak.indexing.rules.context import context_for, sentence_bounds
from medspeak.indexing.rules.lexicon import (
    find_drug_names,
    fold_accents,
    load,
    longest_phrases,
    lookup_words,
    phrase_pattern,
    word_prefixes,
)
from medspeak.indexing.rules.sections import Section, section_at
from medspeak.indexing.schema import Assertion, Evidence, Finding, Problem

__all__ = ["PROCEDURE_WORDS", "find_problems", "problem_terms"]

_DELIMITER = re.compile(r"[,;:.\n]|\band\b|\bor\b|\bet\b|\bou\b")
_BULLET_LINE = re.compile(r"^[ \t]*(?:[-*•]|\d+[.)])?[ \t]*(?P<item>[^\n]+?)[ \t]*\.?[ \t]*$", re.MULTILINE)
_INLINE_ITEM_SPLIT = re.compile(r"[,;\n]|\.(?=\s|,|$)|\s+/\s+|\s+-\s+")
_DIGIT = re.compile(r"\d")  # "onset 8 hours ago" is a time course, not a problem
_MEASURE = re.compile(
    r"^[GP]\d{1,2}$|\d{3,}|\d+\s*/\s*\d+|\d+\s*%|\d+\s*(?:mg|cm|mm|kg|lb|pounds|years?|days?|weeks?|months?|hours?)\b"
    r"|#\s*\d",
    re.I,
)
_RELATIVE = re.compile(r"^[^\W\d_]+\s*:\s*")  # "Brother: myocardial infarction"
_LEAD_IN = re.compile(
    r"^(?:(?:and|or|but|also|as above|includes?|including|(?:but )?not limited to|significant(?: only)? for"
    r"|remarkable for|notable for|positive for"
    r"|history of|hx of|a history of|the patient has|patient has|she has|he has|has|had|any|some|a|an|the|his|her"
    r"|probable|possible|likely|suspected|known|new|other|multiple medical problems including"
    r"|(?:days?|weeks?|months?|years?) of|(?:a )?chief complaint of)\s+)+",
    re.IGNORECASE,
)
_CODE = re.compile(r"\s*\((?:[\d.]+|[A-Z]\d[\d.]*)\)\s*$")  # "(615.9)": an ICD code after the diagnosis
_PROCEDURE = re.compile(
    r"(?:ectomy|ectomies|otomy|otomies|ostomy|plasty|scopy|pexy|rrhaphy|repair|replacement|replacements|surgery|surgeries"
    r"|dilatation|dilation|removal|placement|fixation|biopsy|biopsies|graft|bypass|cabg|turp|transplant|injection|stent"
    r"|tubes|delivery|section|i&d|d & c|d&c|césarienne|césariennes|injections|implantation|implant|decompression"
    r"|resection|excision|incision|extraction|ablation|amputation|arthroplasty|lithotripsy|catheterization|dialysis"
    r"|ectomie|ectomies|tomie|tomies|stomie|plastie|scopie|pexie|prothèse|greffe|pontage)\b",
    re.IGNORECASE,
)
PROCEDURE_WORDS = _PROCEDURE  # what makes a list item a procedure rather than a problem (EN and FR)
_NOT_FIRST = frozenset(
    "the this that these those there it its he she we i you they his her their patient patients will was were is are be"
    " been being would should could can may might please per see refer otherwise all every each one two three"
    " he's she's"
    " ten review at in on to for from by with without after before since when while which who whom what where as so"
    " if because than then now today yesterday currently presently recently previously"
    # prose and plans, not problems: "Continue current home medications", "Plan to obtain a free T4",
    # "Meantime, rechecking...", "Reviewed, very healthy", "age 34", "St. Jude mechanical valve"
    " continue continued plan plans planned meantime reviewed increase decrease obtain making make adjust"
    " undoubtedly probably possibly sometimes intermittently generally overall age st starts started takes"
    " similar unable however again second third fourth fifth".split()
)
# an item that states health or control, not a problem: "very healthy", "Hypertension, under control",
# "developing normally", "blood pressure stable", "prophylaxis as per surgeon"
_NOT_A_PROBLEM = re.compile(
    r"\b(?:healthy|normally|normal|stable(?!\s+\w)|under control|well controlled|prophylaxis|as needed|well child"
    r"|unremarkable|passed away|consult|consultation)\b",
    re.I,
)
# a list item that states a course or control, a habit, or an intolerance, not a problem: "improved",
# "poorly controlled", "uncertain etiology", "ex-smoker", "recreational drug use", "intolerance to Prevacid"
_EN_NOT_A_PROBLEM = re.compile(
    r"(?:improved|improving|better|worse|poorly controlled|suboptimal(?:ly)? control(?:led)?"
    r"|(?:uncertain|unclear|unknown) etiology|(?:ex-|former |non-?)?smoker|smoking|tobacco(?: use)?"
    r"|(?:alcohol|drug|recreational drug|illicit drug|iv drug) use"
    r"|(?:intolerance|allergy|allergic|sensitivity) to\b.*)$",
    re.IGNORECASE,
)
_IMMUNIZATION_BEFORE = re.compile(r"\b(?:immuni[sz]ations?|vaccin\w*)\b[^.;]*$", re.IGNORECASE)
_NOT_A_CONDITION = re.compile(
    r"[ \t]*(?:screening|vaccine|vaccination|immunization|test\b|testing|panel|assessment|evaluation|\(procedure\)"
    r"|, seasonal|prophylaxis|education|counsel|culture|level)",
    re.IGNORECASE,
)
_VERBS = frozenset(
    "is are was were be been being has have had will would should could can may might does did do sounds sound appears"
    " appear seems seem discussed obtained states stated reports reported noted underwent received contributing"
    " treated treatment treatments therapy chemotherapy alive deceased died unknown requires required requiring".split()
)
_FR_LEAD_IN = re.compile(
    r"^(?:(?:et|ou|mais|aussi|également|une|un|des|de la|de l['’]|du|de|d['’]|la|le|les|l['’]|toute|tout|tous|toutes"
    r"|sa|son|ses|leur|leurs|certaine|certaines|certains|quelques|plusieurs|il a|elle a|il présente|elle présente"
    r"|a|présente|significatif pour|notable pour|positif pour|atteint d['’]|atteinte d['’]|atteint de|atteinte de)"
    r"(?:\s+|(?<=['’])))+",
    re.IGNORECASE,
)
_FR_NOT_FIRST = frozenset(
    "il elle ils elles on nous je vous ce cette ces cet qui que qu est sont était a ont avait été patient patiente"
    " selon dans pour par avec sans après avant depuis pendant lors chez aujourd hier actuellement récemment"
    " maintenant y en se sa son ses le la les un une statut état à au aux sous secondaire secondaires bon bonne bons"
    " bonnes".split()
)
_FR_VERBS = frozenset(
    "est sont était étaient a ont avait avaient été sera serait fait montre montré montrait révélé révèle noté notée"
    " subi reçu reçoit prend prenait traité traitée diagnostiqué diagnostiquée décédé décédée mort morte vit"
    " présente présenté nécessité nécessite doit peut pourrait suis vu vue retiré retirée réalisé réalisée"
    " effectué effectuée obtenu obtenue".split()
)
_ITEM_STOP = re.compile(r"[,;\n]|\.(?=\s|,|$)")
_GENERIC_WORDS = frozenset(
    "present problem problems disease diseases condition conditions illness illnesses symptom symptoms complaint"
    " complaints issue issues medical other recent new current pain any some".split()
)
_TAIL_CLAUSE = re.compile(r"(?<=\w)\s+(?:status post|s/p|secondary to|due to)\b", re.IGNORECASE)
_MAX_ITEM_WORDS = 6  # a longer run of words is prose, not a problem-list item
_SKIP_SECTIONS = {
    "allergies",
    "medications",
    "vitals",
    "labs",
    "lab_orders",
    "social_history",
    "exam",
    "imaging",
    "procedures",
    "surgical_history",
    # the reason for the visit is the encounter's chief complaint, not a problem-list entry
    "chief_complaint",
}


# results and vital signs: a named abnormal finding there is one ("EKG shows sinus tachycardia", "hypoxemic"),
# read from the lexicon's terms only (the conventions); a raw value or a list item is not
RESULT_SECTIONS = frozenset({"labs", "imaging", "vitals", "procedures"})
_TERM_CONFIDENCE = 0.8
FINDING_SECTIONS = frozenset({"exam"})  # what the examiner found: findings, positive and negated ("No JVD")


def _skipped(language: str) -> frozenset[str]:
    """Sections whose words are no problems (the exam is read for findings)."""
    return frozenset(_SKIP_SECTIONS - FINDING_SECTIONS)


@cache
def _rules(language: str) -> tuple[re.Pattern[str], re.Pattern[str] | None, set[str], set[str]]:
    data = load(language, "problems")
    tags = data["semantic_tags"]
    tagged = re.compile(rf"\((?:{'|'.join(tags)})\)", re.IGNORECASE) if tags else None
    return (
        phrase_pattern(data["list_triggers"]),
        tagged,
        {w.lower() for w in data["not_problems"]},
        set(data["list_sections"]),
    )


@cache
def _trigger_lead(language: str) -> re.Pattern[str]:
    """ConText trigger words at the start of an item ("No", "Possible", "Denies"), with the space after them."""
    literals = sorted((t["literal"] for t in load(language, "context")["triggers"]), key=len, reverse=True)
    body = "|".join(re.escape(t) for t in literals if t[0].isalnum())
    return re.compile(rf"(?:(?:{body})\s+)+", re.IGNORECASE)


@cache
def _term_index(language: str) -> tuple[frozenset[str], frozenset[str]]:
    """Problem terms (lower case, unaccented, and each with a plural "s"), and the leading word runs of the
    multi-word ones."""
    terms = frozenset(fold_accents(t) for t in problem_terms(language))
    forms = terms | {f"{t}s" for t in terms} | {f"{t}es" for t in terms}
    return forms, word_prefixes(terms)


def _term_spans(text: str, language: str) -> list[tuple[int, int]]:
    """Lexicon problem terms in ``text``, longest first at each word, a plural "s" allowed
    ("myocardial infarctions" is the term "myocardial infarction"); accents and a French elided article
    do not matter ("d'adénopathie" is the term "adenopathie"). A French term with a head word ("douleur",
    "cancer") runs on over its complements: "douleur scapulaire gauche", "cancer du sein droit de stade IIA"."""
    forms, prefixes = _term_index(language)
    spans = [(s0, e0) for _, s0, e0, phrase in longest_phrases(lookup_words(text), forms, prefixes) if phrase]
    if language != "fr":
        return spans
    heads, bare = _heads()
    extended = []
    acronyms = _acronyms()
    for s0, e0 in spans:
        if fold_accents(text[s0:e0].lower()) in acronyms and not text[s0:e0].isupper():
            continue  # "ait" is a verb, "AIT" a transient ischaemic attack
        words = fold_accents(text[s0:e0].lower()).split()
        if any(w in heads for w in words):
            e0 = _complements_end(text, e0)
        if fold_accents(text[s0:e0].lower()) not in bare:
            extended.append((s0, e0))
    return extended


@cache
def _acronyms() -> frozenset[str]:
    return frozenset(fold_accents(a.lower()) for a in load("fr", "problems").get("acronyms", ()))


@cache
def _heads() -> tuple[frozenset[str], frozenset[str]]:
    data = load("fr", "problems")
    return frozenset(fold_accents(h) for h in data.get("heads", ())), frozenset(
        fold_accents(h) for h in data.get("bare_heads_not_problems", ())
    )


_FR_PREPOSITION = (
    r"(?:de la|de l['’]|des|du|de son|de sa|de ses|de|d['’]|à la|à l['’]|au|aux|à son|à sa|à ses|à|en"
    r"|dans l['’]|dans le|dans la|dans les|dans son|dans sa|dans ses|sur l['’]|sur le|sur la|sur les|sur son|sur sa)"
)
_FR_COMPLEMENT = re.compile(rf"[ \u00a0]+(?:(?P<prep>{_FR_PREPOSITION})[ \u00a0]*)?(?P<word>[^\W\d_][\w'’-]*)", re.I)
_FR_STAGE = re.compile(r"[ \u00a0]+(?:[IVX]+[A-Ca-c]?|\d{1,2}[A-Ca-c]?)(?![\w])")
_FR_STOP = frozenset(  # compared unaccented, as the words are
    fold_accents(w)
    for w in "et ou mais qui que qu dont depuis pendant après avant lors chez pour par avec sans comme car est sont"
    " était étaient a ont avait avaient il elle ils elles on nous je ce cette cet ces le la les un une secondaire"
    " secondaires compatible compatibles probablement notée noté notés notées associée associé associés mesurant"
    " selon ainsi aussi également toujours encore actuellement maintenant aujourd hier récemment ni non pas plus"
    " très assez peu bien tout toute tous toutes sinon alors puis lorsque quand si sous vers jusqu entre contre"
    " malgré y se s sa son ses leur leurs qui ayant étant été depuis environ lié liée liés liées due dû dus dues"
    " suivi suivie traité traitée prouvé prouvée diagnostiqué diagnostiquée connu connue connus"
    " x1 x2 x3 x4".split()
)
_MAX_COMPLEMENT_WORDS = 6


def _complements_end(text: str, end: int) -> int:
    """Where a French head term's complements end: adjectives and prepositional phrases after it, up to a stop
    word, a punctuation mark or six words ("douleurs au milieu et au bas..." stops at "et")."""
    for _ in range(_MAX_COMPLEMENT_WORDS):
        m = _FR_COMPLEMENT.match(text, end)
        if not m or fold_accents(m.group("word").lower().strip("'’")) in _FR_STOP:
            break
        if m.group("word")[0].isupper() and not m.group("prep"):
            break  # a capitalised word without a preposition starts something else
        end = m.end()
        if m.group("word").lower() in ("stade", "grade", "type") and (stage := _FR_STAGE.match(text, end)):
            end = stage.end()
    return end


@cache
def problem_terms(language: str) -> frozenset[str]:
    """The lexicon's problem terms, lower case."""
    return frozenset(t.lower() for t in load(language, "problems")["terms"])


def find_problems(text: str, language: str, sections: list[Section]) -> list[Problem | Finding]:
    """Problem facts, longest span first where candidates overlap; in the examination, findings."""
    triggers, tagged, not_problems, list_sections = _rules(language)
    spans: list[tuple[int, int, float]] = []  # (start, end, confidence)
    if tagged:
        for m in tagged.finditer(text):
            start = _item_start(text, m.start(), triggers)
            spans.append((start, _strip_end(text, start, m.start()), 0.9))
    for m in triggers.finditer(text):
        section = section_at(sections, m.start())  # titles are disjoint: only this section's can hold it
        # "history of" inside "HISTORY OF PRESENT ILLNESS:" is a title; "Diagnosis:" as a whole header lists
        inside_title = section is not None and section.start <= m.start() < section.body_start
        inside_title = inside_title and section is not None and m.end() < section.body_start - 1
        if inside_title or (section and section.name in _skipped(language)):
            continue
        spans += _list_items(text, m.end(), not_problems, language)
    terms = sorted((s0, e0, _TERM_CONFIDENCE) for s0, e0 in _term_spans(text, language))
    term_starts = [t[0] for t in terms]
    for section in sections:
        if section.name in list_sections:
            # an item naming a lexicon term is that term ("Community acquired pneumonia" → pneumonia);
            # an item the lexicon lacks is taken whole ("Recurrent bladder tumor")
            items = _section_items(text, section, not_problems, language)
            spans += [i for i in items if not _holds_a_term(i, terms, term_starts)]
    spans += terms
    return _to_facts(text, language, sections, _non_overlapping(spans), not_problems)


def _section_items(text: str, section: Section, not_problems: set[str], language: str) -> list[tuple[int, int, float]]:
    """Items of a problem-list section: one a line, or separated by commas and stops when inline."""
    body = text[section.body_start : section.end]
    if "\n" in body.strip():
        bounds = []
        for m in _BULLET_LINE.finditer(text, section.body_start, section.end):
            relative = _RELATIVE.match(m.group("item"))
            bounds.append((m.start("item") + (len(relative.group(0)) if relative else 0), m.end("item")))
    else:
        bounds, position = [], section.body_start
        for split in [*_INLINE_ITEM_SPLIT.finditer(text, section.body_start, section.end), None]:
            bounds.append((position, split.start() if split else section.end))
            position = split.end() if split else section.end
    items = []
    for s0, e0 in bounds:
        while s0 < e0 and text[s0].isspace():
            s0 += 1
        if relative := _RELATIVE.match(text[s0:e0]):  # "Brother: myocardial infarction"
            s0 += len(relative.group(0))
        if cleaned := _clean_item(text, s0, e0, not_problems, language):
            items.append((*cleaned, 0.7))
    return items


def _clean_item(
    text: str, start: int, end: int, not_problems: set[str], language: str = "en"
) -> tuple[int, int] | None:
    """A list item as a problem span: numbering, lead-in words and codes dropped; prose, procedures,
    measurements and non-problems rejected."""
    item = text[start:end]
    lead = re.match(r"[\s\d.)•*-]*", item)
    start += lead.end() if lead else 0
    lead_in = _FR_LEAD_IN if language == "fr" else _LEAD_IN
    while (m := lead_in.match(text[start:end])) or (m := _trigger_lead(language).match(text[start:end])):
        start += m.end()  # "Denies chest pain": the trigger stays outside the span, where ConText reads it
        if not m.end():
            break
    if cut := _TAIL_CLAUSE.search(text, start, end):  # "Esophageal stricture status post dilatation"
        end = cut.start()
    if m := re.search(r"\bfor\s+(?=\S)", text[start:end]):
        if _PROCEDURE.search(text, start, start + m.start()):  # "status post thyroidectomy for thyroid carcinoma"
            start += m.end()
    item = text[start:end]
    code = _CODE.search(item)
    end = start + (code.start() if code else len(item))
    end = _strip_end(text, start, end)
    while end > start and text[end - 1] in ".,;:":
        end -= 1
    phrase = text[start:end]
    words = phrase.split()
    if not words or len(words) > _MAX_ITEM_WORDS or not phrase[0].isalpha():
        return None
    not_first, verbs = (_FR_NOT_FIRST, _FR_VERBS) if language == "fr" else (_NOT_FIRST, _VERBS)
    if phrase.lower() in not_problems or words[0].lower().split("'")[0] in not_first or _MEASURE.search(phrase):
        return None
    if language != "fr" and (_NOT_A_PROBLEM.search(phrase) or _EN_NOT_A_PROBLEM.match(phrase)):
        return None
    if _PROCEDURE.search(phrase) or re.match(r"(?:status post|s/p)\b", phrase, re.IGNORECASE):
        return None
    if all(w.lower().strip(".,;:'’") in _GENERIC_WORDS for w in words):
        return None  # "present problems", "disease"
    if words[-1].lower().strip(".,;:") in _drug_classes(language):
        return None  # "epidural steroids", "nonsteroidals": a treatment tried, not a problem
    drugs = find_drug_names(text, start, end)
    if any(w.lower().strip(".,;:'’") in verbs for w in words) or (drugs and drugs[0][:2] == (start, end)):
        return None  # a clause ("TSH is mildly suppressed") or a treatment ("chemotherapy with cisplatin")
    return start, end


@cache
def _drug_classes(language: str) -> frozenset[str]:
    """Drug classes and generic treatment words of the drug lexicon ("steroids", "narcotics")."""
    data = load(language, "drugs")
    return frozenset(w.lower() for key in ("_not_drugs", "_not_medications") for w in data.get(key, []))


def _item_start(text: str, end: int, triggers: re.Pattern[str]) -> int:
    delimiters = [m.end() for m in _DELIMITER.finditer(text, max(0, end - 150), end)]
    start = delimiters[-1] if delimiters else max(0, end - 150)
    inner = [m.end() for m in triggers.finditer(text, start, end)]
    start = inner[-1] if inner else start
    while start < end and text[start].isspace():
        start += 1
    return start


def _strip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _list_items(text: str, start: int, not_problems: set[str], language: str) -> list[tuple[int, int, float]]:
    stop = re.compile(r"[.\n:]").search(text, start)
    end = stop.start() if stop else len(text)
    items = []
    position = start
    for m in [*_DELIMITER.finditer(text, start, end), None]:
        item_end = m.start() if m else end
        e0 = len(re.sub(r"\s*\((?:disorder|finding)\)\s*$", "", text[position:item_end], flags=re.I)) + position
        cleaned = _clean_item(text, position, e0, not_problems, language)
        if cleaned and len(text[cleaned[0] : cleaned[1]].split()) <= 5 and not _DIGIT.search(text, *cleaned):
            items.append((*cleaned, 0.7))
        position = m.end() if m else end
    return items


def _item_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The comma-separated item around ``text[start:end]``."""
    before = max((m.end() for m in _ITEM_STOP.finditer(text, max(0, start - 200), start)), default=0)
    after = _ITEM_STOP.search(text, end)
    return before, after.start() if after else len(text)


def _holds_a_term(item: tuple[int, int, float], terms: list[tuple[int, int, float]], starts: list[int]) -> bool:
    """Whether a term lies inside ``item``: only terms starting within it are looked at (bisection)."""
    first, last = bisect_left(starts, item[0]), bisect_left(starts, item[1])
    return any(t[1] <= item[1] for t in terms[first:last])


def _non_overlapping(spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Longest spans first, each kept unless it overlaps one kept: kept spans are disjoint, so sorted by
    start their neighbours alone can overlap a new one (bisection: n log n, not n² on a long text)."""
    kept: list[tuple[int, int, float]] = []  # sorted by start
    starts: list[int] = []
    for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        at = bisect_right(starts, span[0])
        if at > 0 and kept[at - 1][1] > span[0]:
            continue
        if at < len(kept) and kept[at][0] < span[1]:
            continue
        kept.insert(at, span)
        starts.insert(at, span[0])
    return kept


def _to_facts(
    text: str, language: str, sections: list[Section], spans: list[tuple[int, int, float]], not_problems: set[str]
) -> list[Problem | Finding]:
    context = context_for(language)
    facts: list[Problem | Finding] = []
    for start, end, confidence in spans:
        section = section_at(sections, start)
        name = section.name if section else None
        phrase = text[start:end]
        line_start = max(text.rfind("\n", 0, start) + 1, sentence_bounds(text, start, end)[0])
        listed = name in _rules(language)[3]
        if _NOT_A_CONDITION.match(text, end):
            continue  # "depression screening", "influenza vaccine": a procedure named after a problem
        read = language != "fr" and name in RESULT_SECTIONS and confidence == _TERM_CONFIDENCE
        if (name in _skipped(language) and not read) or "allerg" in text[line_start:start].lower():
            continue
        if language != "fr" and _IMMUNIZATION_BEFORE.search(text, line_start, start):
            continue  # "Immunizations updated with hepatitis B": a vaccine, not the disease
        if phrase.lower() in not_problems:
            continue
        assertion = context.assertion(text, start, end, name, _item_bounds(text, start, end) if listed else None)
        if name == "family_history" and assertion is Assertion.ABSENT:
            continue  # "no family history of cancer": a negated family history is not annotated (the conventions)
        kind = Finding if name in FINDING_SECTIONS | RESULT_SECTIONS else Problem
        facts.append(
            kind(
                label=phrase,
                text=phrase,
                section=name,
                assertion=assertion,
                evidence=Evidence(start=start, end=end, text=phrase),
                confidence=confidence,
            )
        )
    return facts
