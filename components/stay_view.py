"""LOS page widgets: choosing a stay, the prediction with its interval and drivers, and its history.

Session-state key owned here: ``los.encounter`` (the chosen stay).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.i18n import _, error_text, shown
from medspeak.errors import MedspeakError
from medspeak.services.stays import StayPrediction, StayRef, StayUpdate


def choose(stays: list[StayRef]) -> int | None:
    """A select box of the patients in a bed; a ``?encounter=`` link preselects one."""
    if not stays:
        st.info(_("Nobody is in a bed now."))
        return None
    ids = [s.encounter_id for s in stays]
    wanted = st.query_params.get("encounter")
    if "los.encounter" not in st.session_state or (wanted and wanted.isdigit() and int(wanted) in ids):
        st.session_state["los.encounter"] = (
            int(wanted) if wanted and wanted.isdigit() and int(wanted) in ids else ids[0]
        )
    labels = {s.encounter_id: f"{_(s.ward)} - {s.name} ({s.mrn})" for s in stays}
    st.selectbox(_("Patient in a bed"), ids, format_func=labels.__getitem__, key="los.encounter")
    return int(st.session_state["los.encounter"])


def prediction(p: StayPrediction) -> None:
    """Expected discharge with its 80 % interval, days so far, and the stay in days."""
    cols = st.columns([1.1, 1.5, 0.9, 1.0])  # the interval's two dates need the widest column (it was cut off)
    cols[0].metric(_("Expected discharge"), f"{p.discharge[1]:%a %d %b}", help=_("Median of the predicted stay"))
    cols[1].metric(_("80 % interval"), _interval(p), help=_("10th to 90th percentile"))
    cols[2].metric(_("Days in hospital"), f"{p.elapsed_days:.1f}")
    cols[3].metric(
        _("Predicted stay (days)"),
        f"{p.total_days[1]:.1f}",
        help=_("P10 {total_days:.1f}, P90 {total_days_:.1f}").format(
            total_days=p.total_days[0], total_days_=p.total_days[2]
        ),
    )
    if p.actual_days is not None:
        st.info(
            _("This stay is over: it lasted {actual_days:.1f} days. Shown: the prediction made at admission.").format(
                actual_days=p.actual_days
            )
        )
    reports = {
        0: _("no report written by then"),
        1: _("one report written by then"),
    }.get(p.reports_seen) or _("{reports_seen} reports written by then").format(reports_seen=p.reports_seen)
    st.caption(
        _(
            "Model {model_version}: predicted from what was known at admission "
            "({reports}), given {elapsed_days:.1f} days "
            "already in hospital; as of {as_of:%d %b %H:%M} UTC. Reports written since "
            "admission do not change it: on the back-test they did not improve it."
        ).format(model_version=p.model_version, reports=reports, elapsed_days=p.elapsed_days, as_of=p.as_of)
    )


def _interval(p: StayPrediction) -> str:
    """'12-19 Dec', or '28 Dec - 4 Jan' across a month: short enough for the metric not to cut it."""
    low, high = p.discharge[0], p.discharge[2]
    if (low.year, low.month) == (high.year, high.month):
        return f"{low:%d}-{high:%d %b}"
    return f"{low:%d %b} - {high:%d %b}"


def save(on_save: Callable[[], object] | None) -> None:
    """A clinician stores the prediction in the stay's history by an explicit act; reading it writes nothing."""
    if on_save is None:  # a bed manager plans with the prediction but writes nothing clinical
        return
    if st.button(_("Save to the stay's history"), icon=":material/save:", key="los.save"):
        try:
            on_save()
        except MedspeakError as exc:  # refused or the model unavailable: said on the page, nothing stored
            st.error(error_text(exc), icon=":material/error:")
        else:
            st.toast(_("Saved to the stay's history."))


def drivers(p: StayPrediction) -> None:
    """What lengthens or shortens this stay (SHAP), as a bar chart and in words."""
    st.subheader(_("Why"))
    if not p.drivers:
        st.write(_("No input moves this prediction away from the average stay."))
        return
    rows = list(reversed(p.drivers))
    fig = go.Figure(
        go.Bar(
            x=[d.effect_pct for d in rows],
            y=[shown(d.text) for d in rows],
            orientation="h",
            marker_color=["#d62728" if d.effect_pct > 0 else "#2ca02c" for d in rows],
        )
    )
    fig.update_layout(
        height=60 + 40 * len(rows),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": _("% change of the median stay")},
    )
    st.plotly_chart(fig, key="los.drivers", config={"displayModeBar": False})
    st.markdown("\n".join(f"- {shown(d.sentence)}" for d in p.drivers))


def history(updates: list[StayUpdate]) -> None:
    """Each stored prediction of this stay: when, after how many days in hospital, and the predicted stay."""
    st.subheader(_("History of updates"))
    if not updates:
        st.write(_("No earlier prediction."))
        return
    st.dataframe(
        pd.DataFrame(
            {
                _("When"): [u.created_at.strftime("%d %b %H:%M") for u in updates],
                _("Days in"): [round(u.elapsed_days, 1) for u in updates],
                _("Reports at admission"): [u.reports_seen for u in updates],
                _("P10"): [round(u.total_days[0], 1) for u in updates],
                _("Median stay"): [round(u.total_days[1], 1) for u in updates],
                _("P90"): [round(u.total_days[2], 1) for u in updates],
                _("Model"): [u.model_version for u in updates],
            }
        ),
        hide_index=True,
        width="stretch",
        key="los.history",
    )
