"""`podarchive`: one module per command group; the only part of archive that imports web (site.py)."""

from __future__ import annotations

import importlib
import sys

import click

from archive import data_dir
from archive.cli import logs
from archive.cli.context import EXIT_CONFIG, Context, pass_ctx
from archive.config import ConfigError, load_settings

# Command name -> (module in archive.cli, attribute). A command's module is imported only
# when it runs (or for --help): `users list` never loads the pipeline, the search client or
# the HTTP stack, which is most of a command's start-up (cron runs one every few minutes).
COMMANDS = {
    "backup": ("operations", "backup"),
    "demo": ("site", "demo"),
    "doctor": ("operations", "doctor"),
    "eval": ("transcription", "eval_command"),
    "feeds": ("feed_commands", "feeds"),
    "ingest": ("ingest_commands", "ingest"),
    "mcp": ("assistant", "mcp"),
    "meili": ("meili", "meili"),
    "models": ("transcription", "models"),
    "reindex": ("ingest_commands", "reindex"),
    "restore": ("operations", "restore"),
    "search": ("search_command", "search"),
    "serve": ("site", "serve"),
    "status": ("operations", "status"),
    "users": ("users", "users"),
    "vocab": ("transcription", "vocab"),
}


class _LazyGroup(click.Group):
    """A group whose commands (COMMANDS) load on first use (click's "lazily loading subcommands")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        module, attribute = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        assert isinstance(command, click.Command) and command.name == cmd_name, (module, attribute)
        return command


@click.group(cls=_LazyGroup)
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


if __name__ == "__main__":
    main()
