"""``medspeak train triage`` and ``medspeak eval triage``.

Wired into ``medspeak/cli.py`` through ``train_command`` and ``eval_command``; ``app`` runs them alone
(``python -m medspeak.triage.training.cli train --data FILE``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

# The same folder as ``medspeak.triage.model.MODEL_DIR``, named here so that ``medspeak --help`` does not
# import xgboost, pandas and scikit-learn.
MODEL_DIR = Path(__file__).resolve().parents[3] / "models" / "triage"

__all__ = ["app", "eval_command", "train_command"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Triage model: train and evaluate.")

DataOption = Annotated[Path, typer.Option("--data", help="CSV in the KTAS format (;-separated, latin-1)")]


@app.command("train")
def train_command(data: DataOption, out: Annotated[Path, typer.Option(help="Artifact folder")] = MODEL_DIR) -> None:
    """Train on a KTAS CSV; write the artifact, model card, calibration plot and manifest."""
    from medspeak.triage.ktas import read_ktas
    from medspeak.triage.training.card import write_card, write_manifest
    from medspeak.triage.training.train import holdout_part, train

    result = train(data)
    result.model.save(out)
    holdout = holdout_part(read_ktas(data), result.holdout_index)
    write_card(result.model, holdout, out, data.name)
    write_manifest(out)
    h = result.holdout
    typer.echo(
        f"Triage model {result.model.version} written to {out}. Held-out part (n = {h['n']}): "
        f"accuracy {h['accuracy']:.3f}, quadratic kappa {h['kappa_quadratic']:.3f}, "
        f"critical alert sensitivity {h['critical_alert']['sensitivity']:.3f} at rate "
        f"{h['critical_alert']['alert_rate']:.3f}, ECE {h['ece']:.3f}."
    )


@app.command("eval")
def eval_command(
    data: DataOption,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    model_dir: Annotated[Path, typer.Option("--model", help="Artifact folder")] = MODEL_DIR,
    holdout: Annotated[
        bool, typer.Option("--holdout", help="Only the rows the model held out (its own training file only)")
    ] = False,
) -> None:
    """Evaluate the committed system on a KTAS-format CSV: its levels, critical alert, nurses, second reader.

    The figures are those of the levels the product shows: the most probable level, then the safety
    rules' caps. ECE is that of the calibrated model probabilities (the rules change levels only).
    """
    from medspeak.errors import ValidationFailed
    from medspeak.triage.ktas import read_ktas
    from medspeak.triage.model import TriageModel, sha256_file
    from medspeak.triage.training.train import evaluate, holdout_part, split

    model, records = TriageModel.load(model_dir), read_ktas(data)
    if holdout:
        if model.meta.get("data_sha256") != sha256_file(data):
            raise ValidationFailed(f"--holdout needs the file the model was trained on; {data.name} is another file.")
        records = holdout_part(records, split(records)[1])
    figures = evaluate(model, records)
    if json_out:
        typer.echo(json.dumps(figures))
        return
    nurse = figures["nurse"] or {}
    typer.echo(f"{'':24}{'system':>10}{'nurses':>10}   (system = model + safety rules)")
    for key in ("accuracy", "macro_f1", "kappa_linear", "kappa_quadratic", "under_triage", "over_triage"):
        typer.echo(f"{key:24}{figures[key]:>10.3f}{nurse.get(key, float('nan')):>10.3f}")
    for key in ("critical_under_triage",):
        typer.echo(f"{key:24}{figures[key]:>10.3f}{nurse.get(key, float('nan')):>10.3f}")
    typer.echo(f"{'ece':24}{figures['ece']:>10.3f}")
    a = figures["critical_alert"]
    typer.echo(f"critical alert: sensitivity {a['sensitivity']:.1%}, alert rate {a['alert_rate']:.1%}")
    if figures["second_reader"]:
        r = figures["second_reader"]
        typer.echo(
            f"second reader: flags {r['flag_rate']:.1%}, catches {r['nurse_under_triage_caught']:.1%} of the nurses' "
            f"under-triage; level 1-2 under-triaged by the nurse {r['nurse_critical_under_triage']:.1%}, "
            f"of whom unflagged {r['combined_critical_under_triage']:.1%}"
        )


if __name__ == "__main__":
    app()
