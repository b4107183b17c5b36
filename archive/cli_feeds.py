"""`podarchive feeds set`: per-show settings (cli.Context arrives through click's ctx.obj)."""

from __future__ import annotations

from typing import Any

import click

from archive.feed_admin import FeedSettingsError, change_feed_settings


@click.command("set")
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
@click.pass_obj
def feeds_set(
    ctx: Any, feed_id: int, language: str | None, publish_transcripts: bool | None, prefer_asr: bool | None
) -> None:
    """Change the settings of the show with FEED_ID; prints what changed."""
    try:
        with ctx.archive.db.session() as s:
            changes = change_feed_settings(
                s, feed_id, language=language, publish_transcripts=publish_transcripts, prefer_asr=prefer_asr
            )
    except FeedSettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in changes:
        click.echo(f"feed {feed_id}: {line}")
    if not changes:
        click.echo(f"feed {feed_id}: nothing changed")
