"""`podarchive ingest` and `reindex`: the pipeline once, for cron; the search index rebuilt."""

from __future__ import annotations

import sys
import time

import click

from archive import store
from archive.cli.context import EXIT_ITEMS_FAILED, EXIT_OK, Context, pass_ctx
from archive.ingest import STAGES, reindex_all, run_stages
from archive.search import SearchUnavailable
from archive.search.server import MeiliError


@click.command()
@click.option("--stage", "stages", multiple=True, type=click.Choice(STAGES), help="Run only these stages (repeatable).")
@click.option("--feed", "feed_id", type=int, help="Poll only this feed id.")
@click.option("--limit", type=int, help="At most this many items per stage.")
@click.option(
    "--max-minutes", type=float, help="Start no new item after this many minutes (the item under way finishes)."
)
@pass_ctx
def ingest(
    ctx: Context, stages: tuple[str, ...], feed_id: int | None, limit: int | None, max_minutes: float | None
) -> None:
    """Poll feeds, download audio and chapters, transcribe, embed, index and prune once, then exit.

    Safe from cron: each stage holds its own lock, and a stage another run is
    busy with is skipped with a message.

    \b
    Exit codes:
      0  all work done (or nothing to do, or stages skipped as locked)
      1  some items failed (their errors are stored; `podarchive feeds list`)
      2  configuration error
    """
    from archive.cli.progress import terminal_progress

    bar = terminal_progress()
    if max_minutes is not None:
        ctx.archive.deadline = time.monotonic() + max_minutes * 60
    reports = run_stages(ctx.archive, stages or STAGES, feed_id=feed_id, limit=limit, progress=bar)
    if bar is not None:
        bar.close()
    with ctx.archive.db.session() as s:
        counts = store.episode_counts(s)
        backlog = store.outbox_size(s)
    click.echo(
        "; ".join(r.summary() for r in reports)
        + f" | {counts['transcribed']}/{counts['episodes']} episodes transcribed, {backlog} index ops queued"
    )
    for r in reports:
        for note in r.notes:
            if r.failed:
                click.echo(f"  {r.stage}: {note}", err=True)
    sys.exit(EXIT_ITEMS_FAILED if any(r.failed for r in reports) else EXIT_OK)


@click.command()
@pass_ctx
def reindex(ctx: Context) -> None:
    """Rebuild the search index from the database and swap it in; searches keep working meanwhile."""
    try:
        added = reindex_all(ctx.archive)
    except (SearchUnavailable, MeiliError) as exc:
        raise click.ClickException(f"search unavailable: {exc}") from exc
    click.echo(f"reindexed {added} passages")
