"""How a patient is named and aged everywhere: lists, headers, the queue, the record's identity checks."""

from __future__ import annotations

from datetime import date
from typing import Final

from medspeak.i18n import N_

__all__ = ["SEX_WORDS", "age_on", "display_name"]

# A patient's sex as stored -> as a page shows it (the catalogue translates it).
SEX_WORDS: Final = {"female": N_("female"), "male": N_("male"), "unknown": N_("unknown")}


def display_name(family_name: str, given_name: str) -> str:
    """``DUBOIS, Marie``: the family name in capitals first, as wristbands and lists write it."""
    return f"{family_name.upper()}, {given_name}"


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on ``day`` (a 29 February birthday counts from 1 March in other years)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
