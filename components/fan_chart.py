"""Fan chart of a ward's occupied beds: 90 % and 50 % bands, median, capacity, beds in use today."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from components.i18n import _
from medspeak.services.beds import WardForecast

_BAND90 = "rgba(31, 119, 180, 0.18)"
_BAND50 = "rgba(31, 119, 180, 0.38)"


def figure(ward: WardForecast) -> go.Figure:
    """The plotly figure (kept separate from ``show`` so tests can read its traces)."""
    days = [d.day for d in ward.days]
    fig = go.Figure()
    bands = ((_("90 % band"), _BAND90, "p95", "p05"), (_("50 % band"), _BAND50, "p75", "p25"))
    for name, colour, upper, lower in bands:  # the upper edge unnamed, then the lower edge filled up to it
        fig.add_trace(
            go.Scatter(
                x=days,
                y=[getattr(d, upper) for d in ward.days],
                mode="lines",  # plotly marks each point of a short series with a dot unless told: no stray dots
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=days,
                y=[getattr(d, lower) for d in ward.days],
                mode="lines",
                fill="tonexty",
                fillcolor=colour,
                line={"width": 0},
                name=name,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=days,
            y=[d.p50 for d in ward.days],
            mode="lines+markers",
            name=_("Median: expected beds (one dot a night)"),
            line={"color": "#1f77b4"},
        )
    )
    # The ward's beds as a legend entry (a bare dashed line was explained only by a note at its end).
    fig.add_trace(
        go.Scatter(
            x=[days[0], days[-1]] if days else [],
            y=[ward.capacity, ward.capacity],
            mode="lines",
            name=_("Beds: {capacity}").format(capacity=ward.capacity),
            line={"color": "#d62728", "dash": "dash"},
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        title=_("{ward}: occupied beds at midnight").format(ward=ward.name),
        height=300,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        yaxis={"title": _("beds"), "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def show(ward: WardForecast) -> None:
    st.plotly_chart(figure(ward), key=f"beds.fan.{ward.code}", config={"displayModeBar": False})
