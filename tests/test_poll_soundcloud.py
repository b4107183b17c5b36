"""SoundCloud feeds: back catalogue pages followed on first import only, up to max_feed_pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import poll_feeds
from tests.loopback import serve, static

FEEDS = Path(__file__).parent / "data" / "feeds"
DIA = (FEEDS / "soundcloud_dia_radio_fr_basque.rss").read_bytes()
INFOQ = (FEEDS / "soundcloud_infoq_interviews_large.rss").read_bytes()


def relink(feed: bytes, next_url: str) -> bytes:
    """The real feed with its rel="next" pointing at our loopback server."""
    start = feed.index(b'<atom:link href="', feed.index(b'rel="self"'))
    end = feed.index(b'rel="next"', start)
    return feed[:start] + f'<atom:link href="{next_url}" '.encode() + feed[end:]


def page(n: int, next_url: str | None) -> bytes:
    link = f'<atom:link href="{next_url}" rel="next" type="application/rss+xml"/>' if next_url else ""
    return f"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><title>page {n}</title>{link}<item><title>old {n}</title>
<guid isPermaLink="false">tag:soundcloud,2010:tracks/{900 + n}</guid>
<enclosure url="https://feeds.soundcloud.com/stream/{900 + n}-old.mp3" type="audio/mpeg" length="1"/>
</item></channel></rss>""".encode()


def test_first_import_follows_next_pages_up_to_the_limit(make_settings: Callable[..., Settings]) -> None:
    archive = Archive(make_settings(max_feed_pages=3))
    with serve() as server:
        url = server.url("/users/soundcloud:users:683767394/sounds.rss")
        server.routes["/users/soundcloud:users:683767394/sounds.rss"] = static(200, relink(DIA, server.url("/p2")))
        server.routes["/p2"] = static(200, relink(INFOQ, server.url("/p3")))
        server.routes["/p3"] = static(200, page(3, server.url("/p4")))
        server.routes["/p4"] = static(200, page(4, None))
        with archive.db.session() as s:
            fid = store.add_feed(s, url, "fr").id
        report = poll_feeds(archive)
        assert (report.done, report.failed) == (1, 0)
        assert [len(server.requests_to(p)) for p in ("/p2", "/p3", "/p4")] == [1, 1, 0]
        with archive.db.session() as s:
            episodes = store.feed_episodes(s, fid)
            guids = {e.guid for e in episodes}
            feed = s.get(store.Feed, fid)
            assert feed.url == url and feed.title  # the first page names the feed
            assert "stopped after 3 pages" in (feed.last_error or "")
        assert len(episodes) == 108 + 308 + 1
        assert all(g.startswith("tag:soundcloud,2010:tracks/") for g in guids)
        assert "tag:soundcloud,2010:tracks/903" in guids
        # Enclosures stay as published (tracking prefix and all): the download resolves them.
        assert sum(e.enclosure_url.startswith("http://dts.podtrac.com/redirect.mp3/") for e in episodes) == 308

        # Later polls read the first page only: the back catalogue is already in.
        with archive.db.session() as s:
            store.poll_soon(s)
        poll_feeds(archive)
        assert [len(server.requests_to(p)) for p in ("/p2", "/p3", "/p4")] == [1, 1, 0]
        with archive.db.session() as s:
            assert len(store.feed_episodes(s, fid)) == 417


def test_a_failing_page_keeps_what_came_before(make_settings: Callable[..., Settings]) -> None:
    archive = Archive(make_settings())
    with serve() as server:
        server.routes["/feed"] = static(200, page(1, server.url("/p2")))
        server.routes["/p2"] = static(500, b"")
        with archive.db.session() as s:
            fid = store.add_feed(s, server.url("/feed"), None).id
        report = poll_feeds(archive)
        assert report.failed == 0
        with archive.db.session() as s:
            assert [e.guid for e in store.feed_episodes(s, fid)] == ["tag:soundcloud,2010:tracks/901"]
            assert "page 2" in (s.get(store.Feed, fid).last_error or "")
