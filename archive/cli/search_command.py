"""`podarchive search`: the search index from the terminal, by words and by meaning."""

from __future__ import annotations

import html

import click

from archive.cli.context import Context, pass_ctx
from archive.search import Filters, SearchUnavailable
from archive.search.server import MeiliError

# Why a search ran by words alone (SearchPage.meaning), for the line under the count.
MEANING_NOTES = {
    "off": "by words only (--words)",
    "skipped": "by words only: the query has nothing to search by meaning (one letter, or no letters)",
    "unavailable": "by words only: search by meaning is unavailable (the model is missing or failed; see the log)",
    "disabled": "by words only: search by meaning is off (PODARCHIVE_EMBEDDER=none)",
}


@click.command()
@click.argument("query")
@click.option("--show", help="Only this show (its title).")
@click.option("--year", type=int, help="Only episodes published this year.")
@click.option("--speaker", help="Only passages of this speaker.")
@click.option("--limit", default=10, show_default=True)
@click.option("--words", is_flag=True, help="Search by words only, not by meaning.")
@pass_ctx
def search(
    ctx: Context, query: str, show: str | None, year: int | None, speaker: str | None, limit: int, words: bool
) -> None:
    """Search transcripts from the terminal; matched words are shown in [brackets], and each hit says
    whether its words, its meaning or both found it."""
    filters = Filters(show=show, year=year, speaker=speaker)
    try:
        page = ctx.archive.search.search(query, limit=limit, filters=filters, meaning=not words)
    except (SearchUnavailable, MeiliError) as exc:
        raise click.ClickException(f"search unavailable: {exc}") from exc
    click.echo(f"{page.total} passages" + (" (by words and meaning)" if page.meaning == "on" else ""))
    if page.meaning in MEANING_NOTES:
        click.echo(MEANING_NOTES[page.meaning])
    for hit in page.hits:
        text = _plain(hit.html) + (f" [… {_plain(hit.next_html)}]" if hit.next_html else "")
        where = f"episode {hit.episode_id} @ {hit.start:7.1f}s  [{hit.found}]"
        click.echo(f"{where}  {hit.feed_title} / {hit.episode_title}: {text}")


def _plain(marked_html: str) -> str:
    """Escaped text with <mark> tags as plain text with [brackets].

    >>> _plain("l&#x27;<mark>incendie</mark> &amp; co")
    "l'[incendie] & co"
    """
    marked = marked_html.replace("<mark>", "\ue000").replace("</mark>", "\ue001")
    return html.unescape(marked).replace("\ue000", "[").replace("\ue001", "]")
