"""``POST /triage``: a KTAS level 1-5 with its reasons, the critical alert and the second reader's flag.

Stored when the patient is given. With ``nurse_level`` (her own level, entered first), the response says
whether the second reader flags it as a likely under-triage, with the probability and the reasons;
``POST /triage/{assessment_id}/decision`` records her decision (she confirms her level or changes it).
"""

from typing import Final, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from medspeak.api.deps import ContextDep, Credentials, CredentialsDep, DbId
from medspeak.clinical.vitals import Avpu, vital
from medspeak.services import triage
from medspeak.services.context import AppContext
from medspeak.services.triage import TriageDecision, TriageResult
from medspeak.store.db import is_lock_timeout
from medspeak.triage.inputs import TriageInputs

router = APIRouter(tags=["triage"])
_LOCK_WAIT_ON_LOOP_MS: Final = 20  # SQLite's busy handler: sleeps of 1, 2, 5, 10 ms, then gives up


class TriageIn(BaseModel):
    """What the triage nurse records; every vital may be missing. Units: °C, /min, %, mmHg, NRS 0-10, years."""

    temperature_c: float | None = Field(default=None, description=vital("temperature_c").describe())
    heart_rate: float | None = Field(default=None, description=vital("heart_rate").describe())
    respiratory_rate: float | None = Field(default=None, description=vital("respiratory_rate").describe())
    spo2: float | None = Field(default=None, description=vital("spo2").describe())
    systolic_bp: float | None = Field(default=None, description=vital("systolic_bp").describe())
    diastolic_bp: float | None = Field(default=None, description=vital("diastolic_bp").describe())
    transport_mode: str | None = Field(default=None, description="walk-in, public ambulance, private vehicle, ...")
    age: float | None = None
    sex: Literal["female", "male"] | None = None
    chief_complaint: str | None = Field(default=None, max_length=200)
    mental_status: Avpu | None = Field(default=None, description="AVPU: alert, verbal, pain, unresponsive")
    pain: float | None = Field(default=None, description=vital("pain").describe())
    injury: bool | None = None
    immunocompromised: bool | None = Field(
        default=None, description="chemotherapy, transplant, neutropenia, long-term steroids (a safety rule reads it)"
    )
    patient_id: DbId | None = Field(default=None, description="store the assessment in this patient's record")
    encounter_id: DbId | None = None
    nurse_level: int | None = Field(
        default=None, ge=1, le=5, description="the nurse's own level, for the second reader (1 most urgent)"
    )


class DecisionIn(BaseModel):
    level: int = Field(ge=1, le=5, description="the level the nurse keeps (hers) or changes to")
    reason: str = Field(default="", max_length=500, description="required when keeping a flagged level")


@router.post("/triage")
async def assess(body: TriageIn, credentials: CredentialsDep, ctx: ContextDep) -> TriageResult:
    """Propose a level (1 most urgent); 422 lists implausible values and the conversions on offer."""
    if credentials.store.is_sqlite:
        # On the event loop: a triage is ~3 ms of CPU in Python, holding the GIL either way, and a hand-off
        # to a thread costs more than it saves. Python lets the event loop thread take the GIL back only
        # every few milliseconds while a worker thread computes, so each step of every other request in
        # the process (reading, sending) queued behind it (measured at 300 requests/s on 2 cores: p95 130
        # to 880 ms through a thread, 32 ms here). SQLite is a local file: the only wait is for its write
        # lock, bounded here; a busier lock (a long write elsewhere) sends the work to a thread instead.
        try:
            with credentials.store.short_lock_waits(_LOCK_WAIT_ON_LOOP_MS):
                return _assess(body, credentials, ctx)
        except OperationalError as exc:
            if not is_lock_timeout(exc):
                raise
    # A network database (PostgreSQL), or a write lock held for long: off the event loop, one thread trip
    # for the session lookup and the assessment (both use the store).
    return await run_in_threadpool(_assess, body, credentials, ctx)


def _assess(body: TriageIn, credentials: Credentials, ctx: AppContext) -> TriageResult:
    actor = credentials.actor()
    inputs = TriageInputs.from_form(
        body.model_dump(exclude={"patient_id", "encounter_id", "nurse_level"}, exclude_none=True)
    )
    return triage.assess(
        ctx, actor, inputs, patient_id=body.patient_id, encounter_id=body.encounter_id, nurse_level=body.nurse_level
    )


@router.post("/triage/{assessment_id}/decision")
def decide(body: DecisionIn, credentials: CredentialsDep, assessment_id: DbId) -> TriageDecision:
    """The nurse's decision after reading the proposal: she confirms her level or changes it (stored, audited)."""
    return triage.decide(credentials.store, credentials.actor(), assessment_id, body.level, body.reason)
