"""The Demo page's steps: what to show, what to say, and the link to the page with the patient chosen."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import streamlit as st

from components.i18n import N_, _
from medspeak.services.demo import DemoPatient

# Who can open each page, named for the presenter who must log in as them.
_STAYS = N_("a clinician or a bed manager")
_ROLE_FOR = {"admin.py": N_("an administrator"), "beds.py": _STAYS, "los.py": _STAYS, "patients.py": _STAYS}
_CLINICIAN = N_("a clinician")


@dataclass(frozen=True)
class Step:
    page: str  # file under pages/
    title: str  # English, marked N_: translated when shown
    say: str
    link: str
    query: dict[str, str] = field(default_factory=dict)


def steps(patient: DemoPatient | None) -> list[Step]:
    """The six steps; without a patient their links open the pages with nobody chosen."""
    who = {"patient": str(patient.patient_id)} if patient else {}
    stay = {"encounter": str(patient.stay_id)} if patient else {}
    return [
        Step(
            "documents.py",
            N_("1. Upload a sample"),
            N_(
                "“A French letter, scanned with no text layer: watch it being read, page by page, on this machine. "
                "Nothing leaves the hospital.”"
            ),
            N_("Open Documents with the French scan ready"),
            {**who, "sample": "fr-scanned-letter"},
        ),
        Step(
            "patients.py",
            N_("2. The record, with its evidence"),
            N_(
                "“Every medication, problem and allergy points to the words it was read from, on the page image; "
                "what has no evidence in the document is never shown as a fact.”"
            ),
            N_("Open the patient's record"),
            who,
        ),
        Step(
            "triage.py",
            N_("3. Triage with the second reader"),
            N_(
                "“The model proposes a level from the vitals and the complaint; the nurse's level stays hers, and "
                "the second reader flags where an under-triage may hide.”"
            ),
            N_("Open Triage for this patient"),
            who,
        ),
        Step(
            "los.py",
            N_("4. Length of stay"),
            N_("“The predicted stay comes with its range, its drivers and its model version: never a bare number.”"),
            N_("Open this patient's length of stay"),
            stay,
        ),
        Step(
            "beds.py",
            N_("5. Beds: what if"),
            N_(
                "“The bed manager sees fourteen days of occupancy per ward, then asks what if: more admissions, "
                "fewer beds, and the forecast redraws.”"
            ),
            N_("Open the bed forecast"),
        ),
        Step(
            "admin.py",
            N_("6. The audit trail"),
            N_(
                "“Every read and every change of this patient's data is recorded and chained; the security lead "
                "verifies that no row was changed or cut.”"
            ),
            N_("Open the audit trail for this patient"),
            {"tab": "audit", **who},
        ),
    ]


def show(items: Sequence[Step], allowed: Collection[str]) -> None:
    """Each step in its box: the sentence to say, and its link where the user's role opens that page."""
    for step in items:
        with st.container(border=True):
            st.markdown(f"**{_(step.title)}**")
            st.write(_(step.say))
            if step.page in allowed:
                st.page_link(
                    f"pages/{step.page}", label=_(step.link), icon=":material/arrow_forward:", query_params=step.query
                )
            else:
                role = _(_ROLE_FOR.get(step.page, _CLINICIAN))
                st.caption(_("Log in as {role} for this step.").format(role=role))
