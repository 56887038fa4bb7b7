"""A triage proposal as the nurse sees it: level, probabilities, rules fired, why, pathway, missing inputs.

The proposal never hides its inputs, its model version or its explanation. Session-state keys
owned here: ``triage.override_level``, ``triage.override_reason``, ``triage.rationale``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from components import shap_chart
from medspeak.triage import rationale
from medspeak.triage.levels import LEVELS
from medspeak.triage.service import TriageResult


def _badge(result: TriageResult) -> None:
    level = result.level
    wait = "immediately" if level.max_wait_minutes == 0 else f"within {level.max_wait_minutes} min"
    st.markdown(
        f"<div style='background:{level.colour};color:white;padding:0.8rem 1rem;border-radius:0.5rem;"
        f"font-size:1.4rem'><b>Level {level.number} · {level.name}</b> · see {wait}</div>",
        unsafe_allow_html=True,
    )
    if result.model_level != level.number:
        st.caption(f"The model proposed level {result.model_level}; the safety rules below made it more urgent.")


def _rules(result: TriageResult) -> None:
    st.subheader("Safety rules fired")
    if not result.rules_fired:
        st.write("No safety rule fired.")
        return
    for rule in result.rules_fired:
        st.warning(f"**{rule.name}** → level {rule.level} at most ({rule.threshold}). Source: {rule.source}")


def _pathway(result: TriageResult) -> None:
    st.subheader("Pathway")
    p = result.pathway
    if p is None:
        st.write("The complaint matches no pathway closely enough.")
        return
    st.write(f"**{p['label']}** → {p['department']} (similarity {p['similarity']:.2f})")
    for action in p["first_actions"]:
        st.markdown(f"- {action}")
    st.caption(f"Source: {p['source']}")


def _inputs(result: TriageResult) -> None:
    st.subheader("Missing inputs")
    if result.missing:
        st.write(", ".join(f"{k.replace('_', ' ')} (weight {v:.2f})" for k, v in result.missing.items()))
    else:
        st.write("None: every input was recorded.")
    with st.expander("Inputs used and model version"):
        st.json(result.inputs.to_dict())
        st.caption(f"Model {result.model_version}")


def _in_words(result: TriageResult) -> None:
    """An optional rationale from the indexing's language model, asked for after the level is final."""
    with st.expander("In words (language model, optional)"):
        model, why_not = rationale.language_model()
        if model is None:
            st.caption(why_not or "No language model is set up.")
            return
        if st.button("Write a rationale", key="triage.rationale"):
            with st.spinner("The language model is writing..."):
                words = rationale.rationale_for(result, model)
            if words.text:
                st.write(words.text)
                st.caption(f"Written by {words.backend} from the facts above only; it is not part of the decision.")
            else:
                st.info(words.refused)


def show(result: TriageResult, on_override: Callable[[int, str], Any] | None = None) -> None:
    """Draw the proposal; ``on_override(level, reason)`` is offered when the assessment was stored."""
    _badge(result)
    for warning in result.warnings:
        st.warning(warning)
    st.bar_chart(
        pd.DataFrame({"probability": list(result.probabilities.values())}, index=[f"L{k}" for k in LEVELS]),
        horizontal=True,
        height=200,
    )
    _rules(result)
    st.subheader("Why")
    shap_chart.show(result.explanation)
    _in_words(result)
    _pathway(result)
    _inputs(result)
    if on_override is not None:
        with st.form("triage.override"):
            st.subheader("Override")
            level = st.selectbox(
                "Level",
                list(LEVELS),
                format_func=lambda n: f"{n} · {LEVELS[n].name}",
                index=None,
                key="triage.override_level",
            )
            reason = st.text_input("Reason", key="triage.override_reason")
            if st.form_submit_button("Record override", key="triage.override_submit") and level is not None:
                on_override(level, reason)
