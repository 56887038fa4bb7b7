"""A triage proposal as the nurse sees it: the level, the critical alert beside it, the second reader's flag on
her own level, the rules fired, why (in probability points), pathway, missing inputs, and her decision.

The proposal never hides its inputs, its model version or its explanation. Session-state keys
owned here: ``triage.decision_level``, ``triage.decision_reason``, ``triage.rationale``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from components import shap_chart
from components.i18n import N_, _, shown
from medspeak.clinical.vitals import VITALS
from medspeak.services.rationale import Rationale
from medspeak.services.triage import TriageResult
from medspeak.triage.levels import LEVELS

VITAL_SPECS = {v.key: v for v in VITALS}


def _badge(result: TriageResult) -> None:
    level = result.level
    wait = (
        _("immediately")
        if level.max_wait_minutes == 0
        else _("within {minutes} min").format(minutes=level.max_wait_minutes)
    )
    st.markdown(
        _(
            "<div style='background:{colour};color:white;padding:0.8rem "
            "1rem;border-radius:0.5rem;font-size:1.4rem'><b>Level {number} · {name}</b> · see "
            "{wait}</div>"
        ).format(colour=level.colour, number=level.number, name=_(level.name), wait=wait),
        unsafe_allow_html=True,
    )
    if result.model_level != level.number:
        st.caption(
            _("The most probable level is {model_level}; the safety rules below made it more urgent.").format(
                model_level=result.model_level
            )
        )


def _alert(result: TriageResult) -> None:
    alert = result.alert
    if alert.raised:
        st.error(
            _("**Possible level 1-2**: P(level 1-2) {probability:.0%} (alert from {threshold:.0%})").format(
                probability=alert.probability, threshold=alert.threshold
            )
        )
        for reason in alert.reasons:
            st.text(f"• {shown(reason)}")
    else:
        st.info(
            _("No critical alert: P(level 1-2) {probability:.0%} (alert from {threshold:.0%})").format(
                probability=alert.probability, threshold=alert.threshold
            )
        )


def _flag(result: TriageResult) -> None:
    reading = result.second_reading
    if reading is None:
        st.caption(_("Enter your own level in the form to have the second reader check it."))
        return
    if reading.flagged:
        st.error(
            _("**Your level {nurse_level} may be too low**: medspeak shows level {suggested_level}. Why:").format(
                nurse_level=reading.nurse_level, suggested_level=reading.suggested_level
            )
        )
        for reason in reading.reasons:
            st.text(f"• {shown(reason)}")
        st.caption(
            _(
                "P(a level more urgent than {nurse_level}) {probability:.0%}; the second reader "
                "flags from {threshold:.0%}, or when a safety rule asks for a more urgent level."
            ).format(nurse_level=reading.nurse_level, probability=reading.probability, threshold=reading.threshold)
        )
    else:
        st.success(
            _(
                "Your level {nurse_level}: no flag (P(a more urgent level) {probability:.0%}, "
                "flag from {threshold:.0%})."
            ).format(nurse_level=reading.nurse_level, probability=reading.probability, threshold=reading.threshold)
        )


def _rules(result: TriageResult) -> None:
    st.subheader(_("Safety rules fired"))
    if not result.rules_fired:
        st.write(_("No safety rule fired."))
        return
    for rule in result.rules_fired:
        effect = (
            _("level {level} at most").format(level=rule.level)
            if rule.effect == "level"
            else _("raises the critical alert")
        )
        st.warning(
            _("**{name}** → {effect} ({threshold}). Source: {source}").format(
                name=_(rule.name), effect=effect, threshold=shown(rule.threshold), source=rule.source
            )
        )


def _pathway(result: TriageResult) -> None:
    st.subheader(_("Pathway"))
    p = result.pathway
    if p is None:
        st.write(_("The complaint matches no pathway closely enough."))
        return
    st.write(
        _("**{label}** → {department} (similarity {similarity:.2f})").format(
            label=_(p["label"]), department=_(p["department"]), similarity=p["similarity"]
        )
    )
    for action in p["first_actions"]:
        st.markdown(f"- {_(action)}")
    st.caption(_("Source: {source}").format(source=p["source"]))


def _inputs(result: TriageResult) -> None:
    st.subheader(_("Missing inputs"))
    if result.missing:
        worth = _("{input} ({points:.1f} points of P(level 1-2))")
        st.write(", ".join(worth.format(input=_label(k), points=v) for k, v in result.missing.items()))
    else:
        st.write(_("None: every input was recorded."))
    with st.expander(_("Inputs used and model version")):
        st.table(pd.DataFrame(input_rows(result.inputs.to_dict()), columns=[_("Input"), _("Value")]))
        st.caption(_("Model {model_version}").format(model_version=result.model_version))


_INPUT_LABELS: dict[str, str] = {
    "transport_mode": N_("Arrival"),
    "age": N_("Age (years)"),
    "sex": N_("Sex"),
    "chief_complaint": N_("Chief complaint"),
    "mental_status": N_("Mental status (AVPU)"),
    "pain": N_("Pain (/10)"),
    "injury": N_("Injury"),
    "immunocompromised": N_("Immunocompromised"),
}


def _label(key: str) -> str:
    """``SpO2 (%)``, ``Arrival``: an input's name as the form shows it, never its field name."""
    spec = VITAL_SPECS.get(key)
    return spec.form_label_in(_) if spec else _(_INPUT_LABELS.get(key, key.replace("_", " ").capitalize()))


