"""A document being written: its lines and the structured truth of what those lines state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from medspeak.demo.dataset import DemoPatient
from medspeak.demo.phrases import (
    ADDRESS,
    HOSPITAL,
    allergy_lines,
    format_date,
    format_datetime,
    label,
    medication_line,
    vitals_line,
)

__all__ = ["Note"]


class Note:
    """Lines of text plus ``truth``: medications, problems, allergies, vitals, labs and orders stated."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.lines: list[str] = []
        self.truth: dict[str, Any] = {
            "medications": [],
            "problems": [],
            "allergies": [],
            "nkda": False,
            "vitals": {},
            "labs": [],
            "orders": [],
        }

    def text(self) -> str:
        return "\n".join(self.lines).strip() + "\n"

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def header(self, title: str, patient: DemoPatient, when: datetime, *, with_time: bool = False) -> None:
        lang = self.language
        stamp = format_datetime(when, lang) if with_time else format_date(when, lang)
        age = patient.age_on(when.date())
        self.add(
            HOSPITAL.text(lang),
            ADDRESS.text(lang),
            "",
            title.upper(),
            "",
            f"{label('patient', lang)}: {patient.given_name} {patient.family_name}",
            f"{label('mrn', lang)}: {patient.mrn}",
            f"{label('dob', lang)}: {format_date(patient.birth_date, lang)} ({age} {label('years', lang)}, "
            f"{label('sex.' + patient.sex, lang)})",
            f"{label('date', lang)}: {stamp}",
        )

    def section(self, key: str, *lines: str) -> None:
        self.add("", label(key, self.language), *lines)

    def medications(self, drugs: tuple[str, ...], *, bullet: str = "- ") -> list[str]:
        """Medication lines (recorded in the truth once each); ``None`` wording when empty."""
        if not drugs:
            return [label("none", self.language)]
        lines = []
        for drug in drugs:
            line, truth = medication_line(drug, self.language)
            if truth not in self.truth["medications"]:
                self.truth["medications"].append(truth)
            lines.append(f"{bullet}{line}")
        return lines

    def allergies(self, allergies: tuple[str, ...]) -> list[str]:
        lines, truth = allergy_lines(allergies, self.language)
        self.truth["allergies"] = truth
        self.truth["nkda"] = not allergies
        return lines

    def vitals(self, vitals: dict[str, Any]) -> str:
        line, shown = vitals_line(vitals, self.language)
        self.truth["vitals"] = shown
        return line

    def problem(self, text: str, assertion: str) -> str:
        """Record a problem stated in the text (present, absent, possible or family)."""
        entry = {"text": text, "assertion": assertion}
        if entry not in self.truth["problems"]:
            self.truth["problems"].append(entry)
        return text
