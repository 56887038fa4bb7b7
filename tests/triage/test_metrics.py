import numpy as np
import pytest

from medspeak.triage.training.metrics import agreement, bootstrap_ci, expected_calibration_error, second_reader_figures


def test_under_and_critical_under_triage_follow_the_issue_definitions() -> None:
    expert = np.array([1, 2, 2, 3, 4, 5])
    predicted = np.array([1, 3, 2, 3, 3, 5])  # one level 2 sent to 3 (under), one 4 raised to 3 (over)
    figures = agreement(expert, predicted)
    assert figures["under_triage"] == pytest.approx(1 / 6)
    assert figures["over_triage"] == pytest.approx(1 / 6)
    assert figures["critical_under_triage"] == pytest.approx(1 / 3)
    assert figures["accuracy"] == pytest.approx(4 / 6)
    assert figures["ece"] is None


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident() -> None:
    probs = np.tile([0.6, 0.1, 0.1, 0.1, 0.1], (10, 1))
    truth = np.array([1] * 6 + [2] * 4)
    assert expected_calibration_error(probs, truth) == pytest.approx(0.0)
    sure = np.tile([0.99, 0.0025, 0.0025, 0.0025, 0.0025], (10, 1))
    assert expected_calibration_error(sure, truth) == pytest.approx(0.39)


def test_second_reader_counts_caught_nurse_under_triage() -> None:
    expert, nurse = np.array([2, 2, 3, 4]), np.array([3, 2, 4, 4])
    figures = second_reader_figures(expert, nurse, np.array([True, False, False, False]))
    assert figures == {
        "flag_rate": 0.25,
        "nurse_under_triage_caught": 0.5,
        "nurse_critical_under_triage": 0.5,  # expert 2, nurse 3
        "combined_critical_under_triage": 0.0,  # ... flagged
    }
    unflagged = second_reader_figures(expert, nurse, np.zeros(4, dtype=bool))
    assert unflagged["combined_critical_under_triage"] == 0.5


def test_critical_alert_figures_are_sensitivity_on_level_1_2_and_the_share_alerted() -> None:
    from medspeak.triage.training.metrics import critical_alert_figures

    expert = np.array([1, 2, 2, 3, 4])
    figures = critical_alert_figures(expert, np.array([True, True, False, True, False]))
    assert figures == {"sensitivity": pytest.approx(2 / 3), "alert_rate": pytest.approx(0.6)}


def test_bootstrap_interval_contains_the_estimate() -> None:
    values = np.array([1.0] * 30 + [0.0] * 70)
    low, high = bootstrap_ci(len(values), lambda rows: float(values[rows].mean()), n_boot=300)
    assert low < 0.3 < high and high - low < 0.25


def test_ece_noise_floor_is_what_a_calibrated_model_shows_on_a_small_sample() -> None:
    from medspeak.triage.training.metrics import ece_noise_floor

    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(5) * 0.7, size=200)
    floor = ece_noise_floor(probs)
    assert 0.02 < floor < 0.12  # 200 patients: sampling noise alone gives a visible ECE
    assert ece_noise_floor(np.tile(probs, (10, 1))) < floor / 2  # ten times the patients: a lower floor
    assert ece_noise_floor(probs) == floor  # seeded: the card is reproducible
