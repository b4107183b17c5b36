"""/mcp in the site: streamable HTTP for remote assistants, in front of the Flask app, on every WSGI server.

A request without credentials reaches the reading server; one with a valid editor's
token (`Authorization: Bearer ...`) the server that also has the write tools; a wrong
token is refused with 401 before any MCP message is read. Both servers are stateless
and answer each POST with JSON: any gunicorn worker can answer any request, and no
worker is held by a long-lived stream. The SDK is loaded on the first /mcp request.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

from flask import Flask

from archive.editorial import tokens
from web.payloads import Links
from web.search import search_bucket

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from web.assistants.bridge import ASGIApp, AsgiBridge

PATH = "/mcp"
# JSON-RPC messages are small; this also caps what the SDK parses.
MAX_BODY = 1024 * 1024
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def bearer(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer` header ("" for none).

    >>> bearer("Bearer pa_x"), bearer("bearer  pa_y "), bearer("Basic abc"), bearer(None)
    ('pa_x', 'pa_y', '', '')
    """
    scheme, _, token = (authorization or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class HttpCalls:
    """Calls over HTTP: links from the setting or the request, the site's rate limit, the request's token."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def links(self, ctx: Context) -> Links:
        request = ctx.request_context.request
        base = self.app.extensions["podarchive"].settings.public_url or (str(request.base_url) if request else "")
        return Links(base)

    def wait(self, ctx: Context) -> float:
        request = ctx.request_context.request
        client = request.client.host if request is not None and request.client else "-"
        # The same bucket as /api/search: an assistant gets no second budget by switching doors.
        with self.app.app_context():
            return search_bucket().take(client)

    def token(self, ctx: Context) -> str:
        request = ctx.request_context.request
        return bearer(request.headers.get("authorization") if request is not None else None)


class McpMount:
    """WSGI middleware: /mcp to the MCP servers, everything else to the site."""

    def __init__(self, app: Flask, site: WSGIApp) -> None:
        self.app, self.site = app, site
        self._lock = threading.Lock()
        self._built: tuple[AsgiBridge, ASGIApp, ASGIApp] | None = None
        self._pid = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.site(environ, start_response)
        bridge, reader, editor = self._endpoint()
        token = bearer(environ.get("HTTP_AUTHORIZATION"))
        if environ.get("HTTP_AUTHORIZATION") is None:
            return bridge.serve(reader, environ, start_response)
        if not token or not self._valid(token):
            return _unauthorized(start_response)
        return bridge.serve(editor, environ, start_response)

    def _valid(self, token: str) -> bool:
        with self.app.extensions["podarchive"].db.session() as s:
            return tokens.token_user(s, token) is not None

    def _endpoint(self) -> tuple[AsgiBridge, ASGIApp, ASGIApp]:
        with self._lock:
            # A forked worker gets fresh servers: the SDK's session managers run once per process.
            if self._built is None or self._pid != os.getpid():
                self._built, self._pid = self._build(), os.getpid()
            return self._built

    def _build(self) -> tuple[AsgiBridge, ASGIApp, ASGIApp]:
        from mcp.server.transport_security import TransportSecuritySettings

        from web.assistants.bridge import AsgiBridge
        from web.assistants.server import build_server

        archive, calls = self.app.extensions["podarchive"], HttpCalls(self.app)
        # The SDK's constructor calls logging.basicConfig(); the site's logging is not its to set.
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            reader = build_server(archive, calls)
            editor = build_server(archive, calls, writes=True)
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
        # Off: what /mcp serves without a token is public anyway, and write tools need a
        # bearer token, which a browser tricked by DNS rebinding does not hold.
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
        apps = [
            s.streamable_http_app(
                streamable_http_path=PATH,
                json_response=True,
                stateless_http=True,
                transport_security=security,
                max_request_body_size=MAX_BODY,
            )
            for s in (reader, editor)
        ]

        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            async with AsyncExitStack() as stack:
                for s in (reader, editor):
                    await stack.enter_async_context(s.session_manager.run())
                yield

        return AsgiBridge(lifespan, MAX_BODY), apps[0], apps[1]

    def close(self) -> None:
        """Stop the MCP event loop, if it ever started."""
        with self._lock:
            built, self._built = self._built, None
        if built is not None:
            built[0].close()


def _unauthorized(start_response: Callable[..., Any]) -> list[bytes]:
    body = json.dumps({"error": "invalid_token", "error_description": "unknown, revoked or disabled token"}).encode()
    start_response(
        "401 Unauthorized",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("WWW-Authenticate", 'Bearer realm="podarchive", error="invalid_token"'),
        ],
    )
    return [body]


def mount(app: Flask) -> McpMount:
    """Put /mcp in front of the app's WSGI callable; the mount is also app.extensions["podarchive.mcp"]."""
    mounted = McpMount(app, app.wsgi_app)
    app.wsgi_app = mounted  # type: ignore[method-assign]
    app.extensions["podarchive.mcp"] = mounted
    return mounted
