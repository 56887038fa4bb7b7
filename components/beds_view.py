"""Beds page widgets: what-if planned admissions, alerts, ward summary, likely discharges, back-test.

Session-state keys owned here: ``beds.whatif_ward``, ``beds.whatif_count``, ``beds.whatif_day``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.i18n import _
from medspeak.services.beds import (
    ALERT_THRESHOLD,
    ARRIVAL_WEEKS,
    LikelyDischarge,
    OccupancyForecast,
    PlannedElectives,
)

_MAX_ELECTIVES = 30


def what_if(wards: dict[str, str]) -> list[PlannedElectives]:
    """Sidebar controls: add N planned admissions to a ward on a day; returns the plan (empty when N = 0)."""
    for key, default in (
        ("beds.whatif_ward", next(iter(wards), "")),
        ("beds.whatif_count", 0),
        ("beds.whatif_day", 1),
    ):
        st.session_state.setdefault(key, default)
    with st.sidebar:
        st.subheader(_("What if"))
        st.selectbox(_("Ward"), list(wards), key="beds.whatif_ward", format_func=lambda code: _(wards.get(code, code)))
        st.number_input(
            _("Extra elective admissions"), min_value=0, max_value=_MAX_ELECTIVES, step=1, key="beds.whatif_count"
        )
        st.slider(_("Days from today"), min_value=1, max_value=14, key="beds.whatif_day")
    count = int(st.session_state["beds.whatif_count"])
    ward = str(st.session_state["beds.whatif_ward"])
    return [PlannedElectives(ward, count, int(st.session_state["beds.whatif_day"]))] if count and ward else []


def alerts(forecast: OccupancyForecast) -> None:
    """One error line per ward whose chance of running out of beds passes the threshold."""
    flagged = [w for w in forecast.wards if w.alert_days]
    for ward in flagged:
        first = ward.alert_days[0]
        st.error(
            _(
                "{name}: {p_exceed:.0%} chance of more patients than its {capacity} beds on "
                "{day:%a %d %b} (alert above {ALERT_THRESHOLD:.0%})."
            ).format(
                name=_(ward.name),
                p_exceed=first.p_exceed,
                capacity=ward.capacity,
                day=first.day,
                ALERT_THRESHOLD=ALERT_THRESHOLD,
            ),
            icon=":material/warning:",
        )
    if not flagged:
        st.success(
            _(
                "No ward passes a {ALERT_THRESHOLD:.0%} chance of running out of beds in the next {horizon_days} days."
            ).format(ALERT_THRESHOLD=ALERT_THRESHOLD, horizon_days=forecast.horizon_days)
        )


def _patients(expected: float) -> str:
    """An expected count of patients as a bed manager says it: "about 2", "fewer than 1" (not "0.4")."""
    return _("fewer than 1") if expected < 0.5 else _("about {n}").format(n=round(expected))


def summary(forecast: OccupancyForecast) -> None:
    """The ward list: beds, in use now, the day each ward is expected fullest and its riskiest day, tomorrow,
    the discharges expected, and the arrivals the forecast assumes."""
    rows = []
    for w in forecast.wards:
        tomorrow, peak, risky = w.days[0], w.peak_day, w.riskiest_day
        rows.append(  # which ward fills, and when, first: what a bed manager reads the list for
            {
                _("Ward"): _(w.name),
                _("Beds"): w.capacity,
                _("In beds now"): w.occupied_now,
                _("Peak day"): f"{peak.day:%a %d %b}",
                _("Expected peak (median beds)"): peak.p50,
                _("Highest chance of running out"): round(100 * risky.p_exceed, 1),
                _("On"): f"{risky.day:%a %d %b}" if risky.p_exceed > 0 else "",
                _("Expected discharges today"): _patients(w.discharges_today),
                _("Expected discharges tomorrow"): _patients(w.discharges_tomorrow),
                _("Tomorrow (median)"): tomorrow.p50,
                _("Tomorrow (90 % band)"): f"{tomorrow.p05}-{tomorrow.p95}",
                _("Admissions a day (assumed)"): round(w.arrivals_per_day, 1),
                _("Electives added"): w.electives_added,
            }
        )
    st.subheader(_("Wards"))
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        key="beds.summary",
        column_config={
            _("Highest chance of running out"): st.column_config.NumberColumn(format="%.1f %%"),
        },
    )
    st.caption(
        _(
            "Arrivals assumed: each ward's admissions of the last {weeks} weeks, weekday by weekday "
            "({per_day:.1f} a day in all wards), plus the what-if admissions; their stays last as the ward's "
            "stays of the last 90 days did. Discharges: each patient's chance of leaving, added up."
        ).format(weeks=ARRIVAL_WEEKS, per_day=sum(w.arrivals_per_day for w in forecast.wards))
    )


def likely_discharges(rows: list[LikelyDischarge] | None, limit: int = 15) -> None:
    if rows is None:
        return
    st.subheader(_("Patients likely to leave"))
    if not rows:
        st.info(_("Nobody is in a bed now."))
        return
    frame = pd.DataFrame(
        {
            _("Patient"): [r.name for r in rows[:limit]],
            _("MRN"): [r.mrn for r in rows[:limit]],
            _("Ward"): [_(r.ward_name or r.ward_code) for r in rows[:limit]],
            _("Today"): [round(100 * r.p_today) for r in rows[:limit]],
            _("By end of tomorrow"): [round(100 * r.p_by_tomorrow) for r in rows[:limit]],
            _("Expected discharge"): [r.expected_discharge.strftime("%a %d %b %H:%M") for r in rows[:limit]],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        key="beds.leaving",
        column_config={
            _("Today"): st.column_config.ProgressColumn(
                _("P(leaves today)"), format="%d %%", min_value=0, max_value=100
            ),
            _("By end of tomorrow"): st.column_config.ProgressColumn(
                _("P(leaves by tomorrow)"), format="%d %%", min_value=0, max_value=100
            ),
        },
    )


def backtest(figures: dict[str, Any]) -> None:
    """The figures a bed manager can check the forecast against (from the model's training run)."""
    st.subheader(_("How good is this forecast?"))
    occ, los = figures.get("occupancy"), figures.get("los")
    if not occ or not los:
        st.info(_("No evaluation figures: the model was not trained with `medspeak train los`."))
        return
    cols = st.columns(4)
    cols[0].metric(
        _("Census error (median, beds)"),
        f"{occ['mae_beds']:.2f}",
        help=_("Mean census {mean_census} beds").format(mean_census=occ["mean_census"]),
    )
    cols[1].metric(_("Inside the 90 % band"), f"{occ['coverage_90']:.0%}", help=_("Target 85-95 %"))
    cols[2].metric(
        _("Stay error (days)"),
        f"{los['mae_days']:.2f}",
        help=_("Baseline (median for all): {baseline_mae_days:.2f} days").format(
            baseline_mae_days=los["baseline_mae_days"]
        ),
    )
    cols[3].metric(_("Stays inside P10-P90"), f"{los['coverage_80']:.0%}", help=_("Target 75-85 %"))
    horizon = list(range(1, len(occ["mae_by_horizon"]) + 1))
    fig = go.Figure(go.Bar(x=horizon, y=occ["mae_by_horizon"], name=_("error (beds)")))
    fig.update_layout(
        title=_("Back-test: census error by days ahead"),
        height=260,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"title": _("days ahead")},
    )
    st.plotly_chart(fig, key="beds.backtest", config={"displayModeBar": False})
    st.caption(
        _(
            "Replay of the MIMIC-IV demo ({days} forecast days x {horizon_days} days ahead); "
            "length of stay by 5-fold cross-validation grouped by patient on {admissions} "
            "admissions. See models/los/MODEL_CARD.md."
        ).format(days=occ["days"], horizon_days=occ["horizon_days"], admissions=los["admissions"])
    )
