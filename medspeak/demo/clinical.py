"""Keeping the drugs of a record consistent with its allergies and with the setting (ward or home)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from medspeak.demo.catalog import PENICILLINS

__all__ = ["allowed_allergies", "discharge_drugs", "safe_drugs"]

# Drugs each allergy forbids; aspirin shares the bronchospasm of an NSAID allergy.
_FORBIDDEN: Final = {"penicillin": PENICILLINS, "ibuprofen": frozenset({"ibuprofen", "aspirin"})}
_SUBSTITUTE: Final = {
    "amoxicillin_clavulanate": "doxycycline",
    "piperacillin_tazobactam": "meropenem",
    "ibuprofen": "paracetamol",
    "aspirin": "clopidogrel",
}
# Hospital-only drugs switched to an oral equivalent (or stopped: None) at discharge.
_STEP_DOWN: Final[dict[str, str | None]] = {
    "piperacillin_tazobactam": "amoxicillin_clavulanate",
    "meropenem": "doxycycline",
    "pantoprazole_iv": "pantoprazole",
    "enoxaparin": None,
}


def allowed_allergies(home_drugs: Iterable[str], candidates: Iterable[str]) -> list[str]:
    """The allergies a patient can have without a home drug that it forbids."""
    home = set(home_drugs)
    return [a for a in candidates if not home & _FORBIDDEN.get(a, frozenset())]


def safe_drugs(drugs: Iterable[str], allergies: Iterable[str]) -> tuple[str, ...]:
    """Replace each drug an allergy forbids by its alternative; keep order, drop repeats."""
    forbidden: set[str] = set()
    for allergy in allergies:
        forbidden |= _FORBIDDEN.get(allergy, frozenset())
    chosen: list[str] = []
    for drug in drugs:
        if drug in forbidden:
            drug = _SUBSTITUTE[drug]
        if drug not in chosen:
            chosen.append(drug)
    return tuple(chosen)


def discharge_drugs(home: Iterable[str], acute: Iterable[str], allergies: Iterable[str]) -> tuple[str, ...]:
    """Home drugs plus the visit's drugs in a form taken at home."""
    allergies = tuple(allergies)
    oral = [_STEP_DOWN.get(d, d) for d in safe_drugs(acute, allergies)]
    return safe_drugs([*home, *(d for d in oral if d is not None)], allergies)
