"""Hostile URLs: schemes, credentials, bare paths, redirects inward, long chains, DNS rebinding.

Every refused case is checked against an internal listener that must count zero requests.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import download_episodes, poll_feeds
from feeds import BlockedURL, FetchError, FetchPolicy, fetch
from tests.loopback import Server, serve, static

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[Server, Server]]:
    with serve() as inner, serve() as outer:
        yield inner, outer


@pytest.fixture
def internal(_servers: tuple[Server, Server]) -> Server:
    """A listener on loopback that stands for an internal service: nothing may reach it."""
    srv = _servers[0]
    srv.seen.clear()
    srv.routes = {"/secret": static(200, b"internal secret")}
    return srv


@pytest.fixture
def public(_servers: tuple[Server, Server]) -> Server:
    """The 'public' server; policies let only its name (localhost) through, never 127.0.0.1."""
    srv = _servers[1]
    srv.seen.clear()
    srv.routes = {}
    return srv


def by_name(server: Server, path: str) -> str:
    return f"http://localhost:{server.server_address[1]}{path}"


ONLY_LOCALHOST = FetchPolicy(allow_private_hosts=frozenset({"localhost:*"}), deadline=10)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file://localhost/etc/passwd",
        "ftp://127.0.0.1/feed.xml",
        "gopher://127.0.0.1:70/_GET%20/",
        "data:text/xml,<rss/>",
        "data:application/rss+xml;base64,PHJzcy8+",
        "javascript:alert(1)",
        "http://user:pass@127.0.0.1/",
        "http://user@127.0.0.1/",
        "http://:@127.0.0.1/",
        "/etc/passwd",
        "etc/passwd",
        "./feed.xml",
        "../../etc/passwd",
        "C:\\Windows\\win.ini",
        "//127.0.0.1/secret",
        "http:/etc/passwd",
        "http:///etc/passwd",
        "",
    ],
)
def test_scheme_credentials_and_bare_paths_refused(url: str, internal: Server) -> None:
    policy = FetchPolicy(allow_private_hosts=frozenset({"127.0.0.1:*"}), deadline=5)
    with pytest.raises(FetchError):  # BlockedURL is one; a bare path never becomes a file read
        fetch(url.replace("127.0.0.1", f"127.0.0.1:{internal.server_address[1]}", 1), policy)
    assert internal.seen == []


def _inward_targets(internal: Server) -> dict[str, str]:
    port = internal.server_address[1]
    return {
        "loopback": f"http://127.0.0.1:{port}/secret",
        "loopback-other": f"http://127.0.0.2:{port}/secret",
        "private-10": "http://10.0.0.1/secret",
        "private-172": "http://172.16.5.4/secret",
        "private-192": "http://192.168.1.1/secret",
        "cgnat": "http://100.64.0.1/secret",
        "metadata": "http://169.254.169.254/latest/meta-data/iam/",
        "metadata-decimal": "http://2852039166/latest/meta-data/",
        "ipv6-loopback": f"http://[::1]:{port}/secret",
        "ipv6-mapped": f"http://[::ffff:127.0.0.1]:{port}/secret",
        "ipv6-mapped-hex": f"http://[::ffff:7f00:1]:{port}/secret",
        "ipv6-nat64-metadata": "http://[64:ff9b::a9fe:a9fe]/",
        "ipv6-6to4-loopback": f"http://[2002:7f00:1::]:{port}/secret",
        "unspecified": f"http://0.0.0.0:{port}/secret",
        "octal-loopback": f"http://0177.0.0.1:{port}/secret",
        "file": "file:///etc/passwd",
        "gopher": f"gopher://127.0.0.1:{port}/_x",
    }


TARGETS = [
    "loopback",
    "loopback-other",
    "private-10",
    "private-172",
    "private-192",
    "cgnat",
    "metadata",
    "metadata-decimal",
    "ipv6-loopback",
    "ipv6-mapped",
    "ipv6-mapped-hex",
    "ipv6-nat64-metadata",
    "ipv6-6to4-loopback",
    "unspecified",
    "octal-loopback",
    "file",
    "gopher",
]


@pytest.mark.parametrize("target", TARGETS)
def test_redirect_inward_is_refused(target: str, public: Server, internal: Server) -> None:
    location = _inward_targets(internal)[target]
    public.routes["/r"] = static(302, Location=location)
    # httpx itself refuses the octal spelling as a malformed URL: a FetchError, not BlockedURL.
    with pytest.raises(FetchError if target == "octal-loopback" else BlockedURL):
        fetch(by_name(public, "/r"), ONLY_LOCALHOST)
    assert len(public.requests_to("/r")) == 1 and internal.seen == []


def test_ten_hop_chain_stops_at_the_redirect_limit(public: Server) -> None:
    for n in range(10):
        public.routes[f"/hop{n}"] = static(302, Location=f"/hop{n + 1}")
    public.routes["/hop10"] = static(200, FEED)
    with pytest.raises(FetchError, match="redirects"):
        fetch(by_name(public, "/hop0"), ONLY_LOCALHOST)
    # max_redirects (8) + 1 requests, then it stops: hop 10 was never asked for.
    assert public.requests_to("/hop10") == [] and len(public.requests_to("/hop8")) == 1
    # Within the limit the chain is followed.
    assert fetch(by_name(public, "/hop3"), replace(ONLY_LOCALHOST, max_redirects=8)).content == FEED


@pytest.mark.parametrize(
    "location",
    ["http://[::1", "http://127.0.0.1:99999/", "http://exa mple.org/", "ht!tp://x/", "http://\x00/", "", None],
    ids=["open-bracket", "bad-port", "space", "bad-scheme", "nul", "empty", "missing"],
)
def test_malformed_location_is_a_fetch_error(location: str | None, public: Server, internal: Server) -> None:
    public.routes["/r"] = static(302, **({"Location": location} if location is not None else {}))
    with pytest.raises(FetchError):
        fetch(by_name(public, "/r"), ONLY_LOCALHOST)
    assert internal.seen == []


class Resolver:
    """Fault injector for socket.getaddrinfo: scripted answers for one name, per call.

    Every other lookup is refused (no network here), so a "public" answer can never
    be connected to: the point is only which address the client tries.
    """

    def __init__(self, name: str, answers: list[list[str]]) -> None:
        self.name = name
        self.answers = answers
        self.calls: list[str] = []
        self._real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        self.calls.append(str(host))
        if host == self.name:
            ips = self.answers[min(len([c for c in self.calls if c == self.name]) - 1, len(self.answers) - 1)]
            return [
                (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips
            ]
        if host in ("127.0.0.1", "localhost"):
            return self._real(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"fault injector: no network for {host}")


PUBLIC_IP = "93.184.216.34"


@pytest.mark.parametrize(
    "answers",
    [
        [[PUBLIC_IP], ["127.0.0.1"]],  # public when checked, loopback on a second lookup
        [["127.0.0.1"]],
        [["127.0.0.1", PUBLIC_IP]],
        [["::ffff:127.0.0.1"]],
        [["169.254.169.254"]],
    ],
    ids=["public-then-loopback", "loopback", "loopback-first-of-two", "mapped-loopback", "metadata"],
)
def test_dns_rebinding_never_reaches_the_internal_listener(
    answers: list[list[str]], internal: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = Resolver("rebind.test", answers)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    url = f"http://rebind.test:{internal.server_address[1]}/secret"
    with pytest.raises(FetchError):
        fetch(url, FetchPolicy(deadline=5))
    assert internal.seen == []
    # The name is resolved once; the connection goes to the checked IP, never to the name again.
    assert resolver.calls.count("rebind.test") == 1


def test_rebinding_through_a_redirect_and_the_download_stage(
    make_settings: Callable[..., Settings], internal: Server, public: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = internal.server_address[1]
    archive = Archive(make_settings(allow_private_hosts="localhost:*"))
    public.routes["/feed"] = static(
        200,
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>
<item><title>A</title><guid>a</guid><enclosure url="{by_name(public, "/ep.mp3")}" type="audio/mpeg"/></item>
<item><title>B</title><guid>b</guid><enclosure url="http://127.0.0.1:{port}/secret" type="audio/mpeg"/></item>
<item><title>C</title><guid>c</guid><enclosure url="file:///etc/passwd" type="audio/mpeg"/></item>
</channel></rss>""".encode(),
    )
    public.routes["/ep.mp3"] = static(302, Location=f"http://rebind.test:{port}/secret")
    with archive.db.session() as s:
        store.add_feed(s, by_name(public, "/feed"), None)
        store.add_feed(s, f"http://127.0.0.1:{port}/secret", None)
    assert poll_feeds(archive).failed == 1
    resolver = Resolver("rebind.test", [[PUBLIC_IP], ["127.0.0.1"]])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    report = download_episodes(archive)
    assert (report.done, report.failed) == (0, 3)
    assert internal.seen == []
    with archive.db.session() as s:
        errors = {e.title: e.last_error or "" for e in s.scalars(select(store.Episode))}
    assert "non-public" in errors["B"] and "scheme" in errors["C"], errors
