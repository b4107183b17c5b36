"""The bundled demo podcast (three short episodes of real speech) and the loopback server that serves it."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEMO_DIR = Path(__file__).parent


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def serve_demo_feed(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve this folder (feed, audio, chapters) over HTTP while the block runs; yields the feed URL."""
    handler = functools.partial(_QuietHandler, directory=str(DEMO_DIR))
    server = ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()
