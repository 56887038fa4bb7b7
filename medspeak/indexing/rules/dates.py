"""Dates as documents write them: ISO, day/month/year, month names (EN, FR); parsed only when unambiguous.

``DATE`` finds a written date (with an optional clock time); ``parse_date`` reads it as a calendar date.
Slashed dates are day first in French and month first in English (the US reports of MTSamples),
unless the first number cannot be a month (with no language, such a date is left unparsed); two-digit
years are left unparsed (which century?).
"""

from __future__ import annotations

import re
from datetime import date

__all__ = ["DATE", "parse_date"]

_EN_MONTHS = "january february march april may june july august september october november december".split()
_FR_MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
_MONTHS = {
    **{m: i for i, m in enumerate(_EN_MONTHS, 1)},
    **{m[:3]: i for i, m in enumerate(_EN_MONTHS, 1)},
    **{m: i for i, m in enumerate(_FR_MONTHS, 1)},
    "sept": 9,
    "fevrier": 2,
    "aout": 8,
    "decembre": 12,
}
_MONTH_WORD = (
    r"(?:jan(?:uary|vier)?|feb(?:ruary)?|f[ée]vrier|mar(?:ch|s)?|apr(?:il)?|avril|may|mai|june?|juin|july?|juillet"
    r"|aug(?:ust)?|ao[uû]t|sept?(?:ember|embre)?|oct(?:ober|obre)?|nov(?:ember|embre)?|dec(?:ember)?|d[ée]cembre)\.?"
)
_TIME = r"(?:[ T]\d{1,2}[:h]\d{2})?"
DATE = re.compile(
    rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}{_TIME}"
    rf"|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}{_TIME}"
    rf"|\d{{1,2}}(?:er)? {_MONTH_WORD} \d{{4}}"
    rf"|{_MONTH_WORD} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})(?![\w/-])",
    re.IGNORECASE,
)


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(written: str, language: str = "en") -> date | None:
    """The calendar date of ``written`` (a ``DATE`` match), or ``None`` when it is ambiguous or invalid."""
    text = written.strip().lower()
    if m := re.match(r"(\d{4})-(\d{2})-(\d{2})", text):
        return _safe(int(m[1]), int(m[2]), int(m[3]))
    if m := re.match(r"(\d{1,2})/(\d{1,2})/(\d{4})\b", text):
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        if language not in ("en", "fr") and a <= 12 and b <= 12 and a != b:
            return None  # "03/04/2026" with no language to tell March from April
        day_first = language == "fr" or a > 12
        return _safe(year, b, a) if day_first else _safe(year, a, b)
    words = re.findall(r"[^\W\d_]+|\d+", text)
    numbers = [int(w) for w in words if w.isdigit()]
    months = [_MONTHS[w] for w in words if w in _MONTHS]
    if len(numbers) == 2 and months and numbers[1] > 31:
        return _safe(numbers[1], months[0], numbers[0])
    return None
