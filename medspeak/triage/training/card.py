"""The model card (TRIPOD+AI items), its calibration plot, and the manifest of SHA-256 hashes.

Collins GS et al., "TRIPOD+AI statement", BMJ 2024;385:e078378: source of data, participants,
outcome, predictors, missing data, analysis, performance, subgroups (fairness), limitations.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from medspeak.triage.explain import Explainer
from medspeak.triage.ktas import LEAKAGE_COLUMNS, KtasData
from medspeak.triage.model import DATA_FILES, MANIFEST_FILE, TriageModel, sha256_file
from medspeak.triage.training.metrics import (
    agreement,
    bootstrap_ci,
    critical_alert_figures,
    ece_noise_floor,
    second_reader_figures,
)

__all__ = ["write_card", "write_manifest"]

_AGE_BANDS: Final = ((16, 40, "16-39"), (40, 65, "40-64"), (65, 200, "65+"))
_KEYS: Final = ("accuracy", "kappa_quadratic", "critical_under_triage", "under_triage", "over_triage", "ece")
_HEADLINE_BOOT: Final = 500  # resamples for the headline intervals (each recomputes six figures)


def _calibration_plot(probabilities: npt.NDArray[np.float64], expert: npt.NDArray[np.int_], path: Path) -> None:
    """Reliability diagram of the top-level probability, drawn with Pillow.

    Kept hand-drawn, measured: plotly (the app's interactive charts) writes a PNG only through kaleido 1.x,
    which drives a headless Chrome: training would then need a browser (Debian's chromium, ~250 MB) for
    one 480-pixel diagram that Pillow, already a dependency, draws in 44 ms of CPU (2,000 patients). The
    PNG is part of the hashed artifact (manifest.json), written once at training.
    """
    from PIL import Image, ImageDraw

    size, pad = 480, 60
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[float, float]:
        return pad + x * (size - 2 * pad), size - pad - y * (size - 2 * pad)

    draw.rectangle([at(0, 1), at(1, 0)], outline="black")
    for tick in np.linspace(0, 1, 6):
        draw.text((at(tick, 0)[0] - 8, size - pad + 6), f"{tick:.1f}", fill="black")
        draw.text((pad - 28, at(0, tick)[1] - 6), f"{tick:.1f}", fill="black")
    draw.line([at(0, 0), at(1, 1)], fill="grey", width=1)  # perfect calibration
    confidence, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) + 1 == expert
    which = np.clip(np.digitize(confidence, np.linspace(0, 1, 11)[1:-1], right=True), 0, 9)
    points = [
        (float(confidence[which == b].mean()), float(correct[which == b].mean()), int((which == b).sum()))
        for b in range(10)
        if (which == b).any()
    ]
    draw.line([at(x, y) for x, y, _ in points], fill="#1f77b4", width=2)
    for x, y, n in points:
        cx, cy = at(x, y)
        draw.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], fill="#1f77b4")
        draw.text((cx + 6, cy + 2), str(n), fill="#555555")
    draw.text((pad, 6), "Calibration of the proposed level (held-out part)", fill="black")
    draw.text((pad, 20), "grey: perfect; numbers: patients per bin", fill="#555555")
    draw.text((pad + 60, size - 24), "predicted probability of the proposed level", fill="black")
    draw.text((6, pad - 16), "observed share correct", fill="black")
    image.save(path, format="PNG", optimize=True)


def _row(name: str, rows: npt.NDArray[np.bool_], expert: Any, level: Any, alert: Any) -> str:
    idx = np.flatnonzero(rows)
    if len(idx) == 0:
        return f"| {name} | 0 | – | – | – |"
    acc = float((level[idx] == expert[idx]).mean())
    acc_ci = bootstrap_ci(len(idx), lambda r: float((level[idx[r]] == expert[idx[r]]).mean()))
    critical = idx[expert[idx] <= 2]
    if len(critical):
        miss = float((level[critical] >= 3).mean())
        miss_ci = bootstrap_ci(len(critical), lambda r: float((level[critical[r]] >= 3).mean()))
        miss_text = f"{miss:.2f} ({miss_ci[0]:.2f}-{miss_ci[1]:.2f}), n = {len(critical)}"
        caught = float(alert[critical].mean())
        caught_ci = bootstrap_ci(len(critical), lambda r: float(alert[critical[r]].mean()))
        alert_text = f"{caught:.2f} ({caught_ci[0]:.2f}-{caught_ci[1]:.2f})"
    else:
        miss_text = alert_text = "no level 1-2 patient"
    return f"| {name} | {len(idx)} | {acc:.2f} ({acc_ci[0]:.2f}-{acc_ci[1]:.2f}) | {miss_text} | {alert_text} |"


def _cell(value: float | None, ci: tuple[float, float] | None = None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if ci is None else f"{value:.3f} ({ci[0]:.2f}-{ci[1]:.2f})"


def _headline_cis(expert: Any, level: Any, probabilities: Any) -> dict[str, tuple[float, float]]:
    """95 % bootstrap intervals of the system's held-out figures (the same resamples for every figure)."""
    rng = np.random.default_rng(0)
    n = len(expert)
    draws: dict[str, list[float]] = {key: [] for key in _KEYS}
    for _ in range(_HEADLINE_BOOT):
        r = rng.integers(0, n, n)
        figures = agreement(expert[r], level[r], probabilities[r])
        for key in _KEYS:
            draws[key].append(figures[key])
    return {key: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for key, v in draws.items()}


def _table(
    figures: dict[str, Any], cis: dict[str, tuple[float, float]], alone: dict[str, Any], nurse: dict[str, Any] | None
) -> list[str]:
    lines = [
        "| | model + safety rules (product, `medspeak eval`) | model alone | nurses (KTAS_RN) |",
        "|---|---|---|---|",
    ]
    for key in _KEYS:
        nurse_value = None if nurse is None else nurse.get(key)
        lines.append(f"| {key} | {_cell(figures[key], cis[key])} | {_cell(alone.get(key))} | {_cell(nurse_value)} |")
    return lines


def _reader_ci(model: TriageModel, scored: Any, holdout: KtasData) -> tuple[float, float] | None:
    """95 % bootstrap interval of the share of the nurses' under-triage the second reader catches."""
    if holdout.nurse is None:
        return None
    flags = model.second_reader(scored, holdout.nurse)
    missed = np.flatnonzero(holdout.nurse > holdout.expert)
    if len(missed) == 0:
        return None
    return bootstrap_ci(len(missed), lambda r: float(flags[missed[r]].mean()))


def _alert_points(model: TriageModel, scored: Any, holdout: KtasData) -> list[tuple[float, dict[str, float]]]:
    p12 = scored.probabilities[:, :2].sum(axis=1)
    by_rule = np.array([any(f.level <= 2 for f in row) for row in scored.fired], dtype=bool)
    return [
        (t, critical_alert_figures(holdout.expert, (p12 >= t) | (scored.level <= 2) | by_rule))
        for t in (0.05, 0.1, 0.15, model.alert_threshold, 0.3)
    ]


def _reader_points(model: TriageModel, scored: Any, holdout: KtasData) -> list[tuple[float, dict[str, float]]]:
    if holdout.nurse is None:
        return []
    saved, points = model.second_reader_threshold, []
    for t in (0.3, 0.5, 0.6, model.second_reader_threshold, 0.9):
        model.second_reader_threshold = t
        points.append(
            (t, second_reader_figures(holdout.expert, holdout.nurse, model.second_reader(scored, holdout.nurse)))
        )
    model.second_reader_threshold = saved
    return points


def write_card(model: TriageModel, holdout: KtasData, folder: Path, data_name: str) -> None:
    """Write ``MODEL_CARD.md`` and ``calibration.png`` for ``model``, evaluated on ``holdout``."""
    scored = model.score(holdout.inputs)
    _calibration_plot(scored.probabilities, holdout.expert, folder / "calibration.png")
    figures = agreement(holdout.expert, scored.level, scored.probabilities)
    cis = _headline_cis(holdout.expert, scored.level, scored.probabilities)
    alone = agreement(holdout.expert, scored.model_level, scored.probabilities)
    nurse = None if holdout.nurse is None else agreement(holdout.expert, holdout.nurse)
    reader = model.meta["holdout"].get("second_reader") or {}
    alert = model.meta["holdout"]["critical_alert"]
    reader_ci = _reader_ci(model, scored, holdout)
    floor = ece_noise_floor(scored.probabilities)
    oof = model.meta["out_of_fold"]
    importance = Explainer(model).global_importance(scored.features)[:12]
    sex = holdout.inputs["sex"].to_numpy(dtype=object)
    age = holdout.inputs["age"].to_numpy(dtype=float)
    groups = [("all", np.ones(len(age), dtype=bool))]
    groups += [(f"sex {s}", sex == s) for s in ("female", "male")]
    groups += [(f"age {name}", (age >= lo) & (age < hi)) for lo, hi, name in _AGE_BANDS]
    groups += [(f"site: {s}", holdout.site == s) for s in sorted(set(holdout.site))]
    meta = model.meta
    lines = [
        f"# Model card: triage level (KTAS 1-5), `{model.version}`",
        "",
        "Proposes an emergency triage level from vital signs, arrival, age, sex, mental status (AVPU), pain, "
        "injury and the chief complaint, for a triage nurse to confirm or override. Decision support only: "
        "the nurse decides. Hard safety rules (`medspeak/triage/data/safety_rules.json`) run after the model "
        "and can only make the level more urgent; a separate critical alert flags possible level 1-2 patients, and "
        "a second reader flags a nurse's level that is likely too low.",
        "",
        "## Data (TRIPOD+AI 5-8)",
        f"- Source: `{data_name}`, emergency triage records from two Korean EDs (one local, one regional), "
        "Moon SH et al., PLOS ONE 2019, doi:10.1371/journal.pone.0216972 (CC BY 4.0). Adults (16-92 years).",
        f"- Outcome: `KTAS_expert`, the level given by experts after review. {meta['training_rows']} records "
        f"for training and tuning, {meta['holdout_rows']} held out (stratified by level, seed {meta['seed']}), "
        "used only for the figures below.",
        f"- Never used as predictors (known only after triage): {', '.join(LEAKAGE_COLUMNS)}. `KTAS_RN` (the "
        "nurse's level) feeds only the second reader.",
        "- Missing values: `??` vitals and absent SpO2 (recorded at one site only) stay missing; the trees "
        "learn a direction for them, and each result lists its missing inputs with the weight they carried.",
        "",
        "## Model (TRIPOD+AI 12)",
        f"- XGBoost multi-class, {meta['rounds']} rounds, depth {meta['params']['max_depth']}, learning rate "
        f"{meta['params']['eta']}; {len(meta['features'])} features: vitals, shock index, AVPU, pain, arrival, "
        "sex, age, injury, and the complaint's TF-IDF cosine similarity to 26 complaint categories.",
        f"- Training weights per expert level 1-5: {', '.join(f'{w:g}' for w in meta['class_weights'])}.",
        f"- Calibration: temperature scaling (T = {model.temperature}) fitted on 5-fold out-of-fold margins "
        f"(minimum negative log-likelihood; Guo et al., ICML 2017). Out-of-fold ECE {oof['ece']:.3f} "
        f"(n = {oof['n']}).",
        "- **Level shown**: the most probable level, then the safety rules with effect `level`, which can only make "
        "it more urgent. No threshold moves the level: catching level 1-2 patients is the critical alert's job, "
        f"so the level stays as accurate as the model can make it. Out of fold: accuracy {oof['accuracy']:.3f}, "
        f"quadratic kappa {oof['kappa_quadratic']:.3f}, over-triage {oof['over_triage']:.3f}.",
        f'- **Critical alert** ("possible level 1-2", shown beside the level, never replacing it): P(level 1-2) ≥ '
        f"{model.alert_threshold}, or the level is 1-2, or an alert rule fired. The threshold is the lowest (the "
        f"most sensitive) whose out-of-fold alert rate stays ≤ {meta['max_alert_rate']:.0%}. Out of fold: "
        f"sensitivity {oof['critical_alert']['sensitivity']:.3f}, "
        f"alert rate {oof['critical_alert']['alert_rate']:.3f}.",
        f"- **Second reader**: flags a nurse's level when P(a more urgent level than the nurse's) ≥ "
        f"{model.second_reader_threshold}, or when a safety rule (effect `level`) asks for a more urgent level than "
        f"hers. The threshold: within an out-of-fold flag rate ≤ {meta['max_flag_rate']:.0%} and catching ≥ "
        f"{meta['min_caught']:.0%} of the nurses' under-triage, the fewest level 1-2 patients left both under-triaged "
        "by the nurse and unflagged. The nurse's level is its input by definition; it never enters the model.",
        "",
        "### The critical alert's operating curve (out of fold, training part)",
        "",
        "| P(level 1-2) threshold | sensitivity | alert rate |",
        "|---|---|---|",
        *[f"| {p['threshold']:g} | {p['sensitivity']:.3f} | {p['alert_rate']:.3f} |" for p in meta["alert_curve"]],
        "",
        "### The second reader's operating curve (out of fold, training part)",
        "",
        "| threshold | flag rate | nurses' under-triage caught | nurses' critical under-triage | left unflagged |",
        "|---|---|---|---|---|",
        *[
            f"| {p['threshold']:g} | {p['flag_rate']:.3f} | {p['nurse_under_triage_caught']:.3f} | "
            f"{p['nurse_critical_under_triage']:.3f} | {p['combined_critical_under_triage']:.3f} |"
            for p in meta.get("reader_curve", [])
        ],
        "",
        "### Safety rules and their precision (training part)",
        "",
        "Precision: the share of the patients a rule fired on whom the experts placed at the rule's level or more "
        "urgent. A rule caps the level (effect `level`) when it is a KTAS first-order modifier or a danger-zone vital "
        "sign and its precision is ≥ 0.70 (or it fired on too few patients to judge, < 5); otherwise it raises the "
        "alert only (effect `alert`). Shock (hypotension with tachycardia → level 1) is kept as the KTAS manual writes "
        "it whatever its count here.",
        "",
        "| rule | effect | level | fired | precision | experts' levels 1/2/3/4/5 |",
        "|---|---|---|---|---|---|",
        *[
            f"| {r['id']} | {r['effect']} | {r['level']} | {r['fired']} | "
            f"{'–' if r['precision'] is None else format(r['precision'], '.2f')} | "
            f"{'/'.join(str(k) for k in r['expert_levels'])} |"
            for r in meta["rule_precision"]
        ],
        "",
        f"## Performance on the held-out part (n = {figures['n']}) (TRIPOD+AI 23)",
        "",
        "95 % bootstrap intervals (500 resamples) for the system.",
        "",
        *_table(figures, cis, alone, nurse),
        "",
        f"Critical alert: sensitivity {alert['sensitivity']:.3f} at an alert rate of {alert['alert_rate']:.3f} "
        "(targets ≥ 0.95 at ≤ 0.35). Its operating curve on the held-out part (for the record, not for choosing):",
        "",
        "| P(level 1-2) threshold | sensitivity | alert rate |",
        "|---|---|---|",
        *[
            f"| {t:g} | {f['sensitivity']:.3f} | {f['alert_rate']:.3f} |"
            for t, f in _alert_points(model, scored, holdout)
        ],
        "",
        f"Second reader: flags {reader.get('flag_rate', 0):.1%} of patients and catches "
        f"{reader.get('nurse_under_triage_caught', 0):.1%}"
        + ("" if reader_ci is None else f" ({reader_ci[0]:.0%}-{reader_ci[1]:.0%})")
        + " of the nurses' under-triaged patients; level 1-2 patients the nurses placed at 3 or below: "
        f"{reader.get('nurse_critical_under_triage', 0):.3f}, of whom left unflagged: "
        f"{reader.get('combined_critical_under_triage', 0):.3f} of all level 1-2 patients (targets: ≥ 50 % caught, "
        "≤ 0.08 left, at ≤ 15 % flagged). Its operating curve on the held-out part (for the record):",
        "",
        "| threshold | flag rate | nurses' under-triage caught | left unflagged |",
        "|---|---|---|---|",
        *[
            f"| {t:g} | {f['flag_rate']:.3f} | {f['nurse_under_triage_caught']:.3f} | "
            f"{f['combined_critical_under_triage']:.3f} |"
            for t, f in _reader_points(model, scored, holdout)
        ],
        "",
        f"Calibration: held-out ECE {figures['ece']:.3f}; a perfectly calibrated model with these probabilities "
        f"would show {floor:.3f} on {figures['n']} patients by sampling noise alone (labels drawn from its own "
        f"probabilities, mean of 200 draws), against {oof['ece']:.3f} out of fold on {oof['n']}. At this sample "
        "size ECE cannot separate calibrated from slightly miscalibrated.",
        "",
        "![Calibration](calibration.png)",
        "",
        "## Subgroups, held-out part (95 % bootstrap intervals, 1,000 resamples)",
        "",
        "| group | n | accuracy of the level | critical under-triage of the level | critical alert sensitivity |",
        "|---|---|---|---|---|",
        *[_row(name, rows, holdout.expert, scored.level, scored.alert) for name, rows in groups],
        "",
        "## Global importance (mean |SHAP| over levels, held-out part)",
        "",
        "| feature | mean abs SHAP |",
        "|---|---|",
        *[f"| {name} | {value:.3f} |" for name, value in importance],
        "",
        "## Limits",
        "- Trained on 811 records from two Korean emergency departments; adults only (16+): not for children.",
        "- SpO2 was recorded at one site only; the complaint text is short English (some Korean text was lost "
        "to encoding and counts as missing).",
        "- The experts' level is itself a judgement; intervals above are wide (n per subgroup is small).",
        "- The alert cannot reach 0.95 sensitivity within a 35 % alert rate on these records (operating curve above): "
        "P(level 1-2) ranks level 1-2 patients with an AUC near 0.90, and a fifth of them look like level 3 on "
        "every input recorded here. Search for a better model: `SEARCH.md`.",
        "- The second reader sees only the model's probabilities and the rules, not the nurse's reasoning: on the "
        "held-out part it flags 2 of the 8 level 1-2 patients the nurses under-triaged at a 13 % flag rate, against "
        "4 of 8 out of fold; these counts are too small to tell a weaker reader from a harder sample.",
        "- Fever with immunosuppression reads a form field (immunocompromised) the KTAS records do not have: "
        "its precision cannot be measured here (it never fires on them).",
        "",
        "Reproduce: `medspeak train triage --data ../shared/data/ktas/ktas_train.csv`; "
        "the held-out figures above: `medspeak eval triage --data ../shared/data/ktas/ktas_train.csv --holdout "
        "--json`; evaluate any KTAS-format file: `medspeak eval triage --data FILE --json`.",
    ]
    (folder / "MODEL_CARD.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_manifest(folder: Path) -> dict[str, str]:
    """SHA-256 of every artifact file and of the data files the features depend on."""
    files = {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.name != MANIFEST_FILE}
    files.update({name: sha256_file(path) for name, path in DATA_FILES.items()})
    (folder / MANIFEST_FILE).write_text(json.dumps({"sha256": files}, indent=2) + "\n", encoding="utf-8")
    return files
