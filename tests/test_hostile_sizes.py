"""Hostile sizes and timing from raw TCP servers: each ends in a typed error within the deadline."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import download_episodes, poll_feeds
from feeds import FetchError, FetchPolicy, TooLarge, download, fetch

Behaviour = Callable[[socket.socket], None]
DEADLINE = 2.0
POLICY = FetchPolicy(
    allow_private_hosts=frozenset({"127.0.0.1:*"}), deadline=DEADLINE, read_timeout=30, max_bytes=1024 * 1024
)
# Scheduling slack on a loaded 2-core machine; the point is "not minutes".
SLACK = 3.0


class RawServer:
    """Accepts connections on loopback and hands each socket to a behaviour; stops its threads on close."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/x"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                self.behaviour(conn)
            except OSError:
                pass

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake when the server closes (bounded threads)."""
        self.stop.wait(seconds)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def raw() -> Iterator[Callable[[Behaviour], RawServer]]:
    servers: list[RawServer] = []

    def make(behaviour: Behaviour) -> RawServer:
        servers.append(RawServer(behaviour))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _bomb() -> bytes:
    return gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)  # 64 MB of zeros in ~64 KB


BOMB = _bomb()


def behaviours(srv: list[RawServer]) -> dict[str, tuple[Behaviour, type[Exception], str]]:
    """name -> (server behaviour, expected exception, words in its message)."""

    def sleep(seconds: float) -> None:
        srv[0].sleep(seconds)

    def silent(conn: socket.socket) -> None:
        sleep(60)

    def trickle_headers(conn: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello":
            conn.sendall(bytes([byte]))
            sleep(1)

    def byte_every_few_seconds(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            sleep(2.5)

    def endless_chunked(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"y" * 65536
        while not srv[0].stop.is_set():
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def lying_length_short(conn: socket.socket) -> None:
        # Promises 1000 bytes, sends 10, closes: a truncated body, never a "complete" one.
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")

    def lying_length_short_then_stall(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
        sleep(60)

    def lying_length_huge(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\nabc")
        sleep(60)

    def lying_length_gzip_bomb(conn: socket.socket) -> None:
        # A small honest Content-Length for the compressed bytes; the cap is on what they inflate to.
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(BOMB) + BOMB)

    def garbage_status(conn: socket.socket) -> None:
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n" + b"\xff" * 1000)

    def endless_header(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Long: ")
        while not srv[0].stop.is_set():
            conn.sendall(b"a" * 65536)

    return {
        "silent-server": (silent, FetchError, "deadline"),
        "headers-one-byte-a-second": (trickle_headers, FetchError, "deadline"),
        "body-byte-every-2.5s": (byte_every_few_seconds, FetchError, "deadline"),
        "endless-chunked": (endless_chunked, TooLarge, "larger than"),
        "content-length-lies-short": (lying_length_short, FetchError, ""),
        "content-length-lies-short-then-stalls": (lying_length_short_then_stall, FetchError, "deadline"),
        "content-length-huge": (lying_length_huge, TooLarge, "Content-Length"),
        "gzip-bomb": (lying_length_gzip_bomb, TooLarge, "larger than"),
        "not-http": (garbage_status, FetchError, ""),
        "endless-header-line": (endless_header, FetchError, ""),
    }


NAMES = list(behaviours([]))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("call", ["fetch", "download"])
def test_each_ends_in_a_typed_error_within_the_deadline(
    name: str, call: str, raw: Callable[[Behaviour], RawServer]
) -> None:
    holder: list[RawServer] = []
    behaviour, expected, words = behaviours(holder)[name]
    holder.append(raw(behaviour))
    started = time.monotonic()
    with pytest.raises(expected) as caught:
        if call == "fetch":
            fetch(holder[0].url, POLICY)
        else:
            download(holder[0].url, _Sink(), POLICY)
    assert time.monotonic() - started < DEADLINE + SLACK
    assert words in str(caught.value)


class _Sink:
    """A write-only file that keeps only the byte count (download() seeks and truncates)."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        assert self.size <= POLICY.max_bytes
        return len(data)

    def seek(self, *_: object) -> int:
        return 0

    def truncate(self, *_: object) -> int:
        self.size = 0
        return 0


def test_stages_record_the_errors_and_finish(
    make_settings: Callable[..., Settings], raw: Callable[[Behaviour], RawServer]
) -> None:
    """A silent feed server and a bomb enclosure through poll and download: rows get errors, runs end."""
    holder: list[RawServer] = []
    table = behaviours(holder)
    silent = raw(table["silent-server"][0])
    holder.append(silent)
    bomb = raw(table["gzip-bomb"][0])
    trickle = raw(table["body-byte-every-2.5s"][0])
    settings = make_settings(fetch_timeout=2, max_download_mb=1, download_deadline_minutes=1)
    archive = Archive(settings)
    # The poll deadline is the policy's own (120 s); the read timeout (fetch_timeout) ends a silent feed.
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>
<item><title>bomb</title><guid>a</guid><enclosure url="{bomb.url}" type="audio/mpeg"/></item>
<item><title>trickle</title><guid>b</guid><enclosure url="{trickle.url}" type="audio/mpeg"/></item>
</channel></rss>""".encode()
    feed_server = raw(lambda c: c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(feed) + feed))
    with archive.db.session() as s:
        store.add_feed(s, silent.url, None)
        store.add_feed(s, feed_server.url, None)
    report = poll_feeds(archive)
    assert (report.done, report.failed) == (1, 1)
    with archive.db.session() as s:
        errors = [f.last_error or "" for f in store.list_feeds(s)]
    assert "timeout" in errors[0].lower(), errors
    # The trickling enclosure would take 250 s; the download deadline is shortened to 2 s here.
    archive.download_policy  # noqa: B018 - build, then tighten the deadline the setting allows in minutes
    archive.__dict__["download_policy"] = replace(archive.download_policy, deadline=DEADLINE)
    report = download_episodes(archive)
    assert (report.done, report.failed) == (0, 2)
    with archive.db.session() as s:
        errors = {e.title: e.last_error or "" for e in s.scalars(select(store.Episode))}
    # fetch_timeout (2 s) is shorter than the 2.5 s gaps: the read timeout or the deadline ends it.
    assert "1048576" in errors["bomb"] and ("timed out" in errors["trickle"] or "deadline" in errors["trickle"]), errors
    assert not list((settings.audio_dir / ".partial").glob("*.part")) or all(
        p.stat().st_size < 1024 for p in (settings.audio_dir / ".partial").glob("*.part")
    )
