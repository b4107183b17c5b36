"""fetch/download against real HTTP servers on loopback, including SSRF attempts."""

from __future__ import annotations

import contextlib
import gzip
import io
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler

import pytest

from feeds import BlockedURL, FetchError, FetchPolicy, TooLarge, check_url, download, fetch
from tests.loopback import QuietServer

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
AUDIO = bytes(range(256)) * 4096  # 1 MiB


def gzip_bomb() -> bytes:
    """100 MB of zeros, gzip-compressed (about 100 KB)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        block = bytes(1024 * 1024)
        for _ in range(100):
            gz.write(block)
    return out.getvalue()


class Server(QuietServer):
    """Loopback server that records each request path."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.paths: list[str] = []
        self.agents: list[str] = []
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    """Serves the routes registered on its Server, plus a few special paths."""

    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""

    def do_GET(self) -> None:  # noqa: N802
        self.server.paths.append(self.path)
        self.server.agents.append(self.headers.get("User-Agent", ""))
        if self.path == "/feed":
            if self.headers.get("If-None-Match") == '"v1"':
                return self.reply(304, {"ETag": '"v1"'}, b"")
            return self.reply(200, {"ETag": '"v1"', "Content-Type": "application/rss+xml"}, FEED)
        if self.path == "/endless":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                return
        if self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                return
            return
        status, headers, body = self.server.routes.get(self.path, (404, {}, b"not found"))
        self.reply(status, headers, body)

    def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


