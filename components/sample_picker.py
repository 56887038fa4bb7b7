"""Try a sample: the demo's own documents, uploaded to the chosen patient in one click.

Session-state keys owned here: ``documents.sample`` (the sample chosen).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from components.i18n import _, language
from medspeak.services.samples import Sample


def show(samples: Sequence[Sample], *, patient_chosen: bool, upload: Callable[[str], None]) -> None:
    """A sample list with what each one shows, and its upload button (for a chosen patient only)."""
    with st.expander(_("Try a sample"), icon=":material/science:", expanded=st.query_params.get("sample") is not None):
        keys = [s.key for s in samples]
        wanted = st.query_params.get("sample")
        if wanted in keys and "documents.sample" not in st.session_state:
            st.session_state["documents.sample"] = wanted
        lang = language()  # the samples' titles are the generator's, in both languages
        titles = {s.key: s.title.text(lang) for s in samples}
        key = st.selectbox(_("Sample"), keys, format_func=titles.__getitem__, key="documents.sample")
        chosen = next(s for s in samples if s.key == key)
        st.caption(chosen.shows.text(lang))
        if not patient_chosen:
            st.caption(_("Choose a patient above: a sample is written for that patient."))
        if st.button(_("Upload the sample"), disabled=not patient_chosen, key="documents.sample_upload"):
            upload(key)
