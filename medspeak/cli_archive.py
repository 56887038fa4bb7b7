"""``medspeak index archive``: the progress bar and the failure list around :mod:`medspeak.services.archive`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from medspeak.errors import MedspeakError
from medspeak.services.archive import finish_reading, index_archive, read_archive
from medspeak.services.context import AppContext
from medspeak.services.record import actor_for

__all__ = ["run_archive"]


class _Rate(ProgressColumn):
    """Documents an hour, the unit an archive is planned in (rich's speed is a windowed per-second rate)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed * 3600:,.0f} docs/h" if speed else "-- docs/h")


def run_archive(ctx: AppContext, source: Path, user: str, path_column: str, mrn_column: str) -> int:
    """Index ``source``; returns the exit status (0 all done, 1 some failed, 2 nothing could start)."""
    err = Console(stderr=True)
    try:
        entries = read_archive(source, path_column=path_column, mrn_column=mrn_column)
        actor = actor_for(ctx.store, user)
    except MedspeakError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    columns = (
        TextColumn("Indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("docs, {task.fields[pages]} pages"),
        _Rate(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("archive", total=len(entries), pages=0)

        def advance(done: int, total: int, pages: int) -> None:
            bar.update(task, completed=done, pages=pages)

        try:
            report = index_archive(ctx, actor, entries, progress=advance)
        except KeyboardInterrupt:
            bar.stop()
            typer.echo("Interrupted: finishing the documents being read; run the same command to resume.", err=True)
            finish_reading(ctx)  # waits for the documents in progress; queued ones stay queued for the next run
            return 130
        except MedspeakError as exc:  # refused (permissions) or the store went away: what is queued stays queued
            bar.stop()
            typer.echo(f"error: {exc}", err=True)
            return 2
    typer.echo(f"{report.done} of {report.total} document(s) indexed ({report.pages} pages read in this run).")
    if report.failed:
        typer.echo(f"{len(report.failed)} failed:")
        for item in report.failed:
            typer.echo(f"  {item.entry.source}: {item.reason}")
        return 1
    return 0