def start() -> Server:
    server = Server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Server, Server]]:
    """Server a serves everything; server b is only ever a redirect target."""
    a, b = start(), start()
    b.routes["/x"] = (200, {}, b"secret")
    a.routes.update(
        {
            "/moved": (301, {"Location": "/moved2"}, b""),
            "/moved2": (308, {"Location": f"{a.base}/feed"}, b""),
            "/mixed": (301, {"Location": "/temp"}, b""),
            "/temp": (302, {"Location": "feed"}, b""),
            "/gone": (410, {}, b"gone"),
            "/busy": (429, {"Retry-After": "7"}, b"slow down"),
            "/bomb": (200, {"Content-Encoding": "gzip"}, gzip_bomb()),
            "/deflated": (200, {"Content-Encoding": "deflate"}, zlib.compress(FEED)),
            "/big": (200, {}, AUDIO),
            "/audio": (302, {"Location": "/big"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
            "/bad-location": (302, {"Location": "http://[::1"}, b""),
            "/to-loopback": (302, {"Location": f"{b.base}/x"}, b""),
            "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/to-mapped": (302, {"Location": f"http://[::ffff:127.0.0.1]:{b.server_address[1]}/x"}, b""),
            "/to-name": (302, {"Location": f"http://localhost:{b.server_address[1]}/x"}, b""),
            "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
        }
    )
    yield a, b
    for server in (a, b):
        server.shutdown()
        server.server_close()


LOOPBACK = FetchPolicy(allow_private_hosts=frozenset({"127.0.0.1:*"}), deadline=10)
# Lets only the first hop (by name) through; redirects to 127.0.0.1 must be refused.
BY_NAME = FetchPolicy(allow_private_hosts=frozenset({"localhost:*"}), deadline=10)


def named(server: Server, path: str) -> str:
    return f"http://localhost:{server.server_address[1]}{path}"


def test_etag_then_304(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    first = fetch(f"{a.base}/feed", LOOPBACK)
    assert (first.status, first.content, first.etag) == (200, FEED, '"v1"')
    assert first.content_type == "application/rss+xml" and not first.not_modified
    second = fetch(f"{a.base}/feed", LOOPBACK, etag=first.etag, last_modified="Mon, 06 Jan 2020 10:00:00 GMT")
    assert second.not_modified and second.status == 304 and second.content == b""
    assert second.etag == '"v1"' and second.last_modified == "Mon, 06 Jan 2020 10:00:00 GMT"


def test_user_agent_from_policy(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    policy = replace(LOOPBACK, user_agent="podarchive-test/1")
    fetch(f"{a.base}/feed", policy)
    assert a.agents[-1] == "podarchive-test/1"


def test_permanent_redirect_chain(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    result = fetch(f"{a.base}/moved", LOOPBACK)
    assert result.url == f"{a.base}/feed" and result.content == FEED
    assert result.permanent_url == f"{a.base}/feed"
    mixed = fetch(f"{a.base}/mixed", LOOPBACK)
    assert mixed.url == f"{a.base}/feed"
    assert mixed.permanent_url == f"{a.base}/temp"  # the 302 after it is not permanent


def test_deflate_decoded(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    assert fetch(f"{a.base}/deflated", LOOPBACK).content == FEED


def test_error_statuses(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    with pytest.raises(FetchError) as gone:
        fetch(f"{a.base}/gone", LOOPBACK)
    assert gone.value.status == 410
    with pytest.raises(FetchError) as busy:
        fetch(f"{a.base}/busy", LOOPBACK)
    assert busy.value.status == 429 and busy.value.retry_after == 7


def test_redirect_loop_and_bad_location(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    with pytest.raises(FetchError, match="redirects"):
        fetch(f"{a.base}/loop", LOOPBACK)
    with pytest.raises(FetchError, match="(?i)location"):
        fetch(f"{a.base}/bad-location", LOOPBACK)


def test_gzip_bomb_stops_at_cap(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    with pytest.raises(TooLarge):
        fetch(f"{a.base}/bomb", replace(LOOPBACK, max_bytes=1024 * 1024))


def test_endless_body_stops(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    with pytest.raises(TooLarge):
        fetch(f"{a.base}/endless", replace(LOOPBACK, max_bytes=1024 * 1024))


def test_slow_body_hits_deadline(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline"):
        fetch(f"{a.base}/slow", replace(LOOPBACK, deadline=2))
    assert time.monotonic() - started < 3.5


def test_download_streams_to_file(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    dest = io.BytesIO()
    result = download(f"{a.base}/audio", dest, LOOPBACK)
    assert dest.getvalue() == AUDIO and result.bytes_written == len(AUDIO)
    assert result.final_url == f"{a.base}/big"
    with pytest.raises(TooLarge):
        download(f"{a.base}/big", io.BytesIO(), replace(LOOPBACK, max_bytes=1000))


def test_loopback_refused_without_allow_list(servers: tuple[Server, Server]) -> None:
    _, b = servers
    before = len(b.paths)
    with pytest.raises(BlockedURL):
        fetch(f"{b.base}/x", FetchPolicy())
    # A name that resolves to loopback is refused at connect time, after DNS.
    with pytest.raises(BlockedURL):
        fetch(named(b, "/x"), FetchPolicy())
    assert len(b.paths) == before


@pytest.mark.parametrize("path", ["/to-loopback", "/to-metadata", "/to-mapped", "/to-name", "/to-file"])
def test_redirect_to_private_target_refused(servers: tuple[Server, Server], path: str) -> None:
    a, b = servers
    before_a, before_b = len(a.paths), len(b.paths)
    policy = BY_NAME if path != "/to-name" else replace(BY_NAME, allow_private_hosts=frozenset({"127.0.0.1:*"}))
    url = named(a, path) if path != "/to-name" else f"{a.base}{path}"
    with pytest.raises(BlockedURL):
        fetch(url, policy)
    assert len(a.paths) == before_a + 1  # the first hop was served
    assert len(b.paths) == before_b  # the target never was


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed.xml",
        "data:text/xml,<rss/>",
        "gopher://example.com/",
        "http://user:pass@example.com/feed",
        "http://user@example.com/",
        "http:///nohost",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://127.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::1]/",
        "http://100.64.1.1/",
    ],
)
def test_check_url_refuses(url: str) -> None:
    with pytest.raises(BlockedURL):
        check_url(url, FetchPolicy())
    with pytest.raises(BlockedURL):
        fetch(url, FetchPolicy(deadline=5))


def test_check_url_accepts_public() -> None:
    check_url("https://feeds.soundcloud.com/users/soundcloud:users:1/sounds.rss", FetchPolicy())
    check_url("http://93.184.216.34/feed", FetchPolicy())
