"""``medspeak``: the one command-line entry point (set-up, demo data, users, audit).

Examples::

    medspeak init                 # migrate, create demo users and data on first start
    medspeak audit verify         # check the audit trail's hash chain
    medspeak users add jdoe --role clinician
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from medspeak.auth.roles import CLI, Role
from medspeak.config import load_settings, secrets_file
from medspeak.errors import MedspeakError
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.triage.training import cli as triage_cli

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="medspeak: make medical records speak.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
demo_app = typer.Typer(no_args_is_help=True, help="Synthetic demo data.")
audit_app = typer.Typer(no_args_is_help=True, help="The audit trail.")
users_app = typer.Typer(no_args_is_help=True, help="Accounts and roles.")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
train_app = typer.Typer(no_args_is_help=True, help="Train the models (artifacts under models/).")
eval_app = typer.Typer(no_args_is_help=True, help="Evaluate on data of a given format; --json for one JSON line.")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
export_app = typer.Typer(no_args_is_help=True, help="Export patient records (FHIR) and reviewed facts (gold JSONL).")
app.add_typer(export_app, name="export")
index_app = typer.Typer(no_args_is_help=True, help="Index documents in bulk (a hospital's archive).")
app.add_typer(index_app, name="index")
# Registered as they are: their options live with them, and importing them loads no model stack.
train_app.command("triage")(triage_cli.train_command)  # medspeak train triage --data CSV [--out DIR]
eval_app.command("triage")(triage_cli.eval_command)  # medspeak eval triage --data CSV [--json] [--model DIR]
_MimicDir = Annotated[Path, typer.Option("--mimic", help="MIMIC-IV-format folder", exists=True, file_okay=False)]
_Json = Annotated[bool, typer.Option("--json", help="Print one JSON object")]

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


@app.callback()
def _refuse_weak_keys(ctx: typer.Context) -> None:
    """Every command but ``init`` (which writes the keys) refuses to start on a missing or default key."""
    if ctx.invoked_subcommand != "init":
        load_settings()  # raises ValueError (caught by main) outside explicit development mode


def _context(cli: typer.Context) -> AppContext:
    """The command's application context: built on first use (the schema migrated), closed when the command ends."""
    root = cli.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext.open(migrate=True)
        root.call_on_close(root.obj.close)
    return root.obj


def _store(cli: typer.Context) -> Store:
    return _context(cli).store


@db_app.command("upgrade")
def db_upgrade(cli: typer.Context) -> None:
    """Create or upgrade the schema (safe to repeat)."""
    store = _store(cli)
    typer.echo(f"Database ready: {store.engine.url.render_as_string(hide_password=True)}")


@app.command()
def init(cli: typer.Context) -> None:
    """Write the install's random keys if missing; migrate; on first start create demo accounts and data."""
    from medspeak.keys import ensure_install_keys
    from medspeak.services.bootstrap import ensure_demo_users

    written = ensure_install_keys(secrets_file())
    if written:
        typer.echo(f"Random {', '.join(written)} written to {secrets_file()} (mode 0600): keep it private.")
    ctx = _context(cli)  # after the keys are written: the context reads them
    settings, store = ctx.settings, ctx.store
    created = ensure_demo_users(store)
    if created:
        typer.echo(f"Demo accounts created (shown once; also in {settings.credentials_file}, mode 0600):")
        for cred in created:
            typer.echo(f"  {cred.username:<12} {cred.role:<12} {cred.password}")
    if settings.seed_demo:
        _seed(cli, settings.demo_patients, settings.demo_seed)
    from medspeak.services.documents import queue_unread

    queued = queue_unread(store)
    if queued:
        typer.echo(f"{queued} document(s) queued for reading; the app reads them in the background.")


def _seed(cli: typer.Context, patients: int, seed: int) -> None:
    from medspeak.demo.seed import seed_demo

    report = seed_demo(_store(cli), n_patients=patients, seed=seed)
    if report.skipped:
        typer.echo("Demo data: already present, nothing written.")
    else:
        typer.echo(
            f"Demo data: {report.patients} patients, {report.encounters} encounters, "
            f"{report.documents} documents, {report.inpatients_now} in beds now."
        )


@demo_app.command("seed")
def demo_seed(
    cli: typer.Context,
    patients: Annotated[int | None, typer.Option(help="How many patients")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed, same data)")] = None,
) -> None:
    """Write synthetic patients, stays and documents into an empty store."""
    settings = _context(cli).settings
    _seed(
        cli,
        patients if patients is not None else settings.demo_patients,
        seed if seed is not None else settings.demo_seed,
    )


