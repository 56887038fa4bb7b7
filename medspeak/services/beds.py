"""The bed-occupancy forecast service: each ward's next days from the store, with what-if electives.

Needs ``READ_CENSUS``. Patients in a bed now get the length-of-stay model's at-admission
distribution, conditioned on the time they have already spent (``LosModel.in_bed``); arrivals per
weekday come from the last four weeks of admissions, and arrivals' stays from the ward's last 90
days (Kaplan-Meier). The list of patients likely to leave is given only to roles that may read
patients.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.clinical.patients import display_name
from medspeak.errors import ValidationFailed
from medspeak.i18n import N_
from medspeak.los.artifact import DEFAULT_DIR
from medspeak.los.distribution import StayDistribution
from medspeak.los.model import LosModel
from medspeak.los.occupancy import DayOutlook, Electives, WardInputs, census_moments, day_outlooks, occupancy_pmfs
from medspeak.los.sources import from_store
from medspeak.los.survival import Survival, kaplan_meier
from medspeak.services.audited import audited
from medspeak.services.read_models import ReadModel
from medspeak.store.models import Encounter, Patient, Ward
from medspeak.store.types import utcnow

if TYPE_CHECKING:
    from medspeak.services.context import AppContext

__all__ = [
    "ALERT_THRESHOLD",
    "ARRIVAL_WEEKS",
    "LikelyDischarge",
    "OccupancyForecast",
    "PlannedElectives",
    "WardForecast",
    "forecast_occupancy",
]

ALERT_THRESHOLD: Final = 0.2  # bed managers act when P(more patients than beds) passes 20 %
_ARRIVAL_WEEKS: Final = 4
ARRIVAL_WEEKS: Final = _ARRIVAL_WEEKS  # shown to the bed manager with the arrivals assumed
_STAY_HISTORY: Final = timedelta(days=90)
_MIN_ELECTIVE_STAYS: Final = 10  # fewer planned stays on file: use the ward's stays for electives
_MAX_HORIZON: Final = 28


@dataclass(frozen=True)
class PlannedElectives:
    """What-if: ``count`` extra planned admissions to ``ward_code`` on day ``day_offset`` (1 = tomorrow)."""

    ward_code: str
    count: int
    day_offset: int = 1


class LikelyDischarge(ReadModel):
    """A patient in a bed now and the chance they leave today, or by the end of tomorrow."""

    patient_id: int
    mrn: str
    name: str
    ward_code: str
    p_today: float = Field(description="P(discharged before midnight today), 0-1")
    p_by_tomorrow: float = Field(description="P(discharged before midnight tomorrow), 0-1")
    expected_discharge: datetime = Field(description="at the median of the predicted stay")
    ward_name: str = Field(default="", description="what a reader sees (the code is for filters and exports)")


class WardForecast(ReadModel):
    """One ward's next days: bands per day, capacity, expected discharges, alert."""

    code: str
    name: str
    capacity: int = Field(description="beds")
    occupied_now: int
    days: list[DayOutlook] = Field(description="occupied beds at each midnight census, tomorrow first")
    discharges_today: float = Field(description="expected number of discharges before midnight")
    discharges_tomorrow: float
    electives_added: int = Field(default=0, description="the what-if planned admissions added")
    arrivals_per_day: float = Field(
        default=0.0, description="the admissions a day the forecast assumes (last 4 weeks, weekday by weekday)"
    )

    @property
    def peak_p_exceed(self) -> float:
        return max((d.p_exceed for d in self.days), default=0.0)

    @property
    def peak_day(self) -> DayOutlook:
        """The day the ward is expected fullest: the highest median, then the highest chance of running out
        of beds, the earliest first (a forecast has at least one day)."""
        return max(self.days, key=lambda d: (d.p50, d.p_exceed, -d.day.toordinal()))

    @property
    def riskiest_day(self) -> DayOutlook:
        """The day with the highest chance of more patients than beds (the earliest of equals)."""
        return max(self.days, key=lambda d: (d.p_exceed, -d.day.toordinal()))

    @property
    def alert_days(self) -> list[DayOutlook]:
        """Days when P(more patients than beds) passes the alert threshold."""
        return [d for d in self.days if d.p_exceed > ALERT_THRESHOLD]


class OccupancyForecast(ReadModel):
    """The wards' forecast; ``likely_discharges`` is null for roles that may not see patients."""

    generated_at: datetime
    horizon_days: int
    model_version: str = Field(description="the length-of-stay model the stays in beds are predicted with")
    wards: list[WardForecast]
    likely_discharges: list[LikelyDischarge] | None = None


def _weekday_rates(stays: Sequence[Encounter], now: datetime) -> dict[int | None, np.ndarray]:
    since = now - timedelta(weeks=_ARRIVAL_WEEKS)
    rates: dict[int | None, np.ndarray] = defaultdict(lambda: np.zeros(7))
    for e in stays:
        if since <= e.started_at < now:
            rates[e.ward_id][e.started_at.weekday()] += 1.0 / _ARRIVAL_WEEKS
    return rates


def _survival(stays: Sequence[Encounter], now: datetime) -> Survival:
    return kaplan_meier(
        [((e.ended_at or now) - e.started_at).total_seconds() / 86400 for e in stays],
        [e.ended_at is not None for e in stays],
    )


def _current(
    store_db: Session, model: LosModel, open_stays: Sequence[Encounter], now: datetime
) -> tuple[StayDistribution, str]:
    admissions = from_store(store_db, open_stays)
    elapsed = [max(0.0, (now - a.admitted_at).total_seconds() / 86400) for a in admissions]
    return model.in_bed(admissions, elapsed), str(model.meta_.get("version", "unversioned"))