def input_rows(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """The triage inputs as a nurse reads them: labels and units of the vitals spec, 'not recorded' for
    what was left empty (was the raw JSON with ``null``), yes/no, numbers with the vital's decimals."""
    rows = []
    for key, value in inputs.items():
        spec = VITAL_SPECS.get(key)
        label = _label(key)
        if value is None or value == "":
            shown = _("not recorded")
        elif isinstance(value, bool):
            shown = _("yes") if value else _("no")
        elif spec is not None and isinstance(value, int | float):
            shown = f"{value:.{spec.decimals}f}"
        elif isinstance(value, float):
            shown = f"{value:g}"
        else:
            shown = str(value)
        rows.append((label, shown))
    return rows


def _in_words(on_rationale: Callable[[], Rationale] | None, no_rationale: str | None) -> None:
    """An optional rationale from the indexing's language model, asked for after the level is final."""
    with st.expander(_("In words (language model, optional)")):
        if on_rationale is None:
            st.caption(_(no_rationale) if no_rationale else _("No language model is set up."))
            return
        if st.button(_("Write a rationale"), key="triage.rationale"):
            with st.spinner(_("The language model is writing...")):
                words = on_rationale()
            if words.text:
                st.write(words.text)
                st.caption(
                    _("Written by {backend} from the facts above only; it is not part of the decision.").format(
                        backend=words.backend
                    )
                )
            else:
                st.info(words.refused)


def show(
    result: TriageResult,
    on_decide: Callable[[int, str], Any] | None = None,
    on_rationale: Callable[[], Rationale] | None = None,
    no_rationale: str | None = None,
) -> None:
    """Draw the proposal; ``on_decide(level, reason)`` (the nurse's decision) is offered when it was stored,
    ``on_rationale()`` (words from a language model, through the audited service) when one is set up,
    else ``no_rationale`` says why not."""
    left, right = st.columns(2)
    with left:
        _badge(result)
    with right:
        _alert(result)
    _flag(result)
    if on_decide is not None:
        _decision(result, on_decide)
    for warning in result.warnings:
        st.warning(shown(warning))
    st.bar_chart(
        pd.DataFrame(
            {_("probability (%)"): [round(100 * p, 1) for p in result.probabilities.values()]},
            index=[_("Level {level}").format(level=k) for k in LEVELS],
        ),
        horizontal=True,
        height=200,
    )
    _rules(result)
    st.subheader(_("Why"))
    shap_chart.show(result.points)
    _in_words(on_rationale, no_rationale)
    _pathway(result)
    _inputs(result)


def _decision(result: TriageResult, on_decide: Callable[[int, str], Any]) -> None:
    reading = result.second_reading
    start = reading.nurse_level if reading is not None else result.level.number
    with st.form("triage.decision"):
        st.subheader(_("Your decision"))
        level = st.selectbox(
            _("Level"),
            list(LEVELS),
            index=list(LEVELS).index(start),
            format_func=lambda n: f"{n} · {_(LEVELS[n].name)}",
            key="triage.decision_level",
        )
        reason = st.text_input(
            _("Reason (needed when you keep a flagged level or choose a level less urgent than medspeak's)"),
            key="triage.decision_reason",
        )
        if st.form_submit_button(_("Record my decision"), type="primary", key="triage.decision_submit"):
            on_decide(int(level), reason)
