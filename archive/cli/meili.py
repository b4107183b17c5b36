"""`podarchive meili`: the pinned Meilisearch build and the local server."""

from __future__ import annotations

import click

from archive.cli.context import Context, pass_ctx
from archive.search.server import LocalMeili, MeiliError, find_binary, install_binary


@click.group()
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
