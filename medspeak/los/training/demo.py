"""Admissions from the demo generator's dataset, for training and its figures (the store's: ``los.sources``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from medspeak.demo.dataset import DemoDataset
from medspeak.los.admissions import Admission, Report
from medspeak.los.sources import _admission

__all__ = ["from_demo"]


def from_demo(dataset: DemoDataset) -> list[Admission]:
    """Every inpatient stay of a generated dataset (finished or not), keyed by encounter key, grouped by MRN."""
    people = {p.mrn: (p.sex, p.birth_date) for p in dataset.patients}
    history: dict[str, list[tuple[str, datetime, datetime | None]]] = defaultdict(list)
    for e in dataset.encounters:
        history[e.mrn].append((e.kind, e.started_at, e.ended_at))
    reports: dict[str, list[Report]] = defaultdict(list)
    for d in dataset.documents:
        reports[d.mrn].append(Report(d.created_at, d.text))
    return [
        _admission(
            e.key,
            e.mrn,
            (e.started_at, e.ended_at, e.ward_code, e.details),
            people[e.mrn],
            history[e.mrn],
            reports[e.mrn],
        )
        for e in dataset.encounters
        if e.kind == "inpatient"
    ]
