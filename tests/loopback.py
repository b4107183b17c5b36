"""A programmable HTTP/1.1 server on 127.0.0.1 for poll and download tests."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[["Handler"], None]


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]


class QuietServer(ThreadingHTTPServer):
    """A threaded loopback server that says nothing when a client hangs up mid-request.

    Tests hang up on purpose (a killed ingest, a refused download); socketserver would
    print each such ConnectionError's traceback. Any other error is still printed.
    """

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class Server(QuietServer):
    """Serves routes by path; records every request (path and headers)."""

    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def requests_to(self, path: str) -> list[Seen]:
        with self.lock:
            return [r for r in self.seen if r.path == path]


class Handler(BaseHTTPRequestHandler):
    """Dispatches to the server's routes; 404 for anything else."""

    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""

    def do_GET(self) -> None:  # noqa: N802
        with self.server.lock:
            self.server.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
        route = self.server.routes.get(self.path.split("?")[0])
        if route is None:
            return self.reply(404, {}, b"not found")
        route(self)

    def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Send a complete response."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


def static(status: int, body: bytes = b"", **headers: str) -> Route:
    """A route that always gives the same answer (header names with _ for -)."""
    named = {k.replace("_", "-"): v for k, v in headers.items()}
    return lambda h: h.reply(status, named, body)


@contextmanager
def serve() -> Iterator[Server]:
    """A running Server for the with block."""
    server = Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a server to come, or a dead URL)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, tries: int = 200) -> None:
    """Wait until url/healthz answers 200 (a server started in another process), at most tries x 0.1 s."""
    import httpx

    for _ in range(tries):
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url}/healthz never answered 200")
