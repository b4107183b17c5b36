"""`podarchive mcp`: the MCP server over stdin and stdout, for an assistant on the same machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.config import Settings
from archive.context import Archive
from archive.editorial import tokens
from web.payloads import Links
from web.ratelimit import TokenBucket
from web.search import RATE_BURST, RATE_PER_S

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context


class TokenRefused(Exception):
    """PODARCHIVE_MCP_TOKEN is set but opens no enabled editor account."""


class StdioCalls:
    """Calls over stdio: links under the site_url setting, one client's rate limit, the token setting."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One assistant per process; the limit still stops a runaway loop from hammering Meilisearch.
        self.bucket = TokenBucket(RATE_BURST, RATE_PER_S)

    def links(self, ctx: Context) -> Links:
        return Links(self.settings.site_url)

    def wait(self, ctx: Context) -> float:
        return self.bucket.take("stdio")

    def token(self, ctx: Context) -> str:
        return self.settings.mcp_token


def serve(archive: Archive) -> None:
    """Serve until the assistant closes stdin; the write tools exist only with a valid PODARCHIVE_MCP_TOKEN."""
    from web.assistants.server import build_server

    writes = bool(archive.settings.mcp_token)
    if writes:
        with archive.db.session() as s:
            if tokens.token_user(s, archive.settings.mcp_token) is None:
                raise TokenRefused("PODARCHIVE_MCP_TOKEN is not a valid token of an enabled editor account")
    build_server(archive, StdioCalls(archive.settings), writes=writes).run("stdio")
