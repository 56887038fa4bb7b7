"""One triage path: one patient gets what the same patient gets in a batch (features, probabilities, levels,
rules, alert), and the tabled SHAP values equal shap's TreeExplainer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medspeak.services.triage import _reference_result, _result
from medspeak.triage.complaints import PATHWAYS_FILE
from medspeak.triage.explain import Explanation
from medspeak.triage.features import inputs_frame
from medspeak.triage.inputs import AVPU, TRANSPORT_MODES, TriageInputs
from tests.triage.conftest import HYPOXIC, SPRAIN

_ROWS = 300


def _complaints() -> list[str | None]:
    spec = json.loads(PATHWAYS_FILE.read_text(encoding="utf-8"))
    exemplars = [p for c in spec["categories"] for p in c["exemplars"]]
    written = ["SOB", "abd pain", "Rt. side motor weakness", "douleur thoracique", "CP radiating to L arm", "??"]
    return [None, "", "zzzz qqq", *written, *exemplars, *(e.upper() + " x2 days" for e in exemplars[:20])]


def _varied_inputs(n: int, seed: int = 7) -> list[TriageInputs]:
    """KTAS-like patients, each field missing now and then, thresholds of the safety rules hit exactly."""
    rng = np.random.default_rng(seed)
    complaints = _complaints()

    def maybe(value: object, p_missing: float = 0.15) -> object:
        return None if rng.random() < p_missing else value

    rows = [HYPOXIC, SPRAIN, TriageInputs()]
    edges = {"spo2": 90.0, "heart_rate": 40.0, "respiratory_rate": 25.0, "temperature_c": 35.0, "pain": 8.0}
    rows += [TriageInputs(**{name: value}) for name, value in edges.items()]  # type: ignore[arg-type]
    while len(rows) < n:
        systolic = float(rng.integers(70, 200))
        rows.append(
            TriageInputs(
                temperature_c=maybe(round(float(rng.normal(37.2, 1.0)), 1)),  # type: ignore[arg-type]
                heart_rate=maybe(float(rng.integers(35, 170))),  # type: ignore[arg-type]
                respiratory_rate=maybe(float(rng.integers(6, 36))),  # type: ignore[arg-type]
                spo2=maybe(float(rng.integers(80, 101)), 0.3),  # type: ignore[arg-type]
                systolic_bp=maybe(systolic),  # type: ignore[arg-type]
                diastolic_bp=maybe(float(rng.integers(30, int(systolic) - 10))),  # type: ignore[arg-type]
                transport_mode=maybe(str(rng.choice(TRANSPORT_MODES))),  # type: ignore[arg-type]
                age=maybe(float(rng.integers(1, 95))),  # type: ignore[arg-type]
                sex=maybe(str(rng.choice(["female", "male"]))),  # type: ignore[arg-type]
                chief_complaint=complaints[int(rng.integers(0, len(complaints)))],
                mental_status=maybe(str(rng.choice(AVPU, p=[0.85, 0.07, 0.05, 0.03]))),  # type: ignore[arg-type]
                pain=maybe(float(rng.integers(0, 11)), 0.3),  # type: ignore[arg-type]
                injury=maybe(bool(rng.random() < 0.3)),  # type: ignore[arg-type]
            )
        )
    return rows


@pytest.fixture(scope="module")
def patients() -> list[TriageInputs]:
    return _varied_inputs(_ROWS)


def test_one_patient_is_scored_as_in_a_batch(engine, patients) -> None:  # type: ignore[no-untyped-def]
    model = engine.model
    batch = model.score(inputs_frame(patients))  # a DataFrame, as the KTAS file gives
    listed = model.score(patients)  # the same patients as inputs
    np.testing.assert_array_equal(listed.features, batch.features)
    assert len({int(x) for x in batch.level}) >= 3 and any(batch.fired), "the sample should reach several levels"
    for i, inputs in enumerate(patients):
        np.testing.assert_array_equal(model.space.transform([inputs])[0], batch.features[i], err_msg=f"row {i}")
        fast = _result(engine, inputs)
        # a few rows: the tree table's margins; a batch: XGBoost's; the same floats (test_treeshap.py)
        assert list(fast.probabilities.values()) == batch.probabilities[i].tolist(), f"probabilities of row {i}"
        assert fast.model_level == batch.model_level[i] and fast.level.number == batch.level[i], f"row {i}"
        assert fast.rules_fired == batch.fired[i], f"rules fired for row {i}"
        assert fast.alert.raised == batch.alert[i], f"alert of row {i}"


def test_the_tabled_tree_shap_equals_shaps_tree_explainer(engine, patients) -> None:  # type: ignore[no-untyped-def]
    model, explainer = engine.model, engine.explainer
    features = model.space.transform(inputs_frame(patients))
    tabled, reference = explainer.contributions(features), explainer.values(features)
    assert tabled.shape == reference.shape == (len(patients), len(model.space.names), 5)
    np.testing.assert_allclose(tabled, reference, rtol=0, atol=1e-5)  # XGBoost sums in float32
    base = np.atleast_1d(explainer._tree.expected_value)
    np.testing.assert_allclose(tabled.sum(axis=1) + base, model.margins(features), rtol=0, atol=1e-4)


def _same_waterfall(fast: Explanation, reference: Explanation) -> None:
    assert (fast.level, fast.base_value) == (reference.level, reference.base_value)
    assert fast.other == pytest.approx(reference.other, abs=1e-5)
    assert len(fast.contributions) == len(reference.contributions)
    for mine, theirs in zip(fast.contributions, reference.contributions, strict=True):
        assert (mine.feature, mine.label, mine.direction) == (theirs.feature, theirs.label, theirs.direction)
        assert mine.shap == pytest.approx(theirs.shap, abs=1e-5)


def test_the_whole_result_is_the_reference_paths(engine, patients) -> None:  # type: ignore[no-untyped-def]
    for inputs in patients[:120]:
        fast, reference = _result(engine, inputs), _reference_result(engine, inputs)
        # Everything the nurse and the audit see: level, probabilities, rules, pathway, warnings, model
        # version, the inputs themselves: identical. The waterfall and the weight of missing inputs come
        # from SHAP values, equal to float32 rounding (XGBoost's sums are float32, the table's float64).
        _same_waterfall(fast.explanation, reference.explanation)
        assert fast.missing.keys() == reference.missing.keys()
        # missing inputs' weights and the drivers are in percentage points (x 100): float32 rounding shows as
        # up to ~1e-3 points, and a driver's points are rounded to 0.1, so one rounding step may differ
        assert all(fast.missing[k] == pytest.approx(v, abs=2e-3) for k, v in reference.missing.items())
        assert [d.label for d in fast.points.drivers] == [d.label for d in reference.points.drivers]
        for mine, theirs in zip(fast.points.drivers, reference.points.drivers, strict=True):
            assert mine.points == pytest.approx(theirs.points, abs=0.11)
        neutral = {"explanation": reference.explanation, "missing": reference.missing, "points": reference.points}
        assert fast.model_copy(update=neutral) == reference, inputs
    assert any(r.missing for r in (_result(engine, p) for p in patients[:120]))


def test_the_second_reading_of_one_patient_is_the_batch_second_reader(engine, patients) -> None:  # type: ignore[no-untyped-def]
    from medspeak.services.triage import _second_reading

    model = engine.model
    nurse = np.random.default_rng(11).integers(1, 6, len(patients))
    flags = model.second_reader(model.score(patients), nurse)
    assert 0 < flags.sum() < len(patients)
    for i, inputs in enumerate(patients[:150]):
        reading = _second_reading(engine, _result(engine, inputs), int(nurse[i]))
        assert reading.flagged == flags[i], f"row {i}, nurse level {nurse[i]}"
        assert bool(reading.reasons) == reading.flagged
