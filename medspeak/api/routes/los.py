"""``POST /los`` (an inpatient stay's predicted length) and ``GET /occupancy`` (the wards' forecast)."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from medspeak.api.deps import ContextDep, CurrentActor, DbId
from medspeak.services import stays as los

router = APIRouter(tags=["length of stay"])


class StayIn(BaseModel):
    encounter_id: DbId = Field(description="an inpatient encounter (stay)")
    save: bool = Field(
        default=False,
        description="store this prediction in the stay's history (clinicians only); a plain request writes nothing",
    )


class DriverOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    feature: str
    text: str
    effect_pct: float
    effect_days: float


class StayOut(BaseModel):
    """Days at P10/P50/P90; for a stay already over, the prediction made at admission beside the actual length."""

    model_config = ConfigDict(from_attributes=True)

    encounter_id: int
    patient_id: int
    model_version: str
    as_of: datetime
    admitted_at: datetime
    elapsed_days: float
    total_days: tuple[float, float, float]
    remaining_days: tuple[float, float, float]
    discharge: tuple[datetime, datetime, datetime]
    drivers: list[DriverOut]
    reports_seen: int
    actual_days: float | None


class DayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    mean: float
    p05: int
    p25: int
    p50: int
    p75: int
    p95: int
    p_exceed: float  # probability of more patients than beds


class WardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    capacity: int
    occupied_now: int
    days: list[DayOut]
    discharges_today: float
    discharges_tomorrow: float
    electives_added: int


class DischargeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    patient_id: int
    mrn: str
    name: str
    ward_code: str
    p_today: float
    p_by_tomorrow: float
    expected_discharge: datetime


class OccupancyOut(BaseModel):
    """``likely_discharges`` is null for roles that may not see patients."""

    model_config = ConfigDict(from_attributes=True)

    generated_at: datetime
    horizon_days: int
    model_version: str
    wards: list[WardOut]
    likely_discharges: list[DischargeOut] | None


@router.post("/los")
def predict_stay(body: StayIn, actor: CurrentActor, ctx: ContextDep) -> StayOut:
    """Predict the length of an inpatient stay from what is known now; ``save`` also stores it in its history."""
    return StayOut.model_validate(los.predict_stay(ctx, actor, body.encounter_id, save=body.save))


@router.get("/occupancy")
def occupancy(
    actor: CurrentActor,
    ctx: ContextDep,
    horizon_days: Annotated[int, Query(ge=1, le=28)] = 14,
) -> OccupancyOut:
    """Each ward's occupied beds at the next midnight censuses, with bands and P(over capacity)."""
    return OccupancyOut.model_validate(los.forecast_occupancy(ctx, actor, horizon_days))
