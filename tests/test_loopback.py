"""The tests' own loopback server: a client that hangs up is not an error to print; anything else still is."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import pytest

from tests.loopback import QuietServer


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""

    def do_GET(self) -> None:  # noqa: N802
        raise ValueError("a bug in a route")


class _Server(QuietServer):
    """Says when it has finished with a request: after handle_error, if there was one."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.finished = threading.Event()

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        super().shutdown_request(request)
        self.finished.set()


def _errors_after(client: Callable[[socket.socket], None], capsys: pytest.CaptureFixture[str]) -> str:
    server = _Server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(server.server_address) as sock:
            client(sock)
        assert server.finished.wait(10), "the server never finished the request"
    finally:
        server.shutdown()
        server.server_close()
    return capsys.readouterr().err


def test_a_client_hanging_up_is_not_printed_but_a_failing_route_is(capsys: pytest.CaptureFixture[str]) -> None:
    def reset(sock: socket.socket) -> None:
        sock.sendall(b"GET / HTTP/1.1\r")  # half a request line, then a reset (SO_LINGER 0)
        time.sleep(0.2)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    assert _errors_after(reset, capsys) == ""

    def bad_route(sock: socket.socket) -> None:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        sock.recv(1)

    assert "ValueError: a bug in a route" in _errors_after(bad_route, capsys)
