import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from medspeak.triage.complaints import matcher
from medspeak.triage.features import FeatureSpace, inputs_frame
from medspeak.triage.inputs import AVPU, TriageInputs, columns_of
from medspeak.triage.rules import apply_caps, load_rules


def _caps(inputs: TriageInputs, model_level: int = 5) -> tuple[int, list[str]]:
    frame = inputs_frame([inputs])
    sims = matcher().similarities(list(frame["chief_complaint"]))
    similarity = {c: sims[:, k] for k, c in enumerate(matcher().category_ids)}
    level, fired = apply_caps(np.array([model_level]), frame, similarity, load_rules())
    return int(level[0]), [r.id for r in fired[0]]


def test_every_rule_has_a_threshold_and_a_spelled_out_source() -> None:
    rules = load_rules()
    assert len(rules) >= 10
    assert all(r.source and len(r.source) > 20 and 1 <= r.level <= 3 for r in rules)


def test_danger_zone_vitals_fire_and_say_which() -> None:
    level, fired = _caps(TriageInputs(spo2=88, mental_status="unresponsive", systolic_bp=75, diastolic_bp=40))
    assert level == 1
    assert {"spo2_below_92", "unresponsive", "hypotension"} <= set(fired)


def test_the_issues_shock_patient_gets_level_1_from_the_shock_rule() -> None:
    shock = TriageInputs(
        spo2=85, heart_rate=130, respiratory_rate=28, systolic_bp=85, diastolic_bp=50, temperature_c=39.2, age=70
    )
    level, fired = _caps(shock, model_level=2)
    assert level == 1 and "shock" in fired
    assert _caps(TriageInputs(systolic_bp=85, heart_rate=90))[1] == ["hypotension"]  # no tachycardia: no shock
    rule = next(r for r in load_rules() if r.id == "shock")
    assert rule.describe() == "systolic BP < 90 mmHg and heart rate > 100 /min" and "Korean" in rule.source


def test_an_arrest_or_severe_hypoxia_is_level_1_on_any_form() -> None:
    assert _caps(TriageInputs(heart_rate=0)) == (1, ["no_pulse", "hr_40_or_less"])
    assert _caps(TriageInputs(spo2=65)) == (1, ["spo2_below_70", "spo2_below_92"])
    assert _caps(TriageInputs(mental_status="unresponsive")) == (1, ["unresponsive"])


def test_fever_with_immunosuppression_is_level_2_and_a_missing_immune_status_never_fires() -> None:
    assert _caps(TriageInputs(temperature_c=38.4, immunocompromised=True)) == (2, ["fever_immunocompromised"])
    assert _caps(TriageInputs(temperature_c=38.4, immunocompromised=False)) == (5, [])
    assert _caps(TriageInputs(temperature_c=38.4)) == (5, [])
    without_column = inputs_frame([TriageInputs(temperature_c=39.0)]).drop(columns=["immunocompromised"])
    rule = next(r for r in load_rules() if r.id == "fever_immunocompromised")
    assert rule.matches(columns_of(without_column), {}).tolist() == [False]  # a data set without the field (KTAS)


def test_alert_rules_raise_the_alert_and_leave_the_level() -> None:
    effects = {r.id: r.effect for r in load_rules()}
    assert {k for k, v in effects.items() if v == "alert"} == {
        "responds_to_voice",
        "severe_pain",
        "chest_pain",
        "stroke",
        "altered_consciousness",
    }
    assert _caps(TriageInputs(mental_status="verbal", pain=9), model_level=3) == (
        3,
        ["responds_to_voice", "severe_pain"],
    )


def test_a_missing_value_never_fires_a_rule() -> None:
    assert _caps(TriageInputs()) == (5, [])


def test_critical_presentations_are_recognised_in_words_a_nurse_writes() -> None:
    assert _caps(TriageInputs(chief_complaint="Ant. chest pain")) == (5, ["chest_pain"])  # alert, not level
    assert _caps(TriageInputs(chief_complaint="Rt. side motor weakness")) == (5, ["stroke"])
    assert _caps(TriageInputs(chief_complaint="ankle sprain")) == (5, [])


@settings(max_examples=60, deadline=None)
@given(
    model_level=st.integers(1, 5),
    spo2=st.none() | st.floats(20, 100),
    hr=st.none() | st.floats(0, 250),
    avpu=st.none() | st.sampled_from(AVPU),
    pain=st.none() | st.integers(0, 10),
)
def test_rules_never_make_a_patient_less_urgent(
    model_level: int, spo2: float | None, hr: float | None, avpu: str | None, pain: int | None
) -> None:
    level, fired = _caps(TriageInputs(spo2=spo2, heart_rate=hr, mental_status=avpu, pain=pain), model_level)
    assert level <= model_level
    assert level == min([model_level] + [r.level for r in load_rules() if r.id in fired and r.effect == "level"])


def test_complaints_map_to_a_pathway_in_english_french_and_abbreviations() -> None:
    m = matcher()
    assert m.pathway("SOB").category == "breathing"  # type: ignore[union-attr]
    assert m.pathway("douleur thoracique").category == "chest_pain"  # type: ignore[union-attr]
    assert m.pathway("abd pain").department.startswith("General surgery")  # type: ignore[union-attr]
    chest = m.pathway("chest pain")
    assert chest is not None and any("ECG" in a for a in chest.first_actions)
    assert m.pathway("?? ???") is None  # text lost to a wrong encoding is missing, not a category
    assert m.pathway("") is None


def test_features_keep_missing_values_missing() -> None:
    space = FeatureSpace(matcher())
    x = space.transform(pd.concat([inputs_frame([TriageInputs()]), inputs_frame([TriageInputs(heart_rate=90)])]))
    assert x.shape == (2, len(space.names))
    assert np.isnan(x[0]).all()
    assert x[1, space.names.index("heart_rate")] == 90
