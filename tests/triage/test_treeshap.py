"""The SHAP table gives XGBoost's own TreeSHAP values: missing values, repeated features, any tree shape."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from medspeak.triage import model as triage_model
from medspeak.triage.explain import Explainer
from medspeak.triage.model import TriageModel
from medspeak.triage.treeshap import TreeTable, TreeTooDeep
from tests.triage.conftest import HYPOXIC


def _data(rows: int, features: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype(np.float32)
    x[:, 0] = rng.integers(0, 3, size=rows)  # few distinct values: ties at the thresholds
    score = x[:, 0] + 2 * np.sin(x[:, 1]) + x[:, 2] * x[:, 3]
    x[rng.random(size=x.shape) < 0.2] = np.nan  # every feature missing now and then: both default branches
    return x, score


def _xgboost_values(booster: xgb.Booster, x: np.ndarray) -> np.ndarray:
    contribs = booster.predict(xgb.DMatrix(x), pred_contribs=True)
    if contribs.ndim == 2:  # one output: rows × (features + bias)
        contribs = contribs[:, None, :]
    return np.transpose(contribs[:, :, :-1], (0, 2, 1))


@pytest.mark.parametrize(
    ("objective", "depth", "extra"),
    [
        ("multi:softprob", 3, {"num_class": 4}),
        ("multi:softprob", 2, {"num_class": 3}),
        ("reg:squarederror", 3, {}),
        ("binary:logistic", 1, {}),
    ],
)
def test_the_table_gives_xgboosts_tree_shap(objective: str, depth: int, extra: dict[str, int]) -> None:
    x, score = _data(600, 6)
    if objective.startswith("multi"):
        label = np.digitize(score, np.quantile(score, np.linspace(0, 1, extra["num_class"] + 1)[1:-1]))
    elif objective.startswith("binary"):
        label = (score > np.median(score)).astype(int)
    else:
        label = score
    params = {"objective": objective, "max_depth": depth, "eta": 0.3, "nthread": 1, **extra}
    booster = xgb.train(params, xgb.DMatrix(x, label=label), num_boost_round=25)

    table = TreeTable.build(booster)
    probe, _ = _data(300, 6, seed=11)
    probe[:5] = np.nan  # a patient with nothing recorded
    got, expected = table.shap_values(probe), _xgboost_values(booster, probe)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5)
    assert np.abs(expected).max() > 0.1  # the model uses its features: the comparison is not of zeros
    if objective.startswith("binary"):  # its stored base score is a probability, not a margin
        assert not table.has_margins
        with pytest.raises(ValueError, match="predict"):
            table.margins(probe)
    else:  # the same float32 additions in the same order: identical, not merely close
        margins = booster.predict(xgb.DMatrix(probe), output_margin=True).reshape(len(probe), -1)
        np.testing.assert_array_equal(table.margins(probe), margins)


def test_split_thresholds_are_compared_in_float32_as_xgboost_does() -> None:
    x, score = _data(400, 4)
    booster = xgb.train(
        {"objective": "reg:squarederror", "max_depth": 3, "nthread": 1}, xgb.DMatrix(x, label=score), 10
    )
    table = TreeTable.build(booster)
    thresholds = np.unique(table._split_condition[table._split_bit > 0])
    # Rows sitting exactly on every threshold, and one float32 step either side of it.
    on = np.repeat(thresholds[:, None], 4, axis=1).astype(np.float32)
    probe = np.vstack([on, np.nextafter(on, np.float32(-np.inf)), np.nextafter(on, np.float32(np.inf))])
    np.testing.assert_allclose(table.shap_values(probe), _xgboost_values(booster, probe), rtol=0, atol=2e-5)


def test_deep_trees_are_refused_and_the_model_falls_back_to_xgboost(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    x, score = _data(400, 5)
    deep = xgb.train({"objective": "reg:squarederror", "max_depth": 6, "nthread": 1}, xgb.DMatrix(x, label=score), 5)
    with pytest.raises(TreeTooDeep):
        TreeTable.build(deep)

    tabled_model, tabled = engine.model, engine.explainer

    def too_deep(booster: xgb.Booster) -> TreeTable:
        raise TreeTooDeep("a tree has 63 splits")

    monkeypatch.setattr(triage_model.TreeTable, "build", too_deep)
    model = TriageModel.load()
    assert model.table is None and tabled_model.table is not None
    features = model.space.transform([HYPOXIC])
    np.testing.assert_allclose(
        Explainer(model).contributions(features), tabled.contributions(features), rtol=0, atol=1e-5
    )
    np.testing.assert_array_equal(model.margins(features), tabled_model.margins(features))
