"""`podarchive status`, `doctor`, `backup` and `restore`: the operator's commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.cli.context import EXIT_ITEMS_FAILED, EXIT_OK, Context, pass_ctx
from archive.context import Archive
from archive.ingest import reindex_all
from archive.search import SearchUnavailable
from archive.search.server import MeiliError

if TYPE_CHECKING:
    from archive.operations.status import Status


@click.command()
@pass_ctx
def status(ctx: Context) -> None:
    """Counts per state, failing feeds, backlog and the last run of each stage."""
    from archive.operations.status import status as read_status

    embedder = ctx.archive.embedder
    with ctx.archive.db.session() as s:
        st = read_status(s, embedder.model_id if embedder is not None else None)
    click.echo(f"feeds: {st.feeds}   episodes: {st.episodes}")
    click.echo(
        f"awaiting download: {st.awaiting_download}   awaiting transcript: {st.awaiting_transcript}   "
        f"transcribed: {st.transcribed}   failing: {st.episodes_failing}   index ops queued: {st.index_ops_queued}"
    )
    speed = f"{st.speed_x_realtime:.1f}x real time" if st.speed_x_realtime else "no transcription yet"
    eta = f", about {st.eta_seconds / 3600:.1f} h to clear" if st.eta_seconds is not None else ""
    click.echo(f"backlog: {st.backlog_audio_seconds / 3600:.2f} h of audio ({speed}{eta})")
    click.echo(_vectors_line(st))
    if st.vectors is not None and st.vectors.last_error:
        click.echo(f"vectors: {st.vectors.failing} episodes failing; last error: {st.vectors.last_error}")
    for f in st.failing_feeds:
        click.echo(
            f"failing feed {f.id} {f.url}: x{f.error_count} {f.last_error}"
            f" (next poll {f.next_poll_at:%Y-%m-%d %H:%M} UTC)"
            if f.next_poll_at
            else f"failing feed {f.id} {f.url}: x{f.error_count} {f.last_error}"
        )
    for eid, error in st.failing_chapters:
        click.echo(f"chapters of episode {eid}: {error}")
    for r in st.last_runs:
        ended = f"{r.finished_at:%Y-%m-%d %H:%M:%S}" if r.finished_at else "did not finish"
        click.echo(f"last {r.stage}: {r.started_at:%Y-%m-%d %H:%M:%S} -> {ended} UTC, {r.done} ok, {r.failed} failed")


def _vectors_line(st: Status) -> str:
    """What waits for search by meaning, in one line."""
    v = st.vectors
    if v is None:
        return "vectors: search by meaning is off (PODARCHIVE_EMBEDDER=none)"
    line = f"vectors ({st.embedder_model}): {v.passages} passages waiting for vectors in {v.episodes} episodes"
    if v.unchecked_episodes:
        line += f"; {v.unchecked_episodes} episodes ({v.unchecked_passages} passages) not embedded yet"
    return line


@click.command()
@click.option("--skip-model", is_flag=True, help="Do not load the Whisper model.")
@pass_ctx
def doctor(ctx: Context, skip_model: bool) -> None:
    """Check ffmpeg, Meilisearch, the model, disk space, migrations and settings; exit 1 if any fails."""
    from archive.operations import doctor as health

    data = health.check_data_dir(ctx.settings)
    checks = [data, health.check_settings(ctx.settings), health.check_ffmpeg()]
    if data.ok:
        db = ctx.archive.db
        checks.append(health.check_disk(ctx.settings))
        checks.append(health.check_migrations(db.current_revision(), db.head_revision()))
    # Without a data directory only an external Meilisearch can be checked.
    if data.ok or ctx.settings.meili_url:
        checks.append(health.check_meilisearch(ctx.settings))
    if data.ok and not skip_model:
        checks.append(health.check_model(ctx.settings))
    for c in checks:
        click.echo(
            f"{'ok  ' if c.ok else 'FAIL'} {c.name:<12} {c.detail}"
            + (f"\n     fix: {c.hint}" if not c.ok and c.hint else "")
        )
    sys.exit(EXIT_OK if all(c.ok for c in checks) else EXIT_ITEMS_FAILED)


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--with-audio", is_flag=True, help="Copy the audio files too (else only their list and checksums).")
@pass_ctx
def backup(ctx: Context, dest: Path, with_audio: bool) -> None:
    """Back up the database (online), the audio list with checksums, and settings without secrets."""
    from archive.operations.backup import BackupError
    from archive.operations.backup import backup as make_backup

    try:
        summary = make_backup(ctx.archive.db, dest, with_audio=with_audio)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"backup in {summary.path}: schema {summary.revision}, {summary.audio_files} audio files listed,"
        f" {summary.audio_copied} copied"
    )


@click.command()
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace an existing database.")
@pass_ctx
def restore(ctx: Context, src: Path, force: bool) -> None:
    """Restore a backup, then rebuild the search index from the restored database."""
    from archive.operations.backup import BackupError
    from archive.operations.backup import restore as do_restore

    try:
        problems = do_restore(ctx.settings, src, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    archive = Archive(ctx.settings)  # opened after the restore: migrates an older backup
    try:
        count = reindex_all(archive)
    except (SearchUnavailable, MeiliError) as exc:
        click.echo(f"restored, but the search index could not be rebuilt ({exc}): run `podarchive reindex`", err=True)
        sys.exit(EXIT_ITEMS_FAILED)
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"restored from {src}; search index rebuilt with {count} passages")
    sys.exit(EXIT_ITEMS_FAILED if problems else EXIT_OK)
