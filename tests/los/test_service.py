"""Services: who may read what, stays predicted from what is on file, the forecast from the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from medspeak.auth.roles import Actor
from medspeak.errors import PermissionDenied, ValidationFailed
from medspeak.services.context import AppContext
from medspeak.services.stays import PlannedElectives, forecast_occupancy, predict_stay, stay_history
from medspeak.store.db import Store
from medspeak.store.models import AuditEvent, Document, Encounter
from tests.los.conftest import NOW
from tests.support.api import count_events


def _open_stay(store: Store) -> Encounter:
    with store.transaction() as db:
        enc = db.scalars(
            select(Encounter).where(Encounter.kind == "inpatient", Encounter.ended_at.is_(None)).order_by(Encounter.id)
        ).first()
        assert enc is not None
        db.expunge(enc)
        return enc


def test_bed_manager_reads_the_forecast_and_who_may_leave(
    ctx: AppContext, seeded: Store, actors: dict[str, Actor], model_dir: Path
) -> None:
    forecast = forecast_occupancy(ctx, actors["bed_manager"], now=NOW, model_dir=model_dir)
    assert len(forecast.wards) == 6 and all(len(w.days) == 14 for w in forecast.wards)
    assert sum(w.occupied_now for w in forecast.wards) > 0
    assert (
        forecast.likely_discharges
        and forecast.likely_discharges[0].p_by_tomorrow >= forecast.likely_discharges[-1].p_by_tomorrow
    )
    assert all(0 <= r.p_today <= r.p_by_tomorrow <= 1 for r in forecast.likely_discharges)


def test_admin_sees_forecasts_but_no_patient(
    ctx: AppContext, seeded: Store, actors: dict[str, Actor], model_dir: Path
) -> None:
    forecast = forecast_occupancy(ctx, actors["admin"], now=NOW, model_dir=model_dir)
    assert forecast.wards and forecast.likely_discharges is None
    with pytest.raises(PermissionDenied):
        predict_stay(ctx, actors["admin"], _open_stay(seeded).id, now=NOW, model_dir=model_dir)
    with seeded.transaction() as db:
        denied = db.scalars(select(AuditEvent).where(AuditEvent.action == "los.predict")).all()
    assert [e.outcome for e in denied] == ["denied"]


def test_electives_raise_only_their_wards_forecast(
    ctx: AppContext, seeded: Store, actors: dict[str, Actor], model_dir: Path
) -> None:
    base = forecast_occupancy(ctx, actors["bed_manager"], now=NOW, model_dir=model_dir)
    plan = [PlannedElectives("SURG", 8, 1)]
    more = forecast_occupancy(ctx, actors["bed_manager"], extra_electives=plan, now=NOW, model_dir=model_dir)
    for b, m in zip(base.wards, more.wards, strict=True):
        if b.code == "SURG":
            assert m.days[1].mean > b.days[1].mean + 4 and m.electives_added == 8
        else:
            assert m.days[1].mean == pytest.approx(b.days[1].mean)
    with pytest.raises(ValidationFailed, match="Unknown ward"):
        forecast_occupancy(
            ctx, actors["bed_manager"], extra_electives=[PlannedElectives("XX", 1)], now=NOW, model_dir=model_dir
        )


def test_prediction_moves_with_the_days_spent_not_with_later_reports(
    ctx: AppContext, seeded: Store, actors: dict[str, Actor], model_dir: Path
) -> None:
    enc = _open_stay(seeded)
    first = predict_stay(ctx, actors["clinician"], enc.id, now=NOW, model_dir=model_dir, save=True)
    assert first.discharge[0] >= NOW and first.discharge[0] <= first.discharge[1] <= first.discharge[2]
    assert first.total_days[1] >= first.elapsed_days and first.drivers
    predict_stay(ctx, actors["clinician"], enc.id, now=NOW, model_dir=model_dir, save=True)
    assert len(stay_history(seeded, actors["clinician"], enc.id)) == 1  # nothing new: no new entry
    with seeded.transaction() as db:
        db.add(
            Document(
                patient_id=enc.patient_id,
                encounter_id=enc.id,
                sha256="1" * 64,
                storage_key="none",
                display_name="note.txt",
                media_type="text/plain",
                size_bytes=10,
                kind="progress_note",
                text="Septic shock, meropenem started, transfer to intensive care considered.",
                created_at=NOW,
            )
        )
    # A report written after admission does not move the prediction (measured: see the model card).
    same = predict_stay(ctx, actors["clinician"], enc.id, now=NOW, model_dir=model_dir, save=True)
    assert same.total_days == first.total_days and len(stay_history(seeded, actors["clinician"], enc.id)) == 1
    # A day later the patient has survived one more day in hospital: a new entry, never an earlier discharge.
    later = predict_stay(ctx, actors["bed_manager"], enc.id, now=NOW + timedelta(days=1), model_dir=model_dir)
    assert len(stay_history(seeded, actors["clinician"], enc.id)) == 1  # reading (the bed manager's) writes nothing
    predict_stay(ctx, actors["clinician"], enc.id, now=NOW + timedelta(days=1), model_dir=model_dir, save=True)
    history = stay_history(seeded, actors["clinician"], enc.id)
    assert [h.elapsed_days for h in history] == pytest.approx([first.elapsed_days, first.elapsed_days + 1], abs=2e-3)
    assert later.total_days[1] >= first.total_days[1] and later.discharge[1] >= first.discharge[1]
    # A bed manager plans with the stay but is not shown the words of the reports.
    assert all("(" not in d.text for d in later.drivers if d.feature == "reports_text")


def test_reading_a_prediction_writes_nothing_and_only_a_clinician_may_save_it(
    ctx: AppContext, seeded: Store, actors: dict[str, Actor], model_dir: Path
) -> None:
    # Issue 18 item 7: opening the Length-of-stay page stored an assessment, even for the bed manager.
    enc = _open_stay(seeded)
    for role in ("clinician", "bed_manager"):
        predict_stay(ctx, actors[role], enc.id, now=NOW, model_dir=model_dir)
    assert stay_history(seeded, actors["clinician"], enc.id) == []
    with pytest.raises(PermissionDenied):
        predict_stay(ctx, actors["bed_manager"], enc.id, now=NOW, model_dir=model_dir, save=True)
    assert stay_history(seeded, actors["clinician"], enc.id) == []
    assert count_events(seeded, action="los.save", outcome="denied") == 1
    predict_stay(ctx, actors["clinician"], enc.id, now=NOW, model_dir=model_dir, save=True)
    assert len(stay_history(seeded, actors["clinician"], enc.id)) == 1
    assert count_events(seeded, action="los.save", outcome="success") == 1
