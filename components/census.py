"""Ward census table: occupied and free beds against capacity."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.i18n import _
from medspeak.services.dashboard import WardCensus


def show(census: list[WardCensus]) -> None:
    if not census:
        st.info(_("No wards are defined yet."))
        return
    occupancy = _("Occupancy")
    frame = pd.DataFrame(
        {
            _("Ward"): [_(w.name) for w in census],
            _("Capacity"): [w.capacity for w in census],
            _("Occupied"): [w.occupied for w in census],
            _("Free"): [w.free for w in census],
            occupancy: [round(100 * w.occupancy, 1) for w in census],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            occupancy: st.column_config.ProgressColumn(occupancy, format="%.0f %%", min_value=0, max_value=100),
        },
    )
