"""Which pages each role sees. Services check the role again: hiding is not protection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from components.i18n import N_, _
from medspeak.auth.roles import Role

_PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    roles: frozenset[Role]
    section: str


_CLINICAL = frozenset({Role.CLINICIAN})
_STAYS = frozenset({Role.CLINICIAN, Role.BED_MANAGER})
_ADMIN = frozenset({Role.ADMIN})
# Titles and sections in English, marked for the catalogue; shown in the user's language.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("home.py", N_("Home"), ":material/home:", frozenset(Role), N_("Overview")),
    PageSpec("demo.py", N_("Demo"), ":material/slideshow:", frozenset(Role), N_("Overview")),
    PageSpec("patients.py", N_("Patients"), ":material/patient_list:", _STAYS, N_("Patients")),
    PageSpec("documents.py", N_("Documents"), ":material/description:", _CLINICAL, N_("Patients")),
    PageSpec("triage.py", N_("Triage"), ":material/emergency:", _CLINICAL, N_("Emergency")),
    PageSpec("ed_queue.py", N_("ED queue"), ":material/queue:", _CLINICAL, N_("Emergency")),
    PageSpec("los.py", N_("Length of stay"), ":material/timer:", _STAYS, N_("Patients")),
    PageSpec("beds.py", N_("Beds"), ":material/bed:", _STAYS, N_("Beds")),
    PageSpec(
        "admin.py", N_("Administration"), ":material/admin_panel_settings:", frozenset({Role.ADMIN}), N_("System")
    ),
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
        page = st.Page(_PAGES_DIR / spec.file, title=_(spec.title), icon=spec.icon, default=spec.file == "home.py")
        sections.setdefault(_(spec.section), []).append(page)
    if denied is not None:
        for spec in (p for p in PAGES if p not in allowed):
            sections.setdefault(_(spec.section), []).append(
                st.Page(
                    _denied_page(spec, denied),
                    title=_(spec.title),
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
