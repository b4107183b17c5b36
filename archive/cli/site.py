"""`podarchive serve` and `demo`: the site (the one part of archive that imports web)."""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from archive import store
from archive.cli.context import Context, pass_ctx
from archive.config import load_settings
from archive.context import Archive
from archive.ingest import run_stages


@click.command()
@click.option("--host", help="Address to bind (default from settings).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default from settings).")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the site (one threaded process; for production: gunicorn 'web:create_app()')."""
    from web import create_app

    app = create_app(ctx.settings)
    app.run(host=host or ctx.settings.host, port=port or ctx.settings.port, threaded=True)


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Loopback port that serves the demo feed (0: any free one).",
)
@click.option("--no-serve", is_flag=True, help="Ingest the demo feed, then exit.")
@pass_ctx
def demo(ctx: Context, port: int, no_serve: bool) -> None:
    """Ingest the bundled demo podcast (served on loopback) and serve the site."""
    from archive.demo import serve_demo_feed

    host = "127.0.0.1"
    with serve_demo_feed(host, port) as feed_url:
        # The demo feed lives on loopback, which the fetch guard refuses by default: allow
        # exactly its host:port (not the other services of this machine).
        served = f"{host}:{urlsplit(feed_url).port}"
        settings = ctx.settings
        if served not in settings.allow_private_hosts:
            settings = load_settings(allow_private_hosts=",".join(settings.allow_private_hosts | {served}))
        archive = Archive(settings)
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
