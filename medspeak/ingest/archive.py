"""What an archive run reads: every file of a folder, or the rows of a manifest CSV (file path + MRN).

A folder gives documents with no patient; a manifest attaches each file to the patient of its MRN
column, and only that: a patient is never guessed from a filename or a document's text.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from medspeak.errors import ValidationFailed
from medspeak.i18n import N_

__all__ = ["ArchiveEntry", "read_archive"]


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One file to index: where it is, the MRN it belongs to, and where it was listed (for the error report)."""

    path: Path
    mrn: str | None
    source: str  # "row 7" of a manifest, or the path relative to the folder


def read_archive(source: Path, *, path_column: str = "path", mrn_column: str = "mrn") -> list[ArchiveEntry]:
    """The files of ``source`` in a stable order (sorted paths for a folder, row order for a manifest).

    Raises:
        ValidationFailed: ``source`` is neither a folder nor a CSV, or the manifest lacks a column.
    """
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and not _hidden(p.relative_to(source)))
        return [ArchiveEntry(p, None, p.relative_to(source).as_posix()) for p in files]
    if source.is_file() and source.suffix.lower() == ".csv":
        return _manifest(source, path_column, mrn_column)
    raise ValidationFailed(N_("{source} is neither a folder nor a manifest (.csv)."), source=source)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)  # .DS_Store, editors' temporary files


def _manifest(manifest: Path, path_column: str, mrn_column: str) -> list[ArchiveEntry]:
    try:
        with manifest.open(encoding="utf-8-sig", newline="") as handle:  # utf-8-sig: spreadsheets add a BOM
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in (path_column, mrn_column) if c not in columns]
            if missing:
                raise ValidationFailed(
                    N_("The manifest lacks the column(s) {value}; its columns are: {value2}."),
                    value=", ".join(missing),
                    value2=", ".join(columns),
                )
            entries = []
            for row in reader:
                raw_path, mrn = (row.get(path_column) or "").strip(), (row.get(mrn_column) or "").strip()
                if not raw_path:
                    continue  # a blank line at the end of a spreadsheet export
                path = Path(raw_path)
                entries.append(
                    ArchiveEntry(path if path.is_absolute() else manifest.parent / path, mrn, f"row {reader.line_num}")
                )
            return entries
    except UnicodeDecodeError as exc:
        raise ValidationFailed(N_("The manifest is not UTF-8 text; export it as CSV UTF-8.")) from exc
    except csv.Error as exc:
        raise ValidationFailed(N_("The manifest is not valid CSV: {exc}"), exc=exc) from exc
