"""Chapters files through the real poll and download stages, against a loopback server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import public, store
from archive.context import Archive
from archive.ingest import download_episodes, fetch_due_chapters, poll_feeds
from tests.loopback import Server, serve, static

MP3 = (Path(__file__).parent.parent / "archive" / "demo" / "ask-not.mp3").read_bytes()
GOOD = json.dumps(
    {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 12.5, "title": "Fashion in the West"},
            {"startTime": 0, "title": "<script>alert('chapter')</script>Kennedy", "url": "https://example.org/jfk"},
            {"startTime": 20, "title": "silent", "toc": False},
        ],
    }
).encode()


def feed(items: list[tuple[str, str, str | None]]) -> bytes:
    """An RSS feed of (guid, enclosure path, chapters URL or None) items."""
    body = "".join(
        f"""<item><title>{guid}</title><guid>{guid}</guid><itunes:duration>0:45</itunes:duration>
        <enclosure url="{audio}" type="audio/mpeg" length="{len(MP3)}"/>
        {f'<podcast:chapters url="{url}" type="application/json+chapters"/>' if url else ""}</item>"""
        for guid, audio, url in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>S</title>{body}</channel></rss>""".encode()


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as srv:
        srv.routes["/ep.mp3"] = static(200, MP3, Content_Type="audio/mpeg")
        yield srv


def poll(archive: Archive, server: Server, items: list[tuple[str, str, str | None]]) -> dict[str, int]:
    """Serve the feed, poll it now, and return episode ids by guid."""
    server.routes["/feed"] = static(200, feed(items))
    with archive.db.session() as s:
        if not store.list_feeds(s):
            store.add_feed(s, server.url("/feed"), "en")
        store.poll_soon(s)
    report = poll_feeds(archive)
    assert report.failed == 0, report.notes
    with archive.db.session() as s:
        return {e.guid: e.id for e in store.feed_episodes(s, store.list_feeds(s)[0].id)}


def stored(archive: Archive, episode_id: int) -> tuple[list[tuple[float, str, str | None]], store.Episode]:
    with archive.db.session() as s:
        episode = store.get_episode(s, episode_id)
        assert episode is not None
        return [(c.start, c.title, c.url) for c in public.episode_chapters(s, episode_id)], episode


def test_chapters_are_fetched_once_and_never_tied_to_the_audio(archive: Archive, server: Server) -> None:
    server.routes["/a.json"] = static(200, GOOD, Content_Type="application/json+chapters")
    server.routes["/b.json"] = static(200, GOOD, Content_Type="application/json")
    ids = poll(
        archive,
        server,
        [
            ("a", server.url("/ep.mp3"), server.url("/a.json")),
            ("b", server.url("/missing.mp3"), server.url("/b.json")),  # its audio is a 404
        ],
    )
    report = download_episodes(archive)
    assert (report.done, report.failed) == (1, 1)
    # The chapters stage stores both files, the one whose audio failed too.
    chapters = fetch_due_chapters(archive)
    assert (chapters.done, chapters.failed) == (2, 0)
    expected = [
        (0.0, "<script>alert('chapter')</script>Kennedy", "https://example.org/jfk"),
        (12.5, "Fashion in the West", None),
    ]
    for guid in ("a", "b"):
        rows, episode = stored(archive, ids[guid])
        assert rows == expected, guid
        assert episode.chapters_fetched_url == episode.chapters_url and episode.chapters_error is None
    # The failed audio is the episode's own error; the chapters stored regardless.
    _, b = stored(archive, ids["b"])
    assert b.error_stage == "download" and b.audio is None
    # Stored chapters are not fetched again, neither by the next run nor by the next poll.
    poll(archive, server, [("a", server.url("/ep.mp3"), server.url("/a.json"))])
    download_episodes(archive)
    assert fetch_due_chapters(archive).done == 0
    assert len(server.requests_to("/a.json")) == 1


