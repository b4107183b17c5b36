"""The `podarchive` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from archive import store
from archive.config import ConfigError, Settings, load_settings
from archive.context import Archive
from archive.meili import LocalMeili, MeiliError, find_binary, install_binary
from archive.pipeline import STAGES, run_stages
from archive.search import SearchUnavailable

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
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """podarchive: a podcast and interview archive with transcript search.

    Settings come from PODARCHIVE_* environment variables and an optional TOML
    file named by PODARCHIVE_CONFIG; `podarchive config` shows what is in force.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
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
            feed = store.add_feed(s, url, language)
            click.echo(f"added feed {feed.id}: {url}")
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from exc


@feeds.command("list")
@pass_ctx
def feeds_list(ctx: Context) -> None:
    """List feeds with their health."""
    with ctx.archive.db.session() as s:
        for f in store.list_feeds(s):
            health = f"error x{f.error_count}: {f.last_error}" if f.error_count else "ok"
            click.echo(f"{f.id}\t{f.language or '-'}\t{f.title or '(not polled)'}\t{f.url}\t{health}")


@main.command()
@click.option("--stage", "stages", multiple=True, type=click.Choice(STAGES), help="Run only these stages (repeatable).")
@click.option("--feed", "feed_id", type=int, help="Poll only this feed id.")
@click.option("--limit", type=int, help="At most this many items per stage.")
@pass_ctx
def ingest(ctx: Context, stages: tuple[str, ...], feed_id: int | None, limit: int | None) -> None:
    """Poll feeds, download, transcribe and index once, then exit.

    Safe from cron: each stage holds its own lock, and a stage another run is
    busy with is skipped with a message.

    \b
    Exit codes:
      0  all work done (or nothing to do, or stages skipped as locked)
      1  some items failed (their errors are stored; `podarchive feeds list`)
      2  configuration error
    """
    reports = run_stages(ctx.archive, stages or STAGES, feed_id=feed_id, limit=limit)
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


@main.command()
@click.argument("query")
@click.option("--limit", default=10, show_default=True)
@pass_ctx
def search(ctx: Context, query: str, limit: int) -> None:
    """Search transcripts from the terminal."""
    try:
        page = ctx.archive.search.search(query, limit=limit)
    except (SearchUnavailable, MeiliError) as exc:
        raise click.ClickException(f"search unavailable: {exc}") from exc
    click.echo(f"{page.total} passages")
    for hit in page.hits:
        text = hit.html.replace("<mark>", "[").replace("</mark>", "]")
        click.echo(f"episode {hit.episode_id} @ {hit.start:7.1f}s  {hit.episode_title}: {text}")


@main.command()
@click.option("--host", help="Address to bind (default from settings).")
@click.option("--port", type=int, help="Port (default from settings).")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the site."""
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
            known = {f.url for f in store.list_feeds(s)}
            if feed_url not in known:
                store.add_feed(s, feed_url, language=None)
                click.echo(f"added demo feed {feed_url}")
        reports = run_stages(archive)
    click.echo("; ".join(r.summary() for r in reports))
    if no_serve:
        return
    from web import create_app

    click.echo(f"open http://{settings.host}:{settings.port}/ and search for: tigre, montagneux, country")
    create_app(settings).run(host=settings.host, port=settings.port, threaded=True)


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


if __name__ == "__main__":
    main()
