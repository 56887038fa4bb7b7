"""Which pages each role sees. Services check the role again: hiding is not protection."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from medspeak.auth.roles import Role

_PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    roles: frozenset[Role]
    section: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("home.py", "Home", ":material/home:", frozenset(Role), "Overview"),
    PageSpec(
        "patients.py", "Patients", ":material/patient_list:", frozenset({Role.CLINICIAN, Role.BED_MANAGER}), "Patients"
    ),
    PageSpec("documents.py", "Documents", ":material/description:", frozenset({Role.CLINICIAN}), "Patients"),
    PageSpec("triage.py", "Triage", ":material/emergency:", frozenset({Role.CLINICIAN}), "Emergency"),
    PageSpec("ed_queue.py", "ED queue", ":material/queue:", frozenset({Role.CLINICIAN}), "Emergency"),
    PageSpec("los.py", "Length of stay", ":material/timer:", frozenset({Role.CLINICIAN, Role.BED_MANAGER}), "Patients"),
    PageSpec("beds.py", "Beds", ":material/bed:", frozenset({Role.BED_MANAGER, Role.CLINICIAN}), "Beds"),
    PageSpec("admin.py", "Administration", ":material/admin_panel_settings:", frozenset({Role.ADMIN}), "System"),
)


def specs_for(role: str) -> list[PageSpec]:
    try:
        r = Role(role)
    except ValueError:
        return []
    return [p for p in PAGES if r in p.roles]


def pages_for(role: str) -> dict[str, list[st.Page]]:
    """``st.navigation`` input: the role's pages grouped by section, Home first."""
    sections: dict[str, list[st.Page]] = {}
    for spec in specs_for(role):
        page = st.Page(_PAGES_DIR / spec.file, title=spec.title, icon=spec.icon, default=spec.file == "home.py")
        sections.setdefault(spec.section, []).append(page)
    return sections
