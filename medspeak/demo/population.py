"""Synthetic adult patients: identity, language, chronic problems with their drugs, allergies, family history.

Ages run 18-95, skewed older as in an emergency department (the KTAS sample's median age is 56,
interquartile range 36-71: Moon SH et al., PLOS ONE 2019, doi:10.1371/journal.pone.0216972, CC BY 4.0).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Final

from medspeak.demo.catalog import ALLERGIES, CHRONIC_CONDITIONS, FAMILY_HISTORY, Chronic
from medspeak.demo.clinical import allowed_allergies
from medspeak.demo.dataset import DemoPatient
from medspeak.demo.names import FAMILY_NAMES, GIVEN_NAMES

__all__ = ["make_patient"]

_FRENCH_SHARE: Final = 0.30  # French-speaking patients
_FEMALE_SHARE: Final = 0.48  # KTAS: 47.8 % female
_AGE_MIN, _AGE_SPAN = 18, 77  # 18-95 years
_AGE_BETA: Final = (2.0, 1.6)  # beta shape: median ~ 58 years
_ALLERGY_SHARE: Final = (0.72, 0.24, 0.04)  # none, one, two documented drug allergies
_RELATIVES: Final = ("father", "mother", "brother")
# A fictional public-plan country (MIMIC's US payers do not transfer): mostly public cover.
_INSURANCE: Final = {"public": 0.72, "public with private supplement": 0.20, "private": 0.05, "uninsured": 0.03}


def make_patient(rng: random.Random, mrn: str, today: date) -> DemoPatient:
    """One adult patient with a coherent history (drugs match problems, allergies spare home drugs)."""
    language = "fr" if rng.random() < _FRENCH_SHARE else "en"
    sex = "female" if rng.random() < _FEMALE_SHARE else "male"
    age = _AGE_MIN + int(_AGE_SPAN * rng.betavariate(*_AGE_BETA))
    birth_date = today - timedelta(days=int(age * 365.25) + rng.randrange(365))
    conditions = _chronic_conditions(rng, age, sex)
    home_drugs = tuple(dict.fromkeys(d for c in conditions for d in c.drugs))
    return DemoPatient(
        mrn=mrn,
        given_name=rng.choice(GIVEN_NAMES[(language, sex)]),
        family_name=rng.choice(FAMILY_NAMES[language]),
        sex=sex,
        birth_date=birth_date,
        language=language,
        chronic_problems=tuple(c.problem for c in conditions),
        home_drugs=home_drugs,
        allergies=_allergies(rng, home_drugs),
        family_history=_family_history(rng),
        insurance=rng.choices(list(_INSURANCE), weights=list(_INSURANCE.values()))[0],
    )


def _chronic_conditions(rng: random.Random, age: int, sex: str) -> list[Chronic]:
    # Older patients carry more chronic problems: up to 1 at 18, up to 4 from about 80.
    count = min(4, int(rng.random() * (1 + (age - _AGE_MIN) / 20)))
    pool = [c for c in CHRONIC_CONDITIONS if c.sex in (None, sex)]
    chosen: list[Chronic] = []
    while len(chosen) < count and pool:
        condition = rng.choices(pool, weights=[c.weight for c in pool])[0]
        chosen.append(condition)
        pool = [c for c in pool if c.problem != condition.problem]
    return chosen


def _allergies(rng: random.Random, home_drugs: tuple[str, ...]) -> tuple[str, ...]:
    count = rng.choices(range(len(_ALLERGY_SHARE)), weights=_ALLERGY_SHARE)[0]
    candidates = allowed_allergies(home_drugs, ALLERGIES)
    return tuple(rng.sample(candidates, min(count, len(candidates))))


def _family_history(rng: random.Random) -> tuple[tuple[str, str], ...]:
    count = rng.choice((0, 0, 1, 1, 2))
    relatives = rng.sample(_RELATIVES, count)
    return tuple((relative, rng.choice(sorted(FAMILY_HISTORY))) for relative in relatives)
