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
from medspeak.triage.metrics import agreement, bootstrap_ci
from medspeak.triage.model import TriageModel, sha256_file

__all__ = ["write_card", "write_manifest"]

_AGE_BANDS: Final = ((16, 40, "16-39"), (40, 65, "40-64"), (65, 200, "65+"))
_KEYS: Final = ("accuracy", "kappa_quadratic", "critical_under_triage", "under_triage", "over_triage", "ece")


def _calibration_plot(probabilities: npt.NDArray[np.float64], expert: npt.NDArray[np.int_], path: Path) -> None:
    """Reliability diagram of the top-level probability, drawn with Pillow (no plotting stack to install)."""
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


def _row(name: str, rows: npt.NDArray[np.bool_], expert: Any, level: Any) -> str:
    idx = np.flatnonzero(rows)
    if len(idx) == 0:
        return f"| {name} | 0 | – | – |"
    acc = float((level[idx] == expert[idx]).mean())
    acc_ci = bootstrap_ci(len(idx), lambda r: float((level[idx[r]] == expert[idx[r]]).mean()))
    critical = idx[expert[idx] <= 2]
    if len(critical):
        miss = float((level[critical] >= 3).mean())
        miss_ci = bootstrap_ci(len(critical), lambda r: float((level[critical[r]] >= 3).mean()))
        miss_text = f"{miss:.2f} ({miss_ci[0]:.2f}-{miss_ci[1]:.2f}), n = {len(critical)}"
    else:
        miss_text = "no level 1-2 patient"
    return f"| {name} | {len(idx)} | {acc:.2f} ({acc_ci[0]:.2f}-{acc_ci[1]:.2f}) | {miss_text} |"


def _table(figures: dict[str, Any], nurse: dict[str, Any] | None) -> list[str]:
    lines = ["| | model | nurses (KTAS_RN) |", "|---|---|---|"]
    for key in _KEYS:
        model_value = figures[key]
        nurse_value = None if nurse is None else nurse.get(key)
        lines.append(
            f"| {key} | {model_value:.3f} | {'–' if nurse_value is None else f'{nurse_value:.3f}'} |"
            if model_value is not None
            else f"| {key} | – | – |"
        )
    return lines


def write_card(model: TriageModel, holdout: KtasData, folder: Path, data_name: str) -> None:
    """Write ``MODEL_CARD.md`` and ``calibration.png`` for ``model``, evaluated on ``holdout``."""
    scored = model.score(holdout.inputs)
    _calibration_plot(scored.probabilities, holdout.expert, folder / "calibration.png")
    figures = agreement(holdout.expert, scored.level, scored.probabilities)
    nurse = None if holdout.nurse is None else agreement(holdout.expert, holdout.nurse)
    reader = model.meta["holdout"].get("second_reader") or {}
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
        "and can only make the level more urgent.",
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
        f"- Calibration: temperature scaling (T = {model.temperature}) fitted on 5-fold out-of-fold scores.",
        f"- **Decision threshold**: level 1-2 whenever P(level 1 or 2) ≥ {model.critical_threshold}, chosen on "
        f"the out-of-fold scores to minimise {meta['under_triage_cost']:g} × (missed level 1-2 patients) + "
        "(patients placed at level 1-2 who did not need it): missing a critical patient is weighed as five "
        "unnecessary fast-tracks (trauma-system practice accepts 25-35 % over-triage to keep under-triage "
        "near 5 %: ACS-COT, Resources for Optimal Care of the Injured Patient, 2014).",
        f"- Second reader: flags a nurse's level when P(a more urgent level) ≥ {model.second_reader_threshold} "
        "(the lowest threshold whose out-of-fold flag rate stays ≤ 12 %).",
        "",
        "Out-of-fold trade-off (training part, rules applied) for other thresholds a clinical lead may prefer:",
        "",
        "| P(1-2) threshold | accuracy | quadratic kappa | critical under-triage | over-triage |",
        "|---|---|---|---|---|",
        *[
            f"| {p['threshold']:g} | {p['accuracy']:.3f} | {p['kappa_quadratic']:.3f} | "
            f"{p['critical_under_triage']:.3f} | {p['over_triage']:.3f} |"
            for p in meta["operating_points"]
        ],
        "",
        f"## Performance on the held-out part (n = {figures['n']}) (TRIPOD+AI 23)",
        "",
        *_table(figures, nurse),
        "",
        f"Second reader: flags {reader.get('flag_rate', 0):.1%} of patients and catches "
        f"{reader.get('nurse_under_triage_caught', 0):.1%} of the nurses' under-triaged patients.",
        "",
        "![Calibration](calibration.png)",
        "",
        "## Subgroups, held-out part (95 % bootstrap intervals, 1,000 resamples)",
        "",
        "| group | n | accuracy | critical under-triage |",
        "|---|---|---|---|",
        *[_row(name, rows, holdout.expert, scored.level) for name, rows in groups],
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
        "- The targets of the issue (accuracy ≥ 0.72 with critical under-triage ≤ 10 %) are not met together: "
        "see the trade-off table. The thresholds favour catching critical patients.",
        "",
        "Reproduce: `medspeak train triage --data ../shared/data/ktas/ktas_train.csv`; "
        "evaluate any KTAS-format file: `medspeak eval triage --data FILE --json`.",
    ]
    (folder / "MODEL_CARD.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_manifest(folder: Path) -> dict[str, str]:
    """SHA-256 of every artifact file and of the data files the features depend on."""
    from medspeak.triage.complaints import PATHWAYS_FILE
    from medspeak.triage.rules import RULES_FILE

    files = {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    files["medspeak/triage/data/pathways.json"] = sha256_file(PATHWAYS_FILE)
    files["medspeak/triage/data/safety_rules.json"] = sha256_file(RULES_FILE)
    (folder / "manifest.json").write_text(json.dumps({"sha256": files}, indent=2) + "\n", encoding="utf-8")
    return files
