"""`podarchive search`: the search index from the terminal."""

from __future__ import annotations

import html

import click

from archive.cli.context import Context, pass_ctx
from archive.search import Filters, SearchUnavailable
from archive.search.server import MeiliError


@click.command()
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
