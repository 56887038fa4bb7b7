"""The model card written beside the artifact: what the model is for, its data, and what each figure means."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medspeak.los.features import CATEGORICAL, NUMERIC
from medspeak.los.model import LosModel

__all__ = ["write_model_card"]

_TEMPLATE = """# Length of stay at admission — model card

Version `{version}`. Reproduce with `medspeak train los --mimic ../shared/data/mimic_iv_demo` (same
data, same bytes: one thread, fixed seeds; `MANIFEST.sha256` lists every file's SHA-256).

## What it does
Predicts, when a patient is admitted and again as reports arrive, the distribution of the total length
of stay: the 10th, 50th and 90th percentiles (days). The pages show the median as the expected
discharge date and P10–P90 as its interval; the census forecast turns each patient's percentiles
into a log-normal curve conditioned on the days already spent. Decision support for bed planning,
not a discharge decision.

## Data
MIMIC-IV Clinical Database Demo v2.2 (Johnson A. et al., PhysioNet, doi:10.13026/07hj-2a80;
ODbL 1.0, attribution kept): {admissions} admissions of 80 patients, read from
`../shared/data/mimic_iv_demo` at training time only (nothing is copied into the repository; the
artifact holds model parameters, the text vocabulary and a SHA-256 fingerprint of the admission ids).
Dates are shifted per patient: only differences within a patient are used.

## Inputs (known at the moment of the prediction)
- Categories, one-hot: {categorical}.
- Numbers, StandardScaler: {numeric}.
- Reports written since entry: TF-IDF over words of 3+ letters (at most 400 words in 3+ stays), then
  PCA (up to 8 axes), then StandardScaler. The demo has no notes: its medication orders (drug and
  route, at their start time) stand in for reports; in the app, the documents on file.
- Never used: `drgcodes`, billing diagnoses and procedures (assigned at discharge), discharge time or
  place, death; a test checks that no such column becomes a feature.

## Method
XGBoost with the pinball loss, one booster for the three percentiles of ln(days) (depth
{depth}, {rounds} rounds, learning rate {eta}); percentiles sorted so that P10 ≤ P50 ≤ P90. Each
finished stay gives training snapshots at admission, day 1 and day 3 (while still in), so the model
also learns the remaining stay given the time already spent. A conformal margin of {margin:.3f} on
the log scale (from an inner grouped cross-validation) widens P10–P90 so that it holds 80 % of
held-out stays. Explanations: exact TreeSHAP values of the median (XGBoost's `pred_contribs`),
summed per input and read as "lengthens/shortens the stay by x %".

## Results (5-fold cross-validation grouped by patient, predicted at admission)

| figure | value | what it means |
|---|---|---|
| admissions | {los[admissions]} | finished stays scored, each by a model that never saw its patient |
| mae_days | {los[mae_days]} | mean absolute error of the median, days |
| median_ae_days | {los[median_ae_days]} | half of the stays are predicted within this many days |
| baseline_mae_days | {los[baseline_mae_days]} | the same error when predicting the training median for everyone |
| mae / baseline | {ratio:.2f} | target ≤ 0.80: {verdict} |
| coverage_80 | {los[coverage_80]} | share of stays inside P10–P90 (target 0.75–0.85) |
| pinball_loss | {los[pinball_loss]} | mean quantile loss over P10, P50, P90, days (lower is better) |

Read honestly: 210 admissions and admission-time data explain little of a stay that depends on
what happens in hospital; the interval is calibrated, the median is {pct:.0f} % better than the
baseline.

## Census forecast back-test (MIMIC-IV demo replayed)

| figure | value | what it means |
|---|---|---|
| days | {occ[days]} | forecast origins (midnights after a 4-week warm-up) |
| horizon_days | {occ[horizon_days]} | each origin forecasts the next 14 midnight censuses |
| mae_beds | {occ[mae_beds]} | mean absolute error of the median census, beds (mean census {occ[mean_census]} beds) |
| coverage_90 | {occ[coverage_90]} | share of censuses inside the 90 % band (target 0.85–0.95) |
| coverage_50 | {occ[coverage_50]} | share inside the 50 % band |

MAE by horizon (days 1..14): {occ_mae}. The demo's per-patient date shifts scatter its patients over
a century; the replay folds every admission into one 13-week window by whole 13-week periods (weekday
and time of day kept), which makes a small hospital of ~14 beds. Bands are whole beds, so a 90 % band
holds at least 90 % of the probability: at this size it is slightly conservative.

## The same pipeline on the project's generator (at scale)
{synthetic}

## Limits
- Trained on one US teaching hospital's 80 demo patients; the app applies it to other hospitals'
  vocabularies mapped onto the same categories (ward, admission type and source, insurance): check
  it on local data (`medspeak eval los --mimic DIR` on any MIMIC-IV-format export) before trusting it.
- The census forecast assumes a patient stays in the ward where they are until discharge (no
  transfers between wards), independent stays, and Poisson arrivals by weekday from the last 4 weeks.
"""


def _synthetic(figures: dict[str, Any] | None) -> str:
    if not figures:
        return "Not run for this artifact."
    ratio = figures["mae_days"] / figures["baseline_mae_days"]
    return (
        f"`medspeak.demo.generate(seed={figures['seed']}, n_patients={figures['patients']})`, "
        f"{figures['admissions']} finished stays, 5-fold grouped cross-validation: mae_days "
        f"{figures['mae_days']} vs baseline {figures['baseline_mae_days']} (ratio {ratio:.2f}), coverage_80 "
        f"{figures['coverage_80']}, pinball_loss {figures['pinball_loss']}.\n\nWhat it means: the pipeline "
        "runs and stays calibrated at scale. It does not measure clinical accuracy: the generator draws each "
        "stay from its ward's log-normal (calibrated on the MIMIC demo), so the ward is the only real signal "
        "and the best possible error is close to this one. Its finished stays also come from a 30-day window, "
        "so they are shorter than a real hospital's."
    )


def write_model_card(folder: Path, model: LosModel, figures: dict[str, Any]) -> Path:
    """Write ``MODEL_CARD.md`` from the training figures; returns its path."""
    los, occ = figures["los"], figures["occupancy"]
    ratio = los["mae_days"] / los["baseline_mae_days"]
    text = _TEMPLATE.format(
        version=model.meta_.get("version", "?"),
        admissions=los["admissions"],
        categorical=", ".join(CATEGORICAL),
        numeric=", ".join(NUMERIC),
        depth=model.hyper.max_depth,
        rounds=model.hyper.rounds,
        eta=model.hyper.eta,
        margin=model.margin_,
        los=los,
        ratio=ratio,
        verdict="met" if ratio <= 0.8 else "not met",
        pct=100 * (1 - ratio),
        occ=occ,
        occ_mae=", ".join(f"{x:.2f}" for x in occ["mae_by_horizon"]),
        synthetic=_synthetic(figures.get("synthetic_los")),
    )
    path = folder / "MODEL_CARD.md"
    path.write_text(text, encoding="utf-8")
    return path
