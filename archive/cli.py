"""The `podarchive` command line."""

from __future__ import annotations

import html
import sys
import time
from pathlib import Path
from typing import BinaryIO

import click

from archive import feed_store, logs, outbox, store
from archive.config import ConfigError, Settings, load_settings
from archive.context import Archive
from archive.meili import LocalMeili, MeiliError, find_binary, install_binary
from archive.pipeline import STAGES, reindex_all, run_stages
from archive.search import Filters, SearchUnavailable

EXIT_OK, EXIT_ITEMS_FAILED, EXIT_CONFIG = 0, 1, 2


class Context:
    """Settings parsed once per invocation; the archive opened on demand."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._archive: Archive | None = None

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = Archive(self.settings)
        return self._archive


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log every item, not just failures.")
@click.option("--json-log", is_flag=True, help="Log JSON lines (for log collectors).")
@click.pass_context
def main(ctx: click.Context, verbose: bool, json_log: bool) -> None:
    """podarchive: a podcast and interview archive with transcript search.

    Settings come from PODARCHIVE_* environment variables and an optional TOML
    file named by PODARCHIVE_CONFIG; `podarchive config` shows what is in force.
    """
    logs.configure(verbose, json_log)
    try:
        ctx.obj = Context(load_settings())
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


@main.command()
@pass_ctx
def config(ctx: Context) -> None:
    """Print the settings in force (secrets masked)."""
    for name, value in ctx.settings.public_items():
        click.echo(f"{name} = {value}")


@main.group()
def feeds() -> None:
    """Manage watched feeds."""


@feeds.command("add")
@click.argument("url")
@click.option("--language", help="Transcription language for this feed, e.g. fr (else detected).")
@pass_ctx
def feeds_add(ctx: Context, url: str, language: str | None) -> None:
    """Watch the feed at URL."""
    try:
        with ctx.archive.db.session() as s:
            feed = feed_store.add_feed(s, url, language)
            click.echo(f"added feed {feed.id}: {url}")
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from exc


@feeds.command("list")
@pass_ctx
def feeds_list(ctx: Context) -> None:
    """List feeds with their health: status, last success, errors, next poll."""
    from archive.feed_admin import describe_health

    with ctx.archive.db.session() as s:
        rows = feed_store.feed_health(s)
    if not rows:
        click.echo("no feeds; add one with `podarchive feeds add URL`")
    for row in rows:
        click.echo(describe_health(row, store.now()))


@feeds.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--language", help="Transcription language for feeds the file does not give one.")
@pass_ctx
def feeds_import(ctx: Context, file: BinaryIO, language: str | None) -> None:
    """Watch every feed listed in an OPML FILE (- for stdin); known feeds are skipped."""
    from archive.feed_admin import import_opml
    from feeds.errors import ParseError

    try:
        added, skipped = import_opml(ctx.archive, file.read(), language)
    except ParseError as exc:
        raise click.ClickException(f"cannot import {file.name}: {exc}") from exc
    click.echo(f"{added} feeds added, {skipped} already watched")


@feeds.command("export")
@click.option("-o", "--output", type=click.File("wb"), default="-", help="Write here instead of stdout.")
@pass_ctx
def feeds_export(ctx: Context, output: BinaryIO) -> None:
    """Write the watched feeds as OPML 2.0."""
    from archive.feed_admin import export_opml

    output.write(export_opml(ctx.archive))


@feeds.command("flagged")
@pass_ctx
def feeds_flagged(ctx: Context) -> None:
    """List episodes flagged for an operator (e.g. a known guid that changed enclosure)."""
    with ctx.archive.db.session() as s:
        episodes = feed_store.flagged_episodes(s)
        for e in episodes:
            click.echo(f"episode {e.id} ({e.feed.title or e.feed.url}) {e.title}\n      {e.flag}")
        if not episodes:
            click.echo("no flagged episodes")


@main.command()
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
    """Poll feeds, download, transcribe and index once, then exit.

    Safe from cron: each stage holds its own lock, and a stage another run is
    busy with is skipped with a message.

    \b
    Exit codes:
      0  all work done (or nothing to do, or stages skipped as locked)
      1  some items failed (their errors are stored; `podarchive feeds list`)
      2  configuration error
    """
    from archive.progress import terminal_progress

    bar = terminal_progress()
    if max_minutes is not None:
        ctx.archive.deadline = time.monotonic() + max_minutes * 60
    reports = run_stages(ctx.archive, stages or STAGES, feed_id=feed_id, limit=limit, progress=bar)
    if bar is not None:
        bar.close()
    with ctx.archive.db.session() as s:
        counts = store.episode_counts(s)
        backlog = outbox.outbox_size(s)
    click.echo(
        "; ".join(r.summary() for r in reports)
        + f" | {counts['transcribed']}/{counts['episodes']} episodes transcribed, {backlog} index ops queued"
    )
    for r in reports:
        for note in r.notes:
            if r.failed:
                click.echo(f"  {r.stage}: {note}", err=True)
    sys.exit(EXIT_ITEMS_FAILED if any(r.failed for r in reports) else EXIT_OK)


@main.command()
@click.argument("query")
@click.option("--show", help="Only this show (its title).")
@click.option("--year", type=int, help="Only episodes published this year.")
@click.option("--speaker", help="Only passages of this speaker.")
@click.option("--limit", default=10, show_default=True)
@pass_ctx
def search(ctx: Context, query: str, show: str | None, year: int | None, speaker: str | None, limit: int) -> None:
    """Search transcripts from the terminal; matched words are shown in [brackets]."""
    filters = Filters(show=show, year=year, speaker=speaker)
    try:
        page = ctx.archive.search.search(query, limit=limit, filters=filters)
    except (SearchUnavailable, MeiliError) as exc:
        raise click.ClickException(f"search unavailable: {exc}") from exc
    click.echo(f"{page.total} passages")
    for hit in page.hits:
        marked = hit.html.replace("<mark>", "\ue000").replace("</mark>", "\ue001")
        text = html.unescape(marked).replace("\ue000", "[").replace("\ue001", "]")
        click.echo(f"episode {hit.episode_id} @ {hit.start:7.1f}s  {hit.feed_title} / {hit.episode_title}: {text}")


@main.command()
@pass_ctx
def reindex(ctx: Context) -> None:
    """Rebuild the search index from the database and swap it in; searches keep working meanwhile."""
    try:
        added = reindex_all(ctx.archive)
    except (SearchUnavailable, MeiliError) as exc:
        raise click.ClickException(f"search unavailable: {exc}") from exc
    click.echo(f"reindexed {added} passages")


@main.command()
@click.option("--host", help="Address to bind (default from settings).")
@click.option("--port", type=int, help="Port (default from settings).")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the site (one threaded process; for production: gunicorn 'web:create_app()')."""
    from web import create_app

    app = create_app(ctx.settings)
    app.run(host=host or ctx.settings.host, port=port or ctx.settings.port, threaded=True)


