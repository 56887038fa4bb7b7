"""``GET /healthz``: liveness for a load balancer; no credentials, no data."""

from fastapi import APIRouter
from pydantic import BaseModel

from medspeak.api.deps import StoreDep
from medspeak.errors import StoreUnavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz")
def healthz(store: StoreDep) -> Health:
    """``ok`` when the database answers and is migrated (503 otherwise)."""
    if not store.is_migrated():
        raise StoreUnavailable("The database is not reachable or not migrated.")
    return Health(status="ok")
