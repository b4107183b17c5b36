"""A fault-injecting TCP proxy on loopback, to put in front of a real server (Meilisearch).

Modes, applied to each new connection (changing the mode also cuts open ones, so a
client's keep-alive pool cannot carry on through a fault):

- ``pass``: forward bytes both ways to the upstream.
- ``refuse``: nothing listens on the port (connect gets ECONNREFUSED).
- ``close``: accept, then close without a byte.
- ``reset``: accept, read the request, then reset the connection (RST).
- ``stall``: accept, read the request, never answer.
- ``503``: answer every request with 503 Service Unavailable.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tests.loopback import free_port

MODES = ("pass", "refuse", "close", "reset", "stall", "503")
_BODY_503 = b'{"message":"fault proxy: unavailable","code":"unavailable","type":"system","link":""}'


class FaultProxy:
    """Listens on 127.0.0.1:port and forwards to upstream (host, port) according to its mode."""

    def __init__(self, upstream: tuple[str, int], mode: str = "pass") -> None:
        self.upstream = upstream
        self.port = free_port()
        self.connections = 0
        self._mode = mode
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._closed = threading.Event()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        if mode != "refuse":
            self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Switch mode: cut every open connection; stop or start listening as needed."""
        assert mode in MODES, mode
        with self._lock:
            self._mode = mode
            for conn in self._open:
                _reset(conn)
            self._open.clear()
        if mode == "refuse":
            self._stop_listening()
        elif self._listener is None:
            self._listen()

    def close(self) -> None:
        """Stop listening and cut everything."""
        self._closed.set()
        self.set_mode("refuse")

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        sock.settimeout(0.2)
        self._listener = sock
        self._thread = threading.Thread(target=self._accept, args=(sock,), daemon=True)
        self._thread.start()

    def _stop_listening(self) -> None:
        listener, thread = self._listener, self._thread
        self._listener = self._thread = None
        if listener is not None:
            listener.close()
        if thread is not None:
            thread.join(timeout=2)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                mode = self._mode
                self._open.append(conn)
            threading.Thread(target=self._handle, args=(conn, mode), daemon=True).start()

    def _handle(self, conn: socket.socket, mode: str) -> None:
        conn.settimeout(30)
        try:
            if mode == "close":
                conn.close()
            elif mode == "reset":
                conn.recv(65536)
                _reset(conn)
            elif mode == "stall":
                # Read and hold: wake only when the mode changes or the proxy closes.
                while self._mode == "stall" and not self._closed.is_set():
                    conn.settimeout(0.2)
                    try:
                        if conn.recv(65536) == b"":
                            break
                    except TimeoutError:
                        continue
                conn.close()
            elif mode == "503":
                _read_request(conn)
                conn.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_BODY_503), _BODY_503)
                )
                conn.close()
            else:
                self._pump(conn)
        except OSError:
            pass
        finally:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)

    def _pump(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        with self._lock:
            self._open.append(server)
        server.settimeout(None)
        client.settimeout(None)

        def copy(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

        back = threading.Thread(target=copy, args=(server, client), daemon=True)
        back.start()
        copy(client, server)
        back.join(timeout=5)
        client.close()
        server.close()
        with self._lock:
            if server in self._open:
                self._open.remove(server)


def _read_request(conn: socket.socket) -> None:
    """Read one request's headers and body (by Content-Length) so the client has sent it all."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


def _reset(conn: socket.socket) -> None:
    """Close with RST (SO_LINGER 0) rather than FIN."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    except OSError:
        pass


@contextmanager
def fault_proxy(upstream_url: str, mode: str = "pass") -> Iterator[FaultProxy]:
    """A FaultProxy in front of upstream_url ("http://127.0.0.1:7700") for the with block."""
    hostport = upstream_url.split("://", 1)[1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    proxy = FaultProxy((host, int(port)), mode)
    try:
        yield proxy
    finally:
        proxy.close()
