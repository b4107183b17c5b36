"""`podarchive feeds`: add, list, import, export, flagged episodes, per-show settings."""

from __future__ import annotations

from typing import Any, BinaryIO

import click

from archive import store
from archive.cli.context import Context, pass_ctx
from archive.operations.shows import FeedSettingsError, FeedURLError, add_show, change_feed_settings

# Refused entries an import lists one by one; the rest are counted.
_LISTED = 20


@click.group()
def feeds() -> None:
    """Manage watched feeds."""


@feeds.command("add")
@click.argument("url")
@click.option("--language", help="Transcription language for this feed, e.g. fr (else detected).")
@pass_ctx
def feeds_add(ctx: Context, url: str, language: str | None) -> None:
    """Watch the feed at URL (normalised: scheme and host in lower case, no default port, no #fragment)."""
    try:
        feed = add_show(ctx.archive, url, language)
    except FeedURLError as exc:
        raise click.ClickException(f"cannot watch {url!r}: {exc}") from exc
    click.echo(f"added feed {feed.id}: {feed.url}")


@feeds.command("list")
@pass_ctx
def feeds_list(ctx: Context) -> None:
    """List feeds with their health: status, last success, errors, next poll."""
    from archive.operations.shows import describe_health

    with ctx.archive.db.session() as s:
        rows = store.feed_health(s)
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
    from archive.operations.shows import import_opml
    from feeds.errors import ParseError

    try:
        result = import_opml(ctx.archive, file.read(), language)
    except ParseError as exc:
        raise click.ClickException(f"cannot import {file.name}: {exc}") from exc
    except store.StoreError as exc:
        raise click.ClickException(f"import stopped: {exc}") from exc
    skipped = len(result.refused) + len(result.over_limit)
    click.echo(f"{result.added} feeds added, {result.already} already watched, {skipped} skipped")
    for url, reason in result.refused[:_LISTED]:
        # Quoted when a line break or control character would garble the output.
        shown = url if url.isprintable() else repr(url)
        click.echo(f"  skipped {shown:.200}: {reason:.300}")
    if len(result.refused) > _LISTED:
        click.echo(f"  ... and {len(result.refused) - _LISTED} more refused")
    if result.over_limit:
        limit = ctx.settings.max_opml_feeds
        click.echo(
            f"  {len(result.over_limit)} skipped over the limit of {limit} new feeds per import"
            f" (PODARCHIVE_MAX_OPML_FEEDS); first skipped: {result.over_limit[0]:.200}"
        )


@feeds.command("export")
@click.option("-o", "--output", type=click.File("wb"), default="-", help="Write here instead of stdout.")
@pass_ctx
def feeds_export(ctx: Context, output: BinaryIO) -> None:
    """Write the watched feeds as OPML 2.0."""
    from archive.operations.shows import export_opml

    output.write(export_opml(ctx.archive))


@feeds.command("flagged")
@pass_ctx
def feeds_flagged(ctx: Context) -> None:
    """List episodes flagged for an operator (e.g. a known guid that changed enclosure)."""
    with ctx.archive.db.session() as s:
        episodes = store.flagged_episodes(s)
        for e in episodes:
            click.echo(f"episode {e.id} ({e.feed.title or e.feed.url}) {e.title}\n      {e.flag}")
        if not episodes:
            click.echo("no flagged episodes")


@feeds.command("set")
@click.argument("feed_id", type=int)
@click.option("--language", help="Transcription language, e.g. fr; auto to detect it.")
@click.option(
    "--publish-transcripts/--no-publish-transcripts",
    default=None,
    help="Make machine transcripts public (and searchable) before an editor reviews them.",
)
@click.option(
    "--prefer-asr/--no-prefer-asr",
    default=None,
    help="Transcribe with Whisper even when the publisher offers a transcript.",
)
@click.option(
    "--speakers",
    help="How many voices the show's episodes have (1-6), given to the speaker step; auto to estimate it.",
)
@click.pass_obj
def feeds_set(
    ctx: Any,
    feed_id: int,
    language: str | None,
    publish_transcripts: bool | None,
    prefer_asr: bool | None,
    speakers: str | None,
) -> None:
    """Change the settings of the show with FEED_ID; prints what changed."""
    try:
        with ctx.archive.db.session() as s:
            changes = change_feed_settings(
                s,
                feed_id,
                language=language,
                publish_transcripts=publish_transcripts,
                prefer_asr=prefer_asr,
                speakers=speakers,
            )
    except FeedSettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in changes:
        click.echo(f"feed {feed_id}: {line}")
    if not changes:
        click.echo(f"feed {feed_id}: nothing changed")
