"""The critical alert's and the second reader's thresholds, chosen on out-of-fold scores."""

import json

import numpy as np
import pytest

from medspeak.triage.model import MODEL_DIR
from medspeak.triage.training import train


def _scores(
    n: int, seed: int = 3, shares: tuple[float, ...] = (0.05, 0.2, 0.35, 0.3, 0.1)
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy probabilities around the true level: some level 1-2 patients look like level 3."""
    rng = np.random.default_rng(seed)
    labels = rng.choice([1, 2, 3, 4, 5], size=n, p=list(shares))
    logits = rng.normal(0, 1.2, (n, 5))
    logits[np.arange(n), labels - 1] += 1.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probs, labels


_FEW_CRITICAL = (0.03, 0.1, 0.42, 0.35, 0.1)  # the KTAS records' shares, roughly


def test_the_alert_threshold_is_the_most_sensitive_within_the_alert_budget() -> None:
    probs, labels = _scores(600, shares=_FEW_CRITICAL)
    caps, by_rule = np.full(len(labels), 5), np.zeros(len(labels), dtype=bool)  # no safety rule fired
    t = train._alert_threshold(probs, labels, caps, by_rule)

    def rate(threshold: float) -> float:
        return float(train._alerts(probs, threshold, caps, by_rule).mean())

    assert rate(t) <= train.MAX_ALERT_RATE < rate(t - 0.01)  # one step lower would alert too many
    critical = labels <= 2
    assert train._alerts(probs, t, caps, by_rule)[critical].mean() > (probs.argmax(axis=1)[critical] <= 1).mean()


def test_an_alert_rule_counts_towards_the_alert_budget() -> None:
    probs, labels = _scores(600, shares=_FEW_CRITICAL)
    caps = np.full(len(labels), 5)
    plain = train._alert_threshold(probs, labels, caps, np.zeros(len(labels), dtype=bool))
    some = np.random.default_rng(1).random(len(labels)) < 0.1  # an alert rule fires on a tenth of the patients
    assert train._alert_threshold(probs, labels, caps, some) > plain


def test_the_second_reader_threshold_keeps_the_flag_rate_under_its_limit(engine) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from medspeak.triage.features import inputs_frame
    from tests.triage.conftest import SPRAIN

    model = engine.model
    probs, labels = _scores(400, seed=5)
    nurse = np.clip(labels + np.random.default_rng(2).choice([-1, 0, 0, 0, 1], len(labels)), 1, 5)
    scored = replace(model.score(inputs_frame([SPRAIN] * 400)), probabilities=probs)  # no rule fires
    saved = model.second_reader_threshold
    try:
        t = train._second_reader_threshold(model, scored, nurse, labels)
        model.second_reader_threshold = t
        rate = float(model.second_reader(scored, nurse).mean())
    finally:
        model.second_reader_threshold = saved
    assert rate <= train.MAX_FLAG_RATE


def test_the_committed_model_records_its_choices_and_meets_them_out_of_fold() -> None:
    meta = json.loads((MODEL_DIR / "model.json").read_text())
    oof = meta["out_of_fold"]
    assert oof["critical_alert"]["alert_rate"] <= meta["max_alert_rate"] == 0.33
    assert oof["second_reader"]["flag_rate"] <= meta["max_flag_rate"] == 0.13
    assert oof["second_reader"]["nurse_under_triage_caught"] >= meta["min_caught"] == 0.5
    assert oof["ece"] < 0.05  # calibrated on 811 patients out of fold
    assert {r["id"] for r in meta["rule_precision"]} >= {"shock", "no_pulse", "chest_pain"}
    # the card's "model alone" column: the rules only ever make the system more urgent
    alone, system = meta["holdout_model_only"], meta["holdout"]
    assert system["critical_under_triage"] <= alone["critical_under_triage"]
    assert system["over_triage"] >= alone["over_triage"]
    assert system["ece"] == pytest.approx(alone["ece"])  # same probabilities: rules change levels only