def test_a_new_url_is_fetched_again_and_a_dropped_one_hides_the_chapters(archive: Archive, server: Server) -> None:
    second = json.dumps({"version": "1.2.0", "chapters": [{"startTime": 3, "title": "Re-cut"}]}).encode()
    server.routes["/v1.json"] = static(200, GOOD)
    server.routes["/v2.json"] = static(200, second)
    server.routes["/v3.json"] = static(500, b"oops")
    [episode_id] = poll(archive, server, [("a", server.url("/ep.mp3"), server.url("/v1.json"))]).values()
    download_episodes(archive)
    fetch_due_chapters(archive)
    assert len(stored(archive, episode_id)[0]) == 2

    poll(archive, server, [("a", server.url("/ep.mp3"), server.url("/v2.json"))])
    download_episodes(archive)
    fetch_due_chapters(archive)
    rows, episode = stored(archive, episode_id)
    assert rows == [(3.0, "Re-cut", None)] and episode.chapters_fetched_url == server.url("/v2.json")

    # A broken new file keeps the chapters already shown and records why.
    poll(archive, server, [("a", server.url("/ep.mp3"), server.url("/v3.json"))])
    download_episodes(archive)
    fetch_due_chapters(archive)
    rows, episode = stored(archive, episode_id)
    assert rows == [(3.0, "Re-cut", None)]
    assert episode.chapters_error and "500" in episode.chapters_error and episode.chapters_attempts == 1

    poll(archive, server, [("a", server.url("/ep.mp3"), None)])
    rows, episode = stored(archive, episode_id)
    assert rows == [] and episode.chapters_url is None and episode.chapters_error is None


@pytest.mark.parametrize(
    ("path", "route", "error"),
    [
        (
            "/page.json",
            static(200, b"<!doctype html><title>Chapters</title>", Content_Type="text/html"),
            "ChaptersError",
        ),
        ("/empty.json", static(200, b""), "ChaptersError"),
        ("/deep.json", static(200, b"[" * 200_000), "ChaptersError"),
        (
            "/huge.json",
            static(200, b'{"chapters": [' + b'{"startTime": 1, "title": "x"},' * 100_000 + b"{}]}"),
            "TooLarge",
        ),
        ("/gone.json", static(404), "FetchError"),
        ("/inward.json", static(302, Location="http://10.0.0.1/chapters.json"), "BlockedURL"),
        ("localhost", None, "BlockedURL"),
        ("file", None, "BlockedURL"),
    ],
    ids=["html", "empty", "nested", "3-mb", "404", "redirect-inward", "localhost", "file-url"],
)
def test_bad_chapters_files_are_errors_on_the_episode_only(
    archive: Archive, server: Server, path: str, route: object, error: str
) -> None:
    if route is not None:
        server.routes[path] = route  # type: ignore[assignment]
        url = server.url(path)
    elif path == "localhost":  # only 127.0.0.1 is allowed to be private in tests
        url = server.url("/chapters.json").replace("127.0.0.1", "localhost")
    else:
        url = "file:///etc/passwd"
    [episode_id] = poll(archive, server, [("a", server.url("/ep.mp3"), url)]).values()
    report = download_episodes(archive)
    # The audio is stored and its stage counts no failure: a chapters file is not the episode.
    assert (report.done, report.failed) == (1, 0)
    chapters = fetch_due_chapters(archive)
    assert (chapters.done, chapters.failed) == (0, 1)
    rows, episode = stored(archive, episode_id)
    assert rows == [] and episode.audio is not None
    assert episode.last_error is None and episode.attempts == 0
    assert episode.chapters_error and episode.chapters_error.startswith(error), episode.chapters_error
    assert episode.chapters_attempts == 1 and episode.chapters_next_try_at is not None
    # The operator sees it in `podarchive status`.
    from archive.operations.status import status

    with archive.db.session() as s:
        assert status(s).failing_chapters == [(episode_id, episode.chapters_error)]
    # Backing off: the next run does not ask again straight away.
    seen = len(server.seen)
    download_episodes(archive)
    fetch_due_chapters(archive)
    assert len(server.seen) == seen