@demo_app.command("reset")
def demo_reset(cli: typer.Context) -> None:
    """Put a demo install's data back to its seeded state (refused unless MEDSPEAK_DEMO=true); audited."""
    from medspeak.services import demo

    report = demo.reset(_context(cli), read_now=False)  # the app reads them, not this short-lived command
    seeded = report.seeded
    typer.echo(
        f"Demo data reset: {seeded.patients} patients, {seeded.encounters} encounters, {seeded.documents} documents, "
        f"{seeded.inpatients_now} in beds now; {report.queued} document(s) queued for reading."
    )


@demo_app.command("samples")
def demo_samples(
    out: Annotated[Path, typer.Option(help="Folder to write the documents into")],
    n: Annotated[int, typer.Option(help="How many documents")] = 12,
    seed: Annotated[int, typer.Option()] = 7,
) -> None:
    """Write sample documents (text, PDF, scans; English and French) with their ground truth."""
    from medspeak.demo.seed import write_samples

    paths = write_samples(out, n=n, seed=seed)
    typer.echo(f"{len(paths)} documents written to {out}")


@audit_app.command("verify")
def audit_verify(
    cli: typer.Context,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", exists=True, dir_okay=False, help="A signed checkpoint to check against"),
    ] = None,
) -> None:
    """Check every link of the audit trail (and that it holds each checkpoint); exit 1 when it was tampered with."""
    from medspeak.services.audit_log import verify

    anchors = [line for path in checkpoint or [] for line in path.read_text().splitlines() if line.strip()]
    report = verify(_store(cli), CLI, anchors)
    if report.ok:
        typer.echo(f"Audit chain OK: {report.checked} events verified.")
        return
    typer.echo(
        f"Audit chain BROKEN at event {report.first_bad_id}: {report.reason} "
        f"({report.checked} events verified before it).",
        err=True,
    )
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    cli: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Append the checkpoint to this file (keep it elsewhere)")
    ] = None,
) -> None:
    """Print (or append to --out) a signed checkpoint of the trail: `audit verify --checkpoint` detects cut rows."""
    from medspeak.services.audit_log import checkpoint

    signed = checkpoint(_store(cli), CLI)
    if out is None:
        typer.echo(signed)
    else:
        with out.open("a", encoding="utf-8") as handle:
            handle.write(signed + "\n")
        typer.echo(f"Checkpoint at event {json.loads(signed)['last_id']} appended to {out}.", err=True)


