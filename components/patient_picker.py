"""Choose a patient by name or MRN: one search box and one list, the choice kept across reruns.

The choice lives in ``<key>.patient_id``. A choice made in code (a patient just registered, a test
setting the state) differs from what the list returned last time: the list is then drawn afresh
under a new widget key, as Streamlit keeps a keyed widget's own value over a changed ``index``.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.i18n import N_, _
from medspeak.services.patients import PatientSummary

Search = Callable[[str], list[PatientSummary]]
Lookup = Callable[[int], PatientSummary | None]


def label(p: PatientSummary) -> str:
    return f"{p.name} · {p.mrn} · {p.age} y"


def choose(key: str, patient_id: int | None) -> None:
    """Make ``patient_id`` the choice (for the next run of the page)."""
    st.session_state[f"{key}.patient_id"] = patient_id


def show(
    key: str,
    search: Search,
    lookup: Lookup,
    *,
    title: str,
    none_label: str,
    initial: int | None = None,
    search_label: str = N_("Patient (name or MRN)"),
) -> int | None:
    """Draw the search box and the list; return the chosen patient's id (None: no patient)."""
    st.session_state.setdefault(f"{key}.patient_id", initial)
    st.session_state.setdefault(f"{key}.version", 0)
    query = st.text_input(_(search_label), key=f"{key}.query", placeholder=_("e.g. Dubois"))
    options: dict[int | None, str] = {None: none_label}
    options.update({p.id: label(p) for p in search(query)})
    chosen = st.session_state[f"{key}.patient_id"]
    if chosen != st.session_state.get(f"{key}.shown", chosen):
        st.session_state[f"{key}.version"] += 1
    if chosen is not None and chosen not in options:
        found = lookup(chosen)
        if found is None:
            chosen = None
        else:
            options[chosen] = label(found)
    picked: int | None = st.selectbox(
        title,
        list(options),
        format_func=options.__getitem__,
        index=list(options).index(chosen),
        key=f"{key}.select.{st.session_state[f'{key}.version']}",
    )
    st.session_state[f"{key}.patient_id"] = st.session_state[f"{key}.shown"] = picked
    return picked
