"""`podarchive mcp`: the archive for a desktop assistant, over stdio (the site serves remote ones at /mcp)."""

from __future__ import annotations

import click

from archive.cli.context import EXIT_CONFIG, Context, pass_ctx


@click.command("mcp")
@pass_ctx
def mcp(ctx: Context) -> None:
    """Serve the MCP server over stdin/stdout; write tools only with PODARCHIVE_MCP_TOKEN (an editor's token).

    Links in the answers start with PODARCHIVE_PUBLIC_URL (else http://HOST:PORT).
    """
    from web.assistants.stdio import TokenRefused, serve

    try:
        serve(ctx.archive)
    except TokenRefused as exc:
        click.echo(f"configuration error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from exc