# Every command below acts through the services as the system actor (CLI): the same checks and audit rows as
# an administrator's clicks, no SQL of its own.
@users_app.command("add")
def users_add(
    cli: typer.Context,
    username: str,
    role: Annotated[Role, typer.Option(help="clinician, bed_manager or admin")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
) -> None:
    """Create an account; its random password is printed once."""
    from medspeak.services.users import create_user

    summary, password = create_user(_store(cli), CLI, username, name, role.value)
    typer.echo(f"{summary.username} ({summary.role}) password: {password}")


@users_app.command("unlock")
def users_unlock(cli: typer.Context, username: str) -> None:
    """Clear failed attempts and a lockout."""
    from medspeak.services.users import unlock

    summary = unlock(_store(cli), CLI, username)
    typer.echo(f"{summary.username} unlocked.")


apikey_app = typer.Typer(no_args_is_help=True, help="API keys of service accounts (shown once, stored hashed).")
users_app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def users_apikey_create(
    cli: typer.Context,
    username: Annotated[str, typer.Argument(help="The (service) account the key acts as; its role applies")],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'lab interface'")],
    expires_days: Annotated[int | None, typer.Option(help="Expire after this many days (never by default)")] = None,
) -> None:
    """Create an API key; it is printed once and only its hash is kept."""
    from medspeak.services.apikeys import create_key

    summary, key = create_key(_store(cli), CLI, username, name, expires_days=expires_days)
    typer.echo(f"API key {summary.id} for {summary.username} ({summary.role}), shown once:\n{key}")


@apikey_app.command("revoke")
def users_apikey_revoke(
    cli: typer.Context,
    key_id: Annotated[int, typer.Argument(help="The key's id (see `medspeak users apikey list`)")],
) -> None:
    """Revoke an API key at once; requests with it get 401."""
    from medspeak.services.apikeys import revoke_key

    summary = revoke_key(_store(cli), CLI, key_id)
    typer.echo(f"API key {summary.id} ({summary.prefix}...) of {summary.username} revoked.")


@apikey_app.command("list")
def users_apikey_list(cli: typer.Context) -> None:
    """Every API key with its account, state and dates (never the keys)."""
    from medspeak.services.apikeys import list_keys

    for k in sorted(list_keys(_store(cli), CLI), key=lambda k: k.id):
        state = "revoked" if k.revoked_at else "active" if k.active else "expired"
        typer.echo(f"{k.id:>4}  {k.prefix}...  {k.username:<16} {state:<8} {k.name}")


@train_app.command("los")
def train_los(mimic: _MimicDir) -> None:
    """Train the length-of-stay model; writes models/los/ with its model card and manifest."""
    from medspeak.los.training.cli import train_command

    train_command(mimic)


@eval_app.command("los")
def eval_los(mimic: _MimicDir, json_out: _Json = False) -> None:
    """Length of stay at admission on every admission of a MIMIC-IV folder."""
    from medspeak.los.training.cli import eval_los_command

    eval_los_command(mimic, json_out)


@eval_app.command("occupancy")
def eval_occupancy(mimic: _MimicDir, json_out: _Json = False) -> None:
    """Back-test of the 14-day bed-occupancy forecast."""
    from medspeak.los.training.cli import eval_occupancy_command

    eval_occupancy_command(mimic, json_out)


@eval_app.command("extraction")
def eval_extraction(
    synthea: Annotated[Path | None, typer.Option("--synthea", exists=True, file_okay=False)] = None,
    gold: Annotated[Path | None, typer.Option("--gold", exists=True, dir_okay=False)] = None,
    reports: Annotated[Path | None, typer.Option("--reports", exists=True)] = None,
    backend: Annotated[str, typer.Option("--backend")] = "auto",
    limit: Annotated[int | None, typer.Option("--limit")] = None,
    split: Annotated[
        Path | None, typer.Option("--split", exists=True, dir_okay=False, help="JSON naming parts of the gold")
    ] = None,
    part: Annotated[str, typer.Option("--part", help="Part of --split to score (holdout, development)")] = "holdout",
    findings: Annotated[
        bool, typer.Option("--findings/--no-findings", help="Count examination findings with problems")
    ] = True,
    json_out: _Json = False,
) -> None:
    """Evaluate fact extraction on Synthea FHIR notes or hand-annotated gold JSONL."""
    import json

    from medspeak.indexing.evaluation import eval_extraction_command

    ids = set(json.loads(split.read_text(encoding="utf-8"))[part]) if split else None
    try:
        typer.echo(eval_extraction_command(synthea, gold, reports, backend, json_out, limit, ids, findings))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@eval_app.command("ocr")
def eval_ocr(
    reports: Annotated[Path, typer.Option("--reports", exists=True, dir_okay=False, help="MTSamples-format CSV")],
    n: Annotated[int, typer.Option("--n", help="Reports to render")] = 20,
    engine: Annotated[str, typer.Option("--engine")] = "auto",
    json_out: _Json = False,
) -> None:
    """OCR character and word error rates on rendered reports, clean and degraded like scans."""
    from medspeak.ingest.evaluation import eval_ocr_command

    eval_ocr_command(reports, n, engine, json_out)


@app.command()
def ocr(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="PDF, image, TXT or DOCX")],
    engine: Annotated[str, typer.Option(help="auto, tesseract, rapidocr or easyocr")] = "auto",
    language: Annotated[str, typer.Option(help="auto, en or fr")] = "auto",
    json_out: Annotated[bool, typer.Option("--json", help="Words with boxes and confidences, as JSON")] = False,
) -> None:
    """Read a file's text (text layer or OCR), with the same checks as an upload."""
    import json

    from medspeak.ingest.ocr import get_engine
    from medspeak.ingest.pipeline import extract
    from medspeak.ingest.validate import validate_upload

    settings = load_settings()  # reading a file needs no database
    upload = validate_upload(
        file.name, file.read_bytes(), max_bytes=settings.max_upload_bytes, max_pages=settings.max_pages
    )
    result = extract(upload, lambda: get_engine(engine), language=language, page_budget_s=settings.ocr_page_budget_s)
    if not json_out:
        typer.echo(result.text)
        return
    pages = [
        {
            "page": p.number,
            "source": p.source,
            "width": p.width,
            "height": p.height,
            "error": p.error,
            "seconds": round(p.seconds, 3),
            "text": p.text,
            "words": [
                dict(zip(("text", "x0", "y0", "x1", "y1", "conf", "line"), w.to_json(), strict=True)) for w in p.words
            ],
        }
        for p in result.pages
    ]
    typer.echo(json.dumps({"file": upload.display_name, "kind": upload.kind.value, "pages": pages}, ensure_ascii=False))


