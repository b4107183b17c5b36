"""The download stage against loopback servers: redirect chains, resume, restarts, bad audio."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import download_episodes, poll_feeds
from tests.loopback import Handler, Server, static

MP3 = (Path(__file__).parent.parent / "archive" / "demo" / "ask-not.mp3").read_bytes()  # 45 s
ETAG = '"mp3-v1"'


def feed(enclosure: str, duration: str = "0:45") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>S</title>
<item><title>Ep</title><guid>tag:soundcloud,2010:tracks/123</guid><itunes:duration>{duration}</itunes:duration>
<enclosure url="{enclosure}" type="audio/mpeg" length="{len(MP3)}"/></item></channel></rss>""".encode()


def ingest_feed(archive: Archive, server: Server, enclosure: str, duration: str = "0:45") -> int:
    server.routes["/feed"] = static(200, feed(enclosure, duration))
    with archive.db.session() as s:
        fid = store.add_feed(s, server.url("/feed"), None).id
    poll_feeds(archive)
    with archive.db.session() as s:
        [episode] = store.feed_episodes(s, fid)
        return episode.id


def episode_state(archive: Archive, episode_id: int) -> tuple[str | None, str | None, store.AudioFile | None]:
    with archive.db.session() as s:
        e = store.get_episode(s, episode_id)
        assert e is not None
        return e.enclosure_url, e.last_error, e.audio


def retry_now(archive: Archive, episode_id: int) -> None:
    """Let the next download run take the episode despite its backoff."""
    with archive.db.session() as s:
        store.get_episode(s, episode_id).next_try_at = None  # type: ignore[union-attr]


def serve_mp3(h: Handler, *, cut_after: int | None = None, honour_range: bool = True) -> None:
    """The MP3 with a strong ETag; Range + If-Range honoured; optionally drop the connection."""
    start = 0
    wanted = h.headers.get("Range", "")
    if honour_range and wanted.startswith("bytes=") and h.headers.get("If-Range") == ETAG:
        start = int(wanted[6:].split("-")[0])
    body = MP3[start:]
    h.send_response(206 if start else 200)
    h.send_header("ETag", ETAG)
    h.send_header("Accept-Ranges", "bytes")
    h.send_header("Content-Type", "audio/mpeg")
    h.send_header("Content-Length", str(len(body)))
    if start:
        h.send_header("Content-Range", f"bytes {start}-{len(MP3) - 1}/{len(MP3)}")
    h.end_headers()
    h.wfile.write(body[:cut_after] if cut_after is not None else body)
    if cut_after is not None:
        h.wfile.flush()
        h.close_connection = True


def test_redirect_chain_is_resolved_at_download_time_and_resumes(server: Server, archive: Archive) -> None:
    # tracking prefix -> SoundCloud stream -> signed CDN URL valid for one use only.
    tokens = itertools.count(1)
    issued: set[str] = set()
    cdn_calls: list[str] = []

    def stream(h: Handler) -> None:
        token = f"sig{next(tokens)}"
        issued.add(token)
        h.reply(302, {"Location": f"/cdn/123.mp3?Policy=p&Signature={token}&Expires=1"}, b"")

    def cdn(h: Handler) -> None:
        token = h.path.split("Signature=")[1].split("&")[0]
        cdn_calls.append(token)
        if token not in issued:
            return h.reply(403, {}, b"<Error>Request has expired</Error>")
        issued.discard(token)
        # The first transfer breaks after 100 kB; later ones complete.
        serve_mp3(h, cut_after=100_000 if len(cdn_calls) == 1 else None)

    server.routes["/track/redirect.mp3/stream/123.mp3"] = static(302, Location="/stream/123.mp3")
    server.routes["/stream/123.mp3"] = stream
    server.routes["/cdn/123.mp3"] = cdn
    enclosure = server.url("/track/redirect.mp3/stream/123.mp3")
    episode_id = ingest_feed(archive, server, enclosure)

    report = download_episodes(archive)
    assert report.failed == 1
    url, error, audio = episode_state(archive, episode_id)
    assert audio is None and "after 100000 bytes" in (error or "")
    partial = archive.settings.audio_dir / ".partial"
    assert (partial / f"{episode_id:08d}.part").stat().st_size == 100_000

    retry_now(archive, episode_id)
    report = download_episodes(archive)
    assert (report.done, report.failed) == (1, 0)
    url, error, audio = episode_state(archive, episode_id)
    assert url == enclosure and error is None and audio is not None
    # The whole chain was walked again, and the second CDN request asked only for the rest.
    assert cdn_calls == ["sig1", "sig2"]
    second = server.requests_to("/cdn/123.mp3?Policy=p&Signature=sig2&Expires=1")[0]
    assert second.headers["range"] == "bytes=100000-" and second.headers["if-range"] == ETAG
    stored = archive.settings.audio_dir / audio.path
    assert audio.path == f"{episode_id:08d}.mp3" and stored.read_bytes() == MP3
    assert audio.sha256 == hashlib.sha256(MP3).hexdigest() and abs(audio.duration - 45) < 1
    assert not list(partial.iterdir())
    # The signed, expiring CDN URL is nowhere in the database, not even in the old error text.
    db_bytes = b"".join(p.read_bytes() for p in archive.settings.data_dir.glob("podarchive.db*"))
    assert b"Signature=" not in db_bytes and b"sig1" not in db_bytes


