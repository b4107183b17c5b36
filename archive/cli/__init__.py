"""`podarchive`: one module per command group; the only part of archive that imports web (site.py)."""

from __future__ import annotations

import sys

import click

from archive import data_dir
from archive.cli import logs
from archive.cli.context import EXIT_CONFIG, Context, pass_ctx
from archive.config import ConfigError, load_settings


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log every item, not just failures.")
@click.option("--json-log", is_flag=True, help="Log JSON lines (for log collectors).")
@click.pass_context
def main(ctx: click.Context, verbose: bool, json_log: bool) -> None:
    """podarchive: a podcast and interview archive with transcript search.

    Settings come from PODARCHIVE_* environment variables and an optional TOML
    file named by PODARCHIVE_CONFIG; `podarchive config` shows what is in force.
    """
    # First: files a command writes outside the data directory (an OPML export) are private too.
    data_dir.use_private_umask()
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


def _register() -> None:
    from archive.cli import (
        assistant,
        feed_commands,
        ingest_commands,
        meili,
        operations,
        search_command,
        site,
        transcription,
        users,
    )

    for command in (
        feed_commands.feeds,
        ingest_commands.ingest,
        ingest_commands.reindex,
        search_command.search,
        site.serve,
        site.demo,
        operations.status,
        operations.doctor,
        operations.backup,
        operations.restore,
        meili.meili,
        transcription.models,
        transcription.eval_command,
        transcription.vocab,
        users.users,
        assistant.mcp,
    ):
        main.add_command(command)


_register()

if __name__ == "__main__":
    main()
