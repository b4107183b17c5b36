"""PODARCHIVE_ALLOW_PRIVATE_HOSTS names host:port, never a whole host (issue 19, item 4).

A show on an allowed private host:port whose transcript, chapters or enclosure points,
directly or by redirect, at another port of the same host: an internal service there
must get no request, and nothing of its answer may reach the archive.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from archive import store
from archive.config import ConfigError, Settings, load_settings
from archive.context import Archive
from archive.ingest import run_stages
from feeds import BlockedURL, FetchPolicy, fetch
from feeds.guard import allowed_private_entry
from tests.conftest import run_cli
from tests.loopback import Server, free_port, serve, static

MP3 = (Path(__file__).parent.parent / "archive" / "demo" / "ask-not.mp3").read_bytes()
SECRET_VTT = b"WEBVTT\n\n00:00.000 --> 00:05.000\n<v Admin>internal secret token\n"
SECRET_CHAPTERS = json.dumps({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "internal secret"}]}).encode()


@pytest.fixture
def internal() -> Iterator[Server]:
    """An internal service on another port of the allowed host; its answers would all be usable."""
    with serve() as srv:
        srv.routes = {
            "/t.vtt": static(200, SECRET_VTT, Content_Type="text/vtt"),
            "/c.json": static(200, SECRET_CHAPTERS, Content_Type="application/json+chapters"),
            "/a.mp3": static(200, MP3, Content_Type="audio/mpeg"),
        }
        yield srv


def _item(guid: str, audio: str, transcript: str | None = None, chapters: str | None = None) -> str:
    extra = f'<podcast:transcript url="{transcript}" type="text/vtt"/>' if transcript else ""
    extra += f'<podcast:chapters url="{chapters}" type="application/json+chapters"/>' if chapters else ""
    return f"""<item><title>{guid}</title><guid>{guid}</guid><itunes:duration>0:15</itunes:duration>
        <enclosure url="{audio}" type="audio/mpeg" length="{len(MP3)}"/>{extra}</item>"""


def test_other_ports_of_an_allowed_host_are_refused_directly_and_by_redirect(
    make_settings: Callable[..., Settings], server: Server, internal: Server
) -> None:
    inside = internal.base
    server.routes = {
        "/ep.mp3": static(200, MP3, Content_Type="audio/mpeg"),
        "/r/t.vtt": static(302, Location=f"{inside}/t.vtt"),
        "/r/c.json": static(307, Location=f"{inside}/c.json"),
        "/r/a.mp3": static(302, Location=f"{inside}/a.mp3"),
    }
    items = [
        _item("direct", server.url("/ep.mp3"), f"{inside}/t.vtt", f"{inside}/c.json"),
        _item("redirected", server.url("/ep.mp3"), server.url("/r/t.vtt"), server.url("/r/c.json")),
        _item("enclosure-direct", f"{inside}/a.mp3"),
        _item("enclosure-redirected", server.url("/r/a.mp3")),
    ]
    server.routes["/feed"] = static(
        200,
        f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>S</title>{"".join(items)}</channel></rss>""".encode(),
    )
    # Exactly the show's host:port, as an operator would now write it.
    port = server.server_address[1]
    archive = Archive(make_settings(allow_private_hosts=f"127.0.0.1:{port}"))
    with archive.db.session() as s:
        store.add_feed(s, server.url("/feed"), "en")

    reports = {r.stage: r for r in run_stages(archive, ("poll", "download", "chapters", "transcribe"))}

    assert internal.seen == []
    assert (reports["poll"].done, reports["poll"].failed) == (1, 0)  # the allowed host:port itself works
    assert (reports["download"].done, reports["download"].failed) == (2, 2)
    assert (reports["chapters"].done, reports["chapters"].failed) == (0, 2)
    with archive.db.session() as s:
        episodes = {e.guid: e for e in s.scalars(select(store.Episode))}
        for guid in ("enclosure-direct", "enclosure-redirected"):
            assert episodes[guid].audio is None and "non-public" in (episodes[guid].last_error or ""), guid
        for guid in ("direct", "redirected"):
            assert "non-public" in (episodes[guid].chapters_error or ""), guid
        texts = [seg.text for seg in s.scalars(select(store.Segment))]
        chapters = [c.title for c in s.scalars(select(store.EpisodeChapter))]
        origins = [t.origin for t in s.scalars(select(store.Transcript))]
    assert not any("secret" in t for t in texts + chapters), (texts, chapters)
    # The publisher's files were refused: Whisper transcribed both episodes instead.
    assert reports["transcribe"].done == 2 and "publisher" not in origins, origins


def test_a_bare_host_allows_its_default_ports_only(internal: Server) -> None:
    # The setting the issue's tester used: it must no longer open 127.0.0.1's other ports.
    with pytest.raises(BlockedURL):
        fetch(f"{internal.base}/t.vtt", FetchPolicy(allow_private_hosts=frozenset({"127.0.0.1"}), deadline=5))
    assert internal.seen == []
    exact = FetchPolicy(allow_private_hosts=frozenset({f"127.0.0.1:{internal.server_address[1]}"}), deadline=5)
    assert fetch(f"{internal.base}/t.vtt", exact).content == SECRET_VTT


@pytest.mark.fast
@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("127.0.0.1", ("127.0.0.1", (80, 443))),
        ("LAN-Box.local", ("lan-box.local", (80, 443))),
        ("127.0.0.1:8080", ("127.0.0.1", (8080,))),
        ("[::1]:8080", ("::1", (8080,))),
        ("[::1]", ("::1", (80, 443))),
        ("::1", ("::1", (80, 443))),
        ("127.0.0.1:*", ("127.0.0.1", None)),
    ],
)
def test_allow_list_entries(entry: str, parsed: tuple[str, tuple[int, ...] | None]) -> None:
    assert allowed_private_entry(entry) == parsed


@pytest.mark.fast
@pytest.mark.parametrize("entry", ["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x", ":8080", "[::1", "a b", "h:-1"])
def test_malformed_allow_list_entries_are_a_configuration_error(tmp_path: Path, entry: str) -> None:
    with pytest.raises(ConfigError, match="ALLOW_PRIVATE_HOSTS"):
        load_settings(environ={"PODARCHIVE_ALLOW_PRIVATE_HOSTS": entry}, data_dir=tmp_path)


def test_the_demo_allows_exactly_its_own_feed_port(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(allow_private_hosts="")
    port = free_port()
    out = run_cli(settings, "demo", "--no-serve", "--port", str(port))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "poll: 1 ok" in out.stdout and "download: 3 ok" in out.stdout, out.stdout
    assert "chapters: 1 ok" in out.stdout, out.stdout
