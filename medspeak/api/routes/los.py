"""``POST /los`` (an inpatient stay's predicted length) and ``GET /occupancy`` (the wards' forecast)."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from medspeak.api.deps import ContextDep, CurrentActor, DbId
from medspeak.services import stays as los
from medspeak.services.beds import OccupancyForecast
from medspeak.services.stays import StayPrediction

router = APIRouter(tags=["length of stay"])


class StayIn(BaseModel):
    encounter_id: DbId = Field(description="an inpatient encounter (stay)")
    save: bool = Field(
        default=False,
        description="store this prediction in the stay's history (clinicians only); a plain request writes nothing",
    )


@router.post("/los")
def predict_stay(body: StayIn, actor: CurrentActor, ctx: ContextDep) -> StayPrediction:
    """Predict the length of an inpatient stay from what is known now; ``save`` also stores it in its history."""
    return los.predict_stay(ctx, actor, body.encounter_id, save=body.save)


@router.get("/occupancy")
def occupancy(
    actor: CurrentActor,
    ctx: ContextDep,
    horizon_days: Annotated[int, Query(ge=1, le=28)] = 14,
) -> OccupancyForecast:
    """Each ward's occupied beds at the next midnight censuses, with bands and P(over capacity)."""
    return los.forecast_occupancy(ctx, actor, horizon_days)
