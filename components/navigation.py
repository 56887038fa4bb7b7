"""Which pages each role sees. Services check the role again: hiding is not protection."""

from __future__ import annotations

from collections.abc import Callable
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


def pages_for(role: str, denied: Callable[[PageSpec], None] | None = None) -> dict[str, list[st.Page]]:
    """``st.navigation`` input: the role's pages grouped by section, Home first.

    With ``denied``, every other page is registered too, hidden from the menu and never running its
    script: opening its address calls ``denied`` (which says so and audits the attempt) instead of
    Streamlit's "Page not found", which would tell a user the page does not exist.
    """
    sections: dict[str, list[st.Page]] = {}
    allowed = specs_for(role)
    for spec in allowed:
        page = st.Page(_PAGES_DIR / spec.file, title=spec.title, icon=spec.icon, default=spec.file == "home.py")
        sections.setdefault(spec.section, []).append(page)
    if denied is not None:
        for spec in (p for p in PAGES if p not in allowed):
            sections.setdefault(spec.section, []).append(
                st.Page(
                    _denied_page(spec, denied),
                    title=spec.title,
                    icon=spec.icon,
                    url_path=Path(spec.file).stem,
                    visibility="hidden",
                )
            )
    return sections


def _denied_page(spec: PageSpec, denied: Callable[[PageSpec], None]) -> Callable[[], None]:
    def show() -> None:
        denied(spec)

    show.__name__ = f"denied_{Path(spec.file).stem}"
    return show
