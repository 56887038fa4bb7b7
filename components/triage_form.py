"""The triage form: vitals, complaint, AVPU, pain, injury; prefilled from the record when there is one.

Session-state keys owned here: ``triage.f.<field>`` (one a field, ``triage.f.nurse_level`` for the nurse's
own level, entered before she sees medspeak's) and ``triage.prefilled_for``.
No bounds on the number inputs: the core checks plausibility and offers unit conversions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import streamlit as st

from components.i18n import N_, _
from medspeak.clinical.patients import SEX_WORDS
from medspeak.clinical.vitals import AVPU_WORDS, VITAL_KEYS, VitalSign, vital
from medspeak.triage.inputs import TRANSPORT_WORDS, TriageInputs
from medspeak.triage.levels import LEVELS
from medspeak.triage.plausibility import InputIssue


def _field(spec: VitalSign) -> tuple[str, str, str]:
    """(field, label, format) of a number input: the vitals spec's label, unit and decimals."""
    return spec.key, spec.form_label, spec.number_format


# Blood pressure is one text field (systolic/diastolic), below.
_NUMBERS = (
    *map(_field, map(vital, ("temperature_c", "heart_rate", "respiratory_rate", "spo2"))),
    ("age", N_("Age (years)"), "%.0f"),
    _field(vital("pain")),
)
_INJURY = {"yes": True, "no": False}


_NO_YES: Final = {"no": N_("no"), "yes": N_("yes")}
_SEX: Final = {key: SEX_WORDS[key] for key in ("female", "male")}  # triage inputs take these two


def _choice(column: Any, label: str, name: str, words: Mapping[str, str], help: str | None = None) -> None:  # noqa: A002
    """A select box of stored codes (``words``' keys), each shown as its translated word, empty until chosen."""
    column.selectbox(
        label,
        list(words),
        index=None,
        placeholder=_("not recorded"),
        format_func=lambda code: _(words[code]),
        help=help,
        key=_key(name),
    )


def _key(name: str) -> str:
    return f"triage.f.{name}"


def init(prefill: TriageInputs | None = None, source: Any = None, nurse_level: int | None = None) -> None:
    """Initialise the widgets once, or refill them when a different patient is opened.

    ``nurse_level``: the level given at the door for the open visit, when there is one (she may change it).
    """
    if prefill is not None and st.session_state.get("triage.prefilled_for") != source:
        st.session_state["triage.prefilled_for"] = source
        st.session_state[_key("nurse_level")] = nurse_level
        values = prefill.to_dict()
        for name, *_unused in _NUMBERS:
            st.session_state[_key(name)] = values[name]
        bp = (values["systolic_bp"], values["diastolic_bp"])
        st.session_state[_key("blood_pressure")] = f"{bp[0]:g}/{bp[1]:g}" if None not in bp else ""
        for name in ("transport_mode", "sex", "chief_complaint", "mental_status"):
            st.session_state[_key(name)] = values[name]
        for name in ("injury", "immunocompromised"):
            flag = values[name]
            st.session_state[_key(name)] = None if flag is None else ("yes" if flag else "no")
    for name, *_unused in _NUMBERS:
        st.session_state.setdefault(_key(name), None)
    for name in ("blood_pressure", "chief_complaint"):
        st.session_state.setdefault(_key(name), "")
    for name in ("transport_mode", "sex", "mental_status", "injury", "immunocompromised", "nurse_level"):
        st.session_state.setdefault(_key(name), None)


def accept(issue: InputIssue) -> None:
    """Button callback: put the offered conversion into the form."""
    if issue.field in ("systolic_bp", "diastolic_bp"):
        systolic, _, diastolic = str(st.session_state[_key("blood_pressure")]).partition("/")
        parts = {"systolic_bp": systolic, "diastolic_bp": diastolic}
        parts[issue.field] = f"{issue.converted:g}"
        st.session_state[_key("blood_pressure")] = f"{parts['systolic_bp']}/{parts['diastolic_bp']}".replace(" ", "")
    else:
        st.session_state[_key(issue.field)] = issue.converted


def show() -> dict[str, Any] | None:
    """Draw the form; on submit return the raw values (blanks as ``None``), else None."""
    with st.form("triage.form", border=True):
        c1, c2, c3 = st.columns(3)
        for i, (name, label, fmt) in enumerate(_NUMBERS):
            shown = vital(name).form_label_in(_) if name in VITAL_KEYS else _(label)
            (c1, c2, c3)[i % 3].number_input(shown, value=None, format=fmt, key=_key(name))
        c1.text_input(_("Blood pressure (mmHg)"), placeholder="142/88", key=_key("blood_pressure"))
        _choice(c2, _("Arrival"), "transport_mode", TRANSPORT_WORDS)
        _choice(c3, _("Sex"), "sex", _SEX)
        _choice(c1, _("Mental status (AVPU)"), "mental_status", AVPU_WORDS)
        _choice(c2, _("Injury"), "injury", _NO_YES)
        _choice(
            c3,
            _("Immunocompromised"),
            "immunocompromised",
            _NO_YES,
            help=_("chemotherapy, transplant, neutropenia, long-term steroids"),
        )
        st.text_input(_("Chief complaint"), placeholder=_("e.g. chest pain since 1 hour"), key=_key("chief_complaint"))
        st.selectbox(
            _("Your level (before you see medspeak's)"),
            list(LEVELS),
            format_func=lambda n: f"{n} · {_(LEVELS[n].name)}",
            index=None,
            placeholder=_("optional: the second reader checks it"),
            key=_key("nurse_level"),
        )
        if not st.form_submit_button(_("Propose a level"), type="primary", key="triage.submit"):
            return None
    values: dict[str, Any] = {name: st.session_state[_key(name)] for name, *_unused in _NUMBERS}
    for name in ("blood_pressure", "transport_mode", "sex", "chief_complaint", "mental_status"):
        values[name] = st.session_state[_key(name)]
    injury = st.session_state[_key("injury")]
    values["injury"] = None if injury is None else _INJURY[injury]
    immune = st.session_state[_key("immunocompromised")]
    values["immunocompromised"] = None if immune is None else _INJURY[immune]
    return values


def nurse_level() -> int | None:
    """The nurse's own level from the last submitted form (None when she gave none)."""
    level = st.session_state.get(_key("nurse_level"))
    return None if level is None else int(level)
