"""Issue 19, finding 6: filenames and document-derived text are shown as text, never as Markdown.

Before: a filename holding ``![x](https:attacker.example)`` made the browser fetch a remote host when a
clinician opened the patient, and ``[Session expired: log in](https:evil.example)`` rendered as a link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from tests.support.jobs import wait_for_job as _wait

_HOSTILE = "![x](https:attacker.example) **Session expired** [log in](https:evil.example).txt"
_LIVE_MARKDOWN = re.compile(r"(?<!\\)\]\((?:https?:|//)|(?<!\\)\*\*Session")  # a link or image target, bold


def _markdown_strings(at: AppTest) -> list[str]:
    """Every string the page hands to Streamlit's Markdown renderer."""
    out: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "header", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(e.label) for e in at.expander]
    return out


def test_a_hostile_filename_is_shown_as_text_on_the_patient_and_documents_pages(
    ctx: AppContext, store: Store, actors: dict[str, Actor], login: Callable[..., AppTest]
) -> None:
    clinician = actors["clinician"]
    patient = patients.register_patient(
        store, clinician, given_name="Marie", family_name="Dupont", sex="female", birth_date=date(1950, 1, 1)
    )
    outcome = documents.upload(
        ctx,
        clinician,
        filename=_HOSTILE,
        content=b"Discharge summary\nMetoprolol 25 mg PO twice daily\n",
        patient_id=patient.id,
        kind="discharge_summary",
    )
    assert outcome.job_id is not None and _wait(store, clinician, outcome.job_id).status == "done"
    at = login("clinician")
    at.switch_page("pages/patients.py").run()
    at.query_params["patient"] = str(patient.id)
    at.run()
    assert not at.exception
    shown = _markdown_strings(at)
    assert any("attacker" in s for s in shown), "the filename is on the patient page"
    assert not [s for s in shown if _LIVE_MARKDOWN.search(s)]
    at.switch_page("pages/documents.py").run()
    at.session_state["documents.patient_id"] = patient.id
    at.session_state["documents.view_id"] = outcome.document_id
    at.run()
    assert not at.exception
    shown = _markdown_strings(at)
    assert any("attacker" in s for s in shown), "the filename is on the documents page"
    assert not [s for s in shown if _LIVE_MARKDOWN.search(s)]
