"""Enclosures with a Content-Encoding (issue 19, item 8): asked for none, capped decoded and on the wire."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, update

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import download_episodes, poll_feeds
from feeds import FetchPolicy, TooLarge, download
from tests.conftest import rss
from tests.loopback import Handler, Server, static

MIB = 1024 * 1024
MP3 = (Path(__file__).parent.parent / "archive" / "demo" / "ask-not.mp3").read_bytes()
# An MP3 header, then 64 MiB of zeros: about 64 KB on the wire.
BOMB = gzip.compress(b"ID3" + bytes(64 * MIB - 3), compresslevel=9)
POLICY = FetchPolicy(allow_private_hosts=frozenset({"127.0.0.1:*"}), deadline=30, max_bytes=32 * MIB)


def _gzipped(body: bytes) -> Callable[[Handler], None]:
    """Served gzip-coded whatever the client asked for, as a hostile or broken server does."""
    return static(200, body, Content_Type="audio/mpeg", Content_Encoding="gzip")


def test_a_gzip_bomb_is_refused_long_before_the_cap(server: Server) -> None:
    assert len(BOMB) < 100_000
    server.routes["/bomb.mp3"] = _gzipped(BOMB)
    dest = io.BytesIO()
    with pytest.raises(TooLarge, match="expands"):
        download(server.url("/bomb.mp3"), dest, POLICY)
    # The cap is 32 MiB; a bomb is recognised within its first 2 MiB.
    assert 0 < len(dest.getvalue()) <= 2 * MIB
    [seen] = server.requests_to("/bomb.mp3")
    assert seen.headers["accept-encoding"] == "identity"


def _empty_members(handler: Handler) -> None:
    """Endless gzip members that each decode to nothing (bounded: 64 MiB, or the client leaves)."""
    member = gzip.compress(b"")
    block = member * (65536 // len(member))
    handler.send_response(200)
    handler.send_header("Content-Type", "audio/mpeg")
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    try:
        for _ in range(64 * MIB // len(block)):
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
        handler.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass


def test_wire_bytes_are_capped_even_when_nothing_decodes(server: Server) -> None:
    server.routes["/empty.mp3"] = _empty_members
    with pytest.raises(TooLarge, match="on the wire"):
        download(server.url("/empty.mp3"), io.BytesIO(), replace(POLICY, max_bytes=MIB))


def test_a_server_that_gzips_real_audio_anyway_still_works(server: Server) -> None:
    server.routes["/real.mp3"] = _gzipped(gzip.compress(MP3))
    dest = io.BytesIO()
    result = download(server.url("/real.mp3"), dest, POLICY)
    assert dest.getvalue() == MP3 and result.bytes_written == len(MP3)


def test_the_download_stage_refuses_a_bomb_with_backoff_and_stops_after_max_attempts(
    make_settings: Callable[..., Settings], server: Server
) -> None:
    server.routes["/bomb.mp3"] = _gzipped(BOMB)
    server.routes["/feed.xml"] = static(
        200, rss("Bombs", [{"title": "B", "guid": "b", "url": server.url("/bomb.mp3")}]).encode()
    )
    settings = make_settings(max_download_mb=32)
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, server.url("/feed.xml"), "en")
    assert poll_feeds(archive).done == 1

    for attempt in range(1, settings.max_attempts + 1):
        report = download_episodes(archive)
        assert (report.done, report.failed) == (0, 1)
        with archive.db.session() as s:
            episode = s.scalars(select(store.Episode)).one()
            assert episode.attempts == attempt and episode.next_try_at is not None
            assert "expands" in (episode.last_error or ""), episode.last_error
            # Out of its backoff for the next round.
            s.execute(update(store.Episode).values(next_try_at=None))
        assert not [p for p in settings.audio_dir.rglob("*") if p.is_file()]

    # Its attempts spent: never asked for again.
    assert (download_episodes(archive).done, download_episodes(archive).failed) == (0, 0)
    assert len(server.requests_to("/bomb.mp3")) == settings.max_attempts


@pytest.mark.fast
@pytest.mark.parametrize("split", [0, 1, 2, 5], ids=["at-member-end", "inside-magic", "after-magic", "in-header"])
def test_gzip_members_split_across_chunks_decode_whole(split: int) -> None:
    from feeds.decode import decoded_chunks

    first, second = gzip.compress(b"first member "), gzip.compress(b"second member")
    body = first + second
    cut = len(first) + split
    assert b"".join(decoded_chunks([body[:cut], body[cut:]], "gzip", 1000)) == b"first member second member"
