"""`medspeak index archive`: a folder or a manifest, attached by MRN only, resumable, nothing stored or read twice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from medspeak.auth.roles import Actor
from medspeak.cli import app
from medspeak.ingest.archive import read_archive
from medspeak.services import documents, patients
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from medspeak.store.models import Document
from tests.support.jobs import read_nothing, wait_for_job

runner = CliRunner()


def _note(n: int) -> bytes:
    return f"Discharge summary {n}.\nMetoprolol {n} mg twice daily.\nFollow-up in two weeks.\n".encode()


@pytest.fixture
def mrns(store: Store, actors: dict[str, Actor]) -> dict[str, int]:
    out = {}
    for mrn, name in (("H-001", "Silva"), ("H-002", "Moreau")):
        created = patients.register_patient(
            store,
            actors["clinician"],
            given_name="Ana",
            family_name=name,
            sex="female",
            birth_date=date(1961, 2, 3),
            mrn=mrn,
        )
        out[mrn] = created.id
    return out


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """Three good files (one of them the same bytes for two patients), an unknown MRN, a missing file, a
    refused file and a row without MRN."""
    folder = tmp_path / "archive"
    (folder / "scans").mkdir(parents=True)
    (folder / "a.txt").write_bytes(_note(1))
    (folder / "b.txt").write_bytes(_note(2))
    (folder / "scans" / "c.txt").write_bytes(_note(1))  # same original as a.txt, another patient
    (folder / "d.txt").write_bytes(_note(4))
    (folder / "e.exe").write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4)
    rows = [
        "path,mrn,comment",
        "a.txt,H-001,",
        "b.txt,H-001,",
        "scans/c.txt,H-002,",
        "d.txt,H-999,unknown patient",
        "missing.txt,H-002,",
        "e.exe,H-002,",
        "d.txt,,no MRN",
    ]
    path = folder / "manifest.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _documents(store: Store) -> list[tuple[int | None, str]]:
    with store.transaction() as db:
        return [(d.patient_id, d.display_name) for d in db.scalars(select(Document).order_by(Document.id))]


def _stored_files(store: Store) -> list[Path]:
    return sorted(p for p in store.settings.documents_dir.rglob("*") if p.is_file())


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["index", "archive", *args, "--user", "clinician"])
    return result.exit_code, result.output


def test_a_manifest_attaches_by_mrn_lists_failures_and_a_second_run_stores_and_reads_nothing(
    store: Store, mrns: dict[str, int], manifest: Path, reads: list[str]
) -> None:
    code, output = _run(str(manifest))
    assert code == 1, output
    assert "3 of 7 document(s) indexed" in output
    assert "4 failed:" in output
    failures = [line.strip() for line in output.splitlines() if line.startswith("  row ")]
    assert failures[0] == "row 5: Unknown MRN H-999: register the patient first."
    assert failures[1].startswith("row 6: Cannot read the file")
    assert failures[2].startswith("row 7: ")  # refused by the upload checks, with their reason
    assert failures[3] == "row 8: No MRN in the manifest: the patient is never guessed."
    assert _documents(store) == [(mrns["H-001"], "a.txt"), (mrns["H-001"], "b.txt"), (mrns["H-002"], "c.txt")]
    assert sorted(reads) == ["a.txt", "b.txt"]  # c.txt has a.txt's bytes: its pages are reused, not read again
    files = _stored_files(store)
    assert len(files) == 2

    code, again = _run(str(manifest))
    assert code == 1 and "3 of 7 document(s) indexed (0 pages read in this run)" in again
    assert len(_documents(store)) == 3 and _stored_files(store) == files
    assert sorted(reads) == ["a.txt", "b.txt"]


def test_a_folder_is_indexed_in_path_order_with_no_patient(
    store: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    folder = tmp_path / "inbox"
    (folder / "sub").mkdir(parents=True)
    for name, n in (("z.txt", 1), ("sub/m.txt", 2), ("a.txt", 3), (".hidden.txt", 4), ("sub/copy-of-z.txt", 1)):
        (folder / name).write_bytes(_note(n))
    assert [e.source for e in read_archive(folder)] == ["a.txt", "sub/copy-of-z.txt", "sub/m.txt", "z.txt"]
    code, output = _run(str(folder))
    assert code == 0, output
    assert "4 of 4 document(s) indexed" in output  # the copy is the same document, counted done with it
    assert _documents(store) == [(None, "a.txt"), (None, "copy-of-z.txt"), (None, "m.txt")]


def test_a_run_interrupted_after_queueing_resumes_without_reading_anything_twice(
    ctx: AppContext,
    store: Store,
    actors: dict[str, Actor],
    mrns: dict[str, int],
    tmp_path: Path,
    reads: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    for n in (1, 2, 3):
        (folder / f"{n}.txt").write_bytes(_note(n))
    manifest = folder / "list.csv"
    manifest.write_text("file,patient\n1.txt,H-001\n2.txt,H-001\n3.txt,H-002\n", encoding="utf-8")
    clinician = actors["clinician"]
    # The interrupted run: 1.txt read, 2.txt uploaded and queued when the process stopped.
    first = documents.upload(ctx, clinician, filename="1.txt", content=_note(1), patient_id=mrns["H-001"])
    assert first.job_id is not None and wait_for_job(store, clinician, first.job_id).status == "done"
    stopped = AppContext(ctx.settings, store)  # the interrupted process: its upload was queued, never read
    read_nothing(stopped)
    queued = documents.upload(stopped, clinician, filename="2.txt", content=_note(2), patient_id=mrns["H-001"])
    assert queued.job_id is not None
    code, output = _run(str(manifest), "--path-column", "file", "--mrn-column", "patient")
    assert code == 0, output
    assert "3 of 3 document(s) indexed" in output
    assert reads == ["1.txt", "2.txt", "3.txt"]
    assert len(_documents(store)) == 3


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("file,mrn\na.txt,H-001\n", "The manifest lacks the column(s) path; its columns are: file, mrn."),
        (None, "is neither a folder nor a manifest"),
    ],
)
def test_a_source_that_cannot_be_read_is_refused_before_anything_is_stored(
    store: Store, actors: dict[str, Actor], tmp_path: Path, content: str | None, expected: str
) -> None:
    source = tmp_path / ("manifest.csv" if content is not None else "notes.txt")
    source.write_text(content if content is not None else "not a manifest", encoding="utf-8")
    code, output = _run(str(source))
    assert code == 2 and expected in output
    assert _documents(store) == []


def test_an_account_without_upload_rights_is_refused(store: Store, actors: dict[str, Actor], manifest: Path) -> None:
    result = runner.invoke(app, ["index", "archive", str(manifest), "--user", "bedmanager"])
    assert result.exit_code == 2 and "does not allow" in result.output
    assert _documents(store) == []


def test_a_storage_failure_fails_that_file_only(
    store: Store, actors: dict[str, Actor], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from medspeak.store.files import DocumentStorage

    folder = tmp_path / "inbox"
    folder.mkdir()
    for n in (1, 2):
        (folder / f"{n}.txt").write_bytes(_note(n))
    real_put = DocumentStorage.put

    def full_disk_for_the_first(self, content, extension, db=None):  # type: ignore[no-untyped-def]
        if content == _note(1):
            raise OSError(28, "No space left on device")
        return real_put(self, content, extension, db)

    monkeypatch.setattr(DocumentStorage, "put", full_disk_for_the_first)
    code, output = _run(str(folder))
    assert code == 1 and "1.txt: Storage failed (No space left on device)." in output
    assert _documents(store) == [(None, "2.txt")]