_User = Annotated[str, typer.Option("--user", help="Account the export is made and audited for (a clinician)")]


@export_app.command("fhir")
def export_fhir(
    cli: typer.Context,
    patient_id: int,
    user: _User,
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: standard output)")] = None,
) -> None:
    """A patient's merged record as a validated FHIR R4 Bundle (JSON)."""
    from medspeak.services.record import actor_for, fhir_export

    store = _store(cli)
    export = fhir_export(store, actor_for(store, user), patient_id)
    if out is None:
        typer.echo(export.content)
    else:
        out.write_text(export.content, encoding="utf-8")
        typer.echo(f"{export.resources} resources written to {out}", err=True)


@export_app.command("gold")
def export_gold_command(
    cli: typer.Context,
    user: _User,
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write")],
    patient_id: Annotated[int | None, typer.Option("--patient", help="Only this patient's documents")] = None,
    partial: Annotated[bool, typer.Option("--partial", help="Also documents not fully reviewed")] = False,
) -> None:
    """Reviewed facts as gold annotations, for `medspeak eval extraction --gold`."""
    from medspeak.services.record import actor_for, export_gold, gold_jsonl

    store = _store(cli)
    lines = export_gold(store, actor_for(store, user), patient_id=patient_id, complete_only=not partial)
    out.write_text(gold_jsonl(lines), encoding="utf-8")
    typer.echo(f"{len(lines)} reviewed document(s) written to {out}")


@index_app.command("archive")
def index_archive_command(
    cli: typer.Context,
    source: Annotated[Path, typer.Argument(exists=True, help="A folder, or a manifest CSV (file path, MRN)")],
    user: Annotated[str, typer.Option("--user", help="Account the files are uploaded and audited as (clinician)")],
    path_column: Annotated[str, typer.Option(help="Manifest column with the file's path")] = "path",
    mrn_column: Annotated[str, typer.Option(help="Manifest column with the patient's MRN")] = "mrn",
) -> None:
    """Upload and read every file; run it again to resume (nothing is stored or read twice). Exit 1 on failures."""
    from medspeak.cli_archive import run_archive

    raise typer.Exit(run_archive(_context(cli), source, user, path_column, mrn_column))


@app.command()
def worker(
    cli: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Documents read at once (default: MEDSPEAK_INGEST_WORKERS)")
    ] = None,
) -> None:
    """Read documents from the task engine (MEDSPEAK_QUEUE_URL) until stopped; start one per machine."""
    from medspeak.services.reading_queue import QUEUE, ensure_schema, queue_app

    ctx = _context(cli)
    store = ctx.store
    url = store.settings.queue_url
    if not url:
        raise MedspeakError("MEDSPEAK_QUEUE_URL is not set: documents are read by the app itself.")
    queue = queue_app(url, ctx)
    ensure_schema(queue)
    typer.echo(f"Worker reading queue {QUEUE!r} (Ctrl-C stops after the documents in progress).", err=True)
    queue.run_worker(queues=[QUEUE], concurrency=concurrency or store.settings.ingest_workers)


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Interface; keep loopback behind a TLS proxy")] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Server processes (default: MEDSPEAK_API_WORKERS, else one a core)")
    ] = None,
) -> None:
    """Start the REST API (OpenAPI at /docs), what `make api` does."""
    from medspeak.api import serve as serve_api

    serve_api(host, port, workers)


@app.command()
def serve(port: Annotated[int, typer.Option()] = 8501) -> None:
    """Start the Streamlit app on 127.0.0.1 (what `make run` does after `init`)."""
    os.chdir(_PROJECT_ROOT)  # the launcher lives beside app.py, outside this package
    args = [sys.executable, "-m", "components.server", "--server.address", "127.0.0.1", "--server.port", str(port)]
    os.execv(sys.executable, args)  # noqa: S606 - replaces this process with Streamlit, fixed arguments


def main() -> None:
    try:
        app()
    except MedspeakError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ValueError as exc:  # settings refused (e.g. weak secret in production)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
