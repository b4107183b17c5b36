"""The archive for assistants: one MCP server over stdio (`podarchive mcp`) and streamable HTTP (/mcp).

Read tools and resources answer what web.reads answers the JSON API, so both give the
same fields; write tools exist only for a caller with an editor's API token.
"""

from web.assistants.mount import McpMount, mount

__all__ = ["McpMount", "mount"]
