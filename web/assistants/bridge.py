"""An ASGI app served from a WSGI server: one event loop per process, in a thread, holding the app's lifespan.

The site is WSGI (Flask under gunicorn or werkzeug) and the MCP SDK's HTTP transport is
ASGI. Each WSGI request becomes one ASGI call on that loop; its response comes back
through a queue, chunk by chunk, so a streamed answer streams. Bodies are read whole
first (they are small JSON-RPC messages, capped by `max_body`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from contextlib import AbstractAsyncContextManager
from http import HTTPStatus
from typing import Any

log = logging.getLogger("podarchive.mcp")

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]
StartResponse = Callable[..., Any]
# How long a WSGI worker waits for the app's next message before giving up on it.
REPLY_TIMEOUT_S = 300.0
_END = object()


def status_line(code: int) -> str:
    """A WSGI status line.

    >>> status_line(200), status_line(299)
    ('200 OK', '299 Unknown')
    """
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def scope_of(environ: dict[str, Any]) -> Scope:
    """The ASGI HTTP scope of a WSGI request."""
    headers = [
        (key[5:].replace("_", "-").lower().encode("latin-1"), str(value).encode("latin-1"))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    for key, name in (("CONTENT_TYPE", b"content-type"), ("CONTENT_LENGTH", b"content-length")):
        if environ.get(key):
            headers.append((name, str(environ[key]).encode("latin-1")))
    # WSGI strings carry the raw bytes as latin-1; ASGI paths are decoded UTF-8.
    root = environ.get("SCRIPT_NAME", "").encode("latin-1").decode("utf-8", "replace")
    path = root + environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": protocol.partition("/")[2] or "1.1",
        "method": environ["REQUEST_METHOD"],
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": root,
        "headers": headers,
        "server": (environ.get("SERVER_NAME", ""), int(environ.get("SERVER_PORT") or 0)),
        "client": (environ.get("REMOTE_ADDR", ""), int(environ.get("REMOTE_PORT") or 0)),
        "extensions": {},
        "state": {},
    }


def read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    """The request body, or None when it is longer than `limit`."""
    stream = environ.get("wsgi.input")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return None
    if stream is None:
        return b""
    if length:
        return bytes(stream.read(length))
    if environ.get("wsgi.input_terminated"):
        # Chunked: the server ends the stream for us.
        data = bytes(stream.read(limit + 1))
        return data if len(data) <= limit else None
    return b""


def plain_response(start_response: StartResponse, code: int, text: str) -> list[bytes]:
    """A short text answer given without the ASGI app."""
    body = text.encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(status_line(code), headers)
    return [body]


class AsgiBridge:
    """Runs ASGI apps for WSGI requests on a loop thread started on first use."""

    def __init__(self, lifespan: Callable[[], AbstractAsyncContextManager[None]], max_body: int) -> None:
        self.lifespan, self.max_body = lifespan, max_body
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                self._start()
            assert self._loop is not None
            return self._loop

    def _start(self) -> None:
        ready = threading.Event()
        failed: list[BaseException] = []
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()

        async def main() -> None:
            try:
                async with self.lifespan():
                    ready.set()
                    await stop.wait()
            except BaseException as exc:
                failed.append(exc)
                raise
            finally:
                ready.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(main())
            except BaseException:
                log.exception("the MCP event loop stopped")
            finally:
                loop.close()

        thread = threading.Thread(target=run, name="podarchive-mcp-loop", daemon=True)
        thread.start()
        ready.wait(60)
        if failed:
            raise RuntimeError("the MCP server did not start") from failed[0]
        self._loop, self._stop, self._thread = loop, stop, thread

    def close(self) -> None:
        """Leave the lifespan and stop the loop thread (tests; a process exit does it anyway)."""
        with self._lock:
            loop, stop, thread = self._loop, self._stop, self._thread
            self._loop = self._stop = self._thread = None
        if loop is not None and stop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)

    def serve(self, app: ASGIApp, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one WSGI request with `app`."""
        body = read_body(environ, self.max_body)
        if body is None:
            return plain_response(start_response, 413, "request body too large\n")
        loop = self._running_loop()
        replies: queue.Queue[Any] = queue.Queue()
        # Set (from this thread, through the loop) once the client has its answer.
        answered = asyncio.Event()
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            replies.put(message)

        async def call() -> None:
            try:
                await app(scope_of(environ), receive, send)
            except Exception:
                log.exception("MCP request failed")
            finally:
                replies.put(_END)

        asyncio.run_coroutine_threadsafe(call(), loop)
        try:
            first = replies.get(timeout=REPLY_TIMEOUT_S)
        except queue.Empty:
            loop.call_soon_threadsafe(answered.set)
            return plain_response(start_response, 504, "the MCP server did not answer in time\n")
        if first is _END or first.get("type") != "http.response.start":
            loop.call_soon_threadsafe(answered.set)
            return plain_response(start_response, 500, "the MCP server failed\n")
        headers = [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in first.get("headers", [])]
        start_response(status_line(int(first["status"])), headers)
        return self._chunks(replies, loop, answered)

    @staticmethod
    def _chunks(replies: queue.Queue[Any], loop: asyncio.AbstractEventLoop, answered: asyncio.Event) -> Iterator[bytes]:
        try:
            while True:
                message = replies.get(timeout=REPLY_TIMEOUT_S)
                if message is _END or message.get("type") != "http.response.body":
                    return
                chunk = bytes(message.get("body", b""))
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return
        except queue.Empty:
            log.warning("MCP response stalled; closing it")
        finally:
            loop.call_soon_threadsafe(answered.set)