@main.command()
@click.option("--port", default=8765, show_default=True, help="Loopback port that serves the demo feed.")
@click.option("--no-serve", is_flag=True, help="Ingest the demo feed, then exit.")
@pass_ctx
def demo(ctx: Context, port: int, no_serve: bool) -> None:
    """Ingest the bundled demo podcast (served on loopback) and serve the site."""
    from archive.demo_server import serve_demo_feed

    settings = ctx.settings
    host = "127.0.0.1"
    if host not in settings.allow_private_hosts:
        # The demo feed lives on loopback, which the fetch guard refuses by default.
        settings = load_settings(allow_private_hosts=",".join(settings.allow_private_hosts | {host}))
    archive = Archive(settings)
    with serve_demo_feed(host, port) as feed_url:
        with archive.db.session() as s:
            known = {f.url for f in feed_store.list_feeds(s)}
            if feed_url not in known:
                feed_store.add_feed(s, feed_url, language=None)
                click.echo(f"added demo feed {feed_url}")
        reports = run_stages(archive)
    click.echo("; ".join(r.summary() for r in reports))
    if no_serve:
        return
    from web import create_app

    click.echo(f"open http://{settings.host}:{settings.port}/ and search for: tigre, montagneux, country")
    create_app(settings).run(host=settings.host, port=settings.port, threaded=True)


