"""Register a patient (clinicians): one form, used by the Patients and Documents pages.

The form holds no store and no user: the page passes ``register`` (the patients service with the user's
context), which checks the role and audits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import streamlit as st

from components.i18n import _, error_text
from components.safe_text import md
from medspeak.errors import MedspeakError
from medspeak.services.patients import PatientSummary


def show(register: Callable[..., PatientSummary], *, key: str) -> PatientSummary | None:
    """Draw the form; return the patient when one was just registered.

    ``register(given_name=, family_name=, sex=, birth_date=, language=)`` registers the patient (it may
    raise ``MedspeakError``: shown here).
    """
    with st.form(key, clear_on_submit=True):
        c1, c2 = st.columns(2)
        given = c1.text_input(_("Given name"))
        family = c2.text_input(_("Family name"))
        sex = c1.selectbox(_("Sex"), ["female", "male", "unknown"])
        born = c2.date_input(
            _("Birth date"), value=date(1970, 1, 1), min_value=date(1900, 1, 1), max_value=date.today()
        )
        language = c1.selectbox(_("Language"), ["en", "fr"])
        if not st.form_submit_button(_("Register")):
            return None
    try:
        created = register(given_name=given, family_name=family, sex=sex, birth_date=born, language=language)
    except MedspeakError as exc:
        st.error(error_text(exc))
        return None
    st.success(_("Registered {name} ({mrn}).").format(name=md(created.name), mrn=md(created.mrn)))
    return created