def test_server_that_ignores_range_gets_a_clean_restart(server: Server, archive: Archive) -> None:
    calls: list[int] = []

    def route(h: Handler) -> None:
        calls.append(1)
        serve_mp3(h, cut_after=50_000 if len(calls) == 1 else None, honour_range=False)

    server.routes["/ep.mp3"] = route
    episode_id = ingest_feed(archive, server, server.url("/ep.mp3"))
    download_episodes(archive)
    retry_now(archive, episode_id)
    download_episodes(archive)
    _, error, audio = episode_state(archive, episode_id)
    assert error is None and audio is not None
    assert server.requests_to("/ep.mp3")[1].headers.get("range") == "bytes=50000-"
    # A 200 to a Range request means "here is all of it": no splicing onto the old bytes.
    assert (archive.settings.audio_dir / audio.path).read_bytes() == MP3


def test_wrong_content_range_restarts_from_zero(server: Server, archive: Archive) -> None:
    calls: list[int] = []

    def route(h: Handler) -> None:
        calls.append(1)
        if len(calls) == 1:
            return serve_mp3(h, cut_after=60_000)
        if h.headers.get("Range"):
            # Claims 206 but starts somewhere else.
            return h.reply(206, {"ETag": ETAG, "Content-Range": f"bytes 10-{len(MP3) - 1}/{len(MP3)}"}, MP3[10:])
        serve_mp3(h)

    server.routes["/ep.mp3"] = route
    episode_id = ingest_feed(archive, server, server.url("/ep.mp3"))
    for _ in range(3):
        download_episodes(archive)
        retry_now(archive, episode_id)
    _, error, audio = episode_state(archive, episode_id)
    assert audio is not None and (archive.settings.audio_dir / audio.path).read_bytes() == MP3
    assert [r.headers.get("range") for r in server.requests_to("/ep.mp3")] == [None, "bytes=60000-", None]


@pytest.mark.parametrize(
    ("body", "duration", "expected"),
    [
        (b"<!DOCTYPE html><html><body>Sign in to listen</body></html>", "0:45", "HTML"),
        (b"", "0:45", "empty"),
        (MP3[: len(MP3) // 4], "", "truncated"),
        (MP3, "10:00", "truncated?"),
        (b"\x00" * 5000, "0:45", "not an audio file"),
    ],
    ids=["html", "empty", "cut-short", "shorter-than-declared", "garbage"],
)
def test_unusable_audio_gets_a_clear_error(
    server: Server, archive: Archive, body: bytes, duration: str, expected: str
) -> None:
    server.routes["/ep.mp3"] = static(200, body, Content_Type="audio/mpeg")
    episode_id = ingest_feed(archive, server, server.url("/ep.mp3"), duration)
    report = download_episodes(archive)
    assert report.failed == 1
    _, error, audio = episode_state(archive, episode_id)
    assert audio is None and expected in (error or ""), error
    assert not list(archive.settings.audio_dir.glob("*.mp3"))
    assert not list((archive.settings.audio_dir / ".partial").iterdir())


def test_size_cap(server: Server, make_settings: Callable[..., Settings]) -> None:
    archive = Archive(make_settings(max_download_mb=1))
    big = MP3 * 5  # about 1.3 MB

    def chunked(h: Handler) -> None:
        # No Content-Length: the cap must stop the stream itself.
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for i in range(0, len(big), 65536):
            part = big[i : i + 65536]
            h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        h.wfile.write(b"0\r\n\r\n")

    server.routes["/ep.mp3"] = chunked
    episode_id = ingest_feed(archive, server, server.url("/ep.mp3"))
    download_episodes(archive)
    _, error, audio = episode_state(archive, episode_id)
    assert audio is None and "TooLarge" not in (error or "x") and "1048576" in (error or ""), error
    assert not list((archive.settings.audio_dir / ".partial").iterdir())