@main.command()
@pass_ctx
def status(ctx: Context) -> None:
    """Counts per state, failing feeds, backlog and the last run of each stage."""
    from archive.health import status as read_status

    with ctx.archive.db.session() as s:
        st = read_status(s)
    click.echo(f"feeds: {st.feeds}   episodes: {st.episodes}")
    click.echo(
        f"awaiting download: {st.awaiting_download}   awaiting transcript: {st.awaiting_transcript}   "
        f"transcribed: {st.transcribed}   failing: {st.episodes_failing}   index ops queued: {st.index_ops_queued}"
    )
    speed = f"{st.speed_x_realtime:.1f}x real time" if st.speed_x_realtime else "no transcription yet"
    eta = f", about {st.eta_seconds / 3600:.1f} h to clear" if st.eta_seconds is not None else ""
    click.echo(f"backlog: {st.backlog_audio_seconds / 3600:.2f} h of audio ({speed}{eta})")
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


@main.command()
@click.option("--skip-model", is_flag=True, help="Do not load the Whisper model.")
@pass_ctx
def doctor(ctx: Context, skip_model: bool) -> None:
    """Check ffmpeg, Meilisearch, the model, disk space, migrations and settings; exit 1 if any fails."""
    from archive import health

    db = ctx.archive.db  # creates the data directory before it is checked
    checks = [health.check_settings(ctx.settings), health.check_ffmpeg(), health.check_disk(ctx.settings)]
    checks.append(health.check_migrations(db.current_revision(), db.head_revision()))
    checks.append(health.check_meilisearch(ctx.settings))
    if not skip_model:
        checks.append(health.check_model(ctx.settings))
    for c in checks:
        click.echo(
            f"{'ok  ' if c.ok else 'FAIL'} {c.name:<12} {c.detail}"
            + (f"\n     fix: {c.hint}" if not c.ok and c.hint else "")
        )
    sys.exit(EXIT_OK if all(c.ok for c in checks) else EXIT_ITEMS_FAILED)


@main.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--with-audio", is_flag=True, help="Copy the audio files too (else only their list and checksums).")
@pass_ctx
def backup(ctx: Context, dest: Path, with_audio: bool) -> None:
    """Back up the database (online), the audio list with checksums, and settings without secrets."""
    from archive.backup import BackupError
    from archive.backup import backup as make_backup

    try:
        summary = make_backup(ctx.archive.db, dest, with_audio=with_audio)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"backup in {summary.path}: schema {summary.revision}, {summary.audio_files} audio files listed,"
        f" {summary.audio_copied} copied"
    )


@main.command()
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace an existing database.")
@pass_ctx
def restore(ctx: Context, src: Path, force: bool) -> None:
    """Restore a backup, then rebuild the search index from the restored database."""
    from archive.backup import BackupError
    from archive.backup import restore as do_restore
    from archive.pipeline import reindex_all

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


@main.group()
def meili() -> None:
    """The local Meilisearch server."""


@meili.command("install")
@pass_ctx
def meili_install(ctx: Context) -> None:
    """Find or fetch the pinned Meilisearch build and check its sha256."""
    try:
        path = find_binary(ctx.settings, fetch=False)
    except MeiliError:
        try:
            path = install_binary()
        except MeiliError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(str(path))


@meili.command("stop")
@pass_ctx
def meili_stop(ctx: Context) -> None:
    """Stop the local Meilisearch of this data directory."""
    stopped = LocalMeili(ctx.settings).stop()
    click.echo("stopped" if stopped else "not running")


@main.group()
def models() -> None:
    """Whisper weights."""


@models.command("prepare")
@pass_ctx
def models_prepare(ctx: Context) -> None:
    """Resolve (and join, for packaged models) the configured model, then print where it is."""
    from transcribe.models import resolve_model

    click.echo(resolve_model(ctx.settings.model, Path(ctx.settings.cache_dir)))


# Transcription commands live in their own module; imported last, as they use pass_ctx and models.
from archive.cli_transcribe import eval_command, models_list, vocab  # noqa: E402

main.add_command(eval_command)
main.add_command(vocab)
models.add_command(models_list)

from archive.cli_users import users  # noqa: E402

main.add_command(users)

from archive.cli_feeds import feeds_set  # noqa: E402

feeds.add_command(feeds_set)


if __name__ == "__main__":
    main()