def _subset(dist: StayDistribution, index: list[int]) -> StayDistribution:
    return StayDistribution(dist.mu[index], dist.sigma[index], dist.elapsed[index])


def forecast_occupancy(
    ctx: AppContext,
    actor: Actor,
    horizon_days: int = 14,
    extra_electives: Sequence[PlannedElectives] = (),
    *,
    now: datetime | None = None,
    model_dir: Path = DEFAULT_DIR,
) -> OccupancyForecast:
    """Each ward's distribution of occupied beds at the next ``horizon_days`` midnight censuses.

    Raises:
        PermissionDenied: the role may not read the census.
        ValidationFailed: a horizon outside 1-28 days, or electives for an unknown ward or a past day.
    """
    if not 1 <= horizon_days <= _MAX_HORIZON:
        raise ValidationFailed(N_("The horizon must be 1 to {MAX_HORIZON} days."), MAX_HORIZON=_MAX_HORIZON)
    if any(p.count < 0 or p.day_offset < 0 or p.day_offset > horizon_days for p in extra_electives):
        raise ValidationFailed(N_("Planned admissions need a count >= 0 and a day within the horizon."))
    now = now or utcnow()
    with audited(ctx.store, actor, "census.forecast", Permission.READ_CENSUS) as call:
        db = call.db
        wards = list(db.scalars(select(Ward).order_by(Ward.name)))
        codes = {w.code for w in wards}
        if unknown := {p.ward_code for p in extra_electives} - codes:
            raise ValidationFailed(N_("Unknown ward(s): {value}."), value=", ".join(sorted(unknown)))
        stays = list(
            db.scalars(
                select(Encounter).where(
                    Encounter.kind == "inpatient",
                    Encounter.ward_id.is_not(None),
                    Encounter.started_at >= now - _STAY_HISTORY,
                )
            )
        )
        open_stays = list(
            db.scalars(
                select(Encounter).where(
                    Encounter.kind == "inpatient", Encounter.ended_at.is_(None), Encounter.ward_id.is_not(None)
                )
            )
        )
        current, version = _current(db, ctx.models.los(model_dir), open_stays, now)
        rates = _weekday_rates(stays, now)
        moments = census_moments(now, horizon_days)
        end_today = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)
        leave_ahead = np.array(
            [(end_today - now).total_seconds() / 86400, (end_today - now).total_seconds() / 86400 + 1]
        )
        still = current.still_in(leave_ahead) if open_stays else np.zeros((2, 0))
        out = []
        for ward in wards:
            index = [i for i, e in enumerate(open_stays) if e.ward_id == ward.id]
            ward_stays = [e for e in stays if e.ward_id == ward.id]
            planned = [e for e in ward_stays if (e.details or {}).get("admission_type") == "elective"]
            survival = _survival(ward_stays, now)
            electives = tuple(Electives(p.day_offset, p.count) for p in extra_electives if p.ward_code == ward.code)
            inputs = WardInputs(
                capacity=ward.capacity,
                current=_subset(current, index),
                weekday_arrivals=rates[ward.id],
                arrival_stay=survival,
                elective_stay=_survival(planned, now) if len(planned) >= _MIN_ELECTIVE_STAYS else survival,
                electives=electives,
            )
            p_in = still[:, index]
            out.append(
                WardForecast(
                    code=ward.code,
                    name=ward.name,
                    capacity=ward.capacity,
                    occupied_now=len(index),
                    days=day_outlooks(occupancy_pmfs(inputs, now, moments), moments, ward.capacity),
                    discharges_today=float((1 - p_in[0]).sum()),
                    discharges_tomorrow=float((p_in[0] - p_in[1]).sum()),
                    electives_added=sum(e.count for e in electives),
                    arrivals_per_day=float(rates[ward.id].sum() / 7),
                )
            )
        leaving = (
            _likely_discharges(db, open_stays, wards, current, still, now)
            if actor.can(Permission.READ_PATIENTS)
            else None
        )
        call.detail = f"{len(wards)} ward(s), {len(open_stays)} in beds, horizon {horizon_days} d"
        return OccupancyForecast(
            generated_at=now, horizon_days=horizon_days, model_version=version, wards=out, likely_discharges=leaving
        )


def _likely_discharges(
    db: Session,
    open_stays: Sequence[Encounter],
    wards: Sequence[Ward],
    current: StayDistribution,
    still: np.ndarray,
    now: datetime,
) -> list[LikelyDischarge]:
    codes = {w.id: w.code for w in wards}
    names = {w.id: w.name for w in wards}
    ids = {e.patient_id for e in open_stays}
    people = {p.id: p for p in db.scalars(select(Patient).where(Patient.id.in_(ids)))}
    median_left = current.remaining_quantiles((0.5,))[:, 0] if open_stays else np.zeros(0)
    rows = [
        LikelyDischarge(
            patient_id=e.patient_id,
            mrn=people[e.patient_id].mrn,
            name=display_name(people[e.patient_id].family_name, people[e.patient_id].given_name),
            ward_code=codes.get(e.ward_id or -1, "?"),
            p_today=float(1 - still[0, i]),
            p_by_tomorrow=float(1 - still[1, i]),
            expected_discharge=now + timedelta(days=float(median_left[i])),
            ward_name=names.get(e.ward_id or -1, "unknown ward"),
        )
        for i, e in enumerate(open_stays)
    ]
    return sorted(rows, key=lambda r: -r.p_by_tomorrow)
