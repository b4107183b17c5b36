"""The poll stage against loopback servers: conditional GET, moves, 410, Retry-After, backoff, health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from archive import store
from archive.context import Archive
from archive.ingest import poll_feeds
from archive.store.retry import BACKOFF_CAP
from tests.conftest import rss, run_cli
from tests.loopback import Handler, Server, static

ETAG = '"v1"'
LAST_MODIFIED = "Mon, 02 Nov 2026 09:00:00 GMT"


def feed_xml(base: str, title: str = "Show", language: str = "en") -> bytes:
    body = rss(title, [{"title": "One", "guid": "g1", "url": f"{base}/a.mp3"}])
    return body.replace("<description>", f"<language>{language}</language><description>").encode()


def add(archive: Archive, url: str, language: str | None = None) -> int:
    with archive.db.session() as s:
        return store.add_feed(s, url, language).id


def health(archive: Archive, feed_id: int) -> store.FeedHealth:
    with archive.db.session() as s:
        return next(h for h in store.feed_health(s) if h.id == feed_id)


def poll_again(archive: Archive) -> None:
    with archive.db.session() as s:
        store.poll_soon(s)
    poll_feeds(archive)


def test_conditional_get_sends_validators_and_304_keeps_them(server: Server, archive: Archive) -> None:
    body = feed_xml(server.base)

    def route(h: Handler) -> None:
        if h.headers.get("If-None-Match") == ETAG and h.headers.get("If-Modified-Since") == LAST_MODIFIED:
            # No validators on this 304 (RFC 9110 allows it): the stored ones must stay.
            return h.reply(304, {}, b"")
        h.reply(200, {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}, body)

    server.routes["/feed"] = route
    fid = add(archive, server.url("/feed"))
    report = poll_feeds(archive)
    assert (report.done, report.failed) == (1, 0)
    poll_again(archive)
    seen = server.requests_to("/feed")
    assert len(seen) == 2
    assert "if-none-match" not in seen[0].headers
    assert seen[1].headers["if-none-match"] == ETAG
    assert seen[1].headers["if-modified-since"] == LAST_MODIFIED
    with archive.db.session() as s:
        feed = s.get(store.Feed, fid)
        assert (feed.etag, feed.last_modified) == (ETAG, LAST_MODIFIED)
        # The 304's empty body was never parsed (parsing it would be an error).
        assert feed.error_count == 0 and feed.last_error is None
        assert len(store.feed_episodes(s, fid)) == 1
    h = health(archive, fid)
    assert h.last_success_at is not None and h.next_poll_at is not None
    assert h.next_poll_at - h.last_success_at == timedelta(minutes=15)


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_updates_the_stored_url(server: Server, archive: Archive, status: int) -> None:
    server.routes["/old"] = static(status, Location="/new")
    server.routes["/new"] = static(200, feed_xml(server.base))
    fid = add(archive, server.url("/old"))
    poll_feeds(archive)
    assert health(archive, fid).url == server.url("/new")
    poll_again(archive)
    assert len(server.requests_to("/old")) == 1
    assert len(server.requests_to("/new")) == 2


def test_temporary_redirect_keeps_the_stored_url(server: Server, archive: Archive) -> None:
    server.routes["/old"] = static(302, Location="/new")
    server.routes["/new"] = static(200, feed_xml(server.base))
    fid = add(archive, server.url("/old"))
    poll_feeds(archive)
    assert health(archive, fid).url == server.url("/old")
    assert health(archive, fid).episodes == 1


def test_gone_feed_is_flagged_and_never_polled_again(server: Server, archive: Archive) -> None:
    server.routes["/feed"] = static(410, b"gone")
    fid = add(archive, server.url("/feed"))
    report = poll_feeds(archive)
    assert report.failed == 1
    h = health(archive, fid)
    assert h.status == store.FEED_GONE and h.next_poll_at is None and "410" in (h.last_error or "")
    poll_again(archive)
    poll_again(archive)
    assert len(server.requests_to("/feed")) == 1
    out = run_cli(archive.settings, "feeds", "list")
    assert out.returncode == 0, out.stderr
    assert "GONE (HTTP 410)" in out.stdout and "next poll never" in out.stdout


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured(server: Server, archive: Archive, status: int) -> None:
    server.routes["/feed"] = static(status, b"slow down", Retry_After="7200")
    fid = add(archive, server.url("/feed"))
    before = datetime.now(UTC)
    poll_feeds(archive)
    h = health(archive, fid)
    assert h.error_count == 1 and str(status) in (h.last_error or "")
    assert h.next_poll_at is not None
    # Exactly the server's delay, no jitter and no backoff formula.
    assert before + timedelta(seconds=7199) <= h.next_poll_at <= datetime.now(UTC) + timedelta(seconds=7201)


def test_retry_after_http_date_is_honoured(server: Server, archive: Archive) -> None:
    when = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    server.routes["/feed"] = static(503, b"", Retry_After=format_datetime(when, usegmt=True))
    fid = add(archive, server.url("/feed"))
    poll_feeds(archive)
    next_poll = health(archive, fid).next_poll_at
    assert next_poll is not None and abs((next_poll - when).total_seconds()) < 5


def test_other_failures_back_off_exponentially_with_jitter(server: Server, archive: Archive) -> None:
    server.routes["/feed"] = static(500, b"boom", Retry_After="5")  # ignored on a 500
    fid = add(archive, server.url("/feed"))
    delays = []
    for attempt in (1, 2, 3):
        start = datetime.now(UTC)
        poll_again(archive)
        h = health(archive, fid)
        assert h.error_count == attempt
        delays.append((h.next_poll_at - start).total_seconds() / 60)
    for attempt, minutes in enumerate(delays, 1):
        nominal = 5 * 2 ** (attempt - 1)
        assert 0.79 * nominal <= minutes <= 1.21 * nominal, delays
    # The cap holds even for a feed that has failed for weeks.
    now = datetime.now(UTC)
    assert all(store.backoff(n, now) - now <= BACKOFF_CAP for n in (10, 20, 200))
    out = run_cli(archive.settings, "feeds", "list")
    assert "FAILING x3" in out.stdout and "last error: FetchError: HTTP 500" in out.stdout


def test_a_success_clears_the_error_health(server: Server, archive: Archive) -> None:
    server.routes["/feed"] = static(500, b"boom")
    fid = add(archive, server.url("/feed"))
    poll_feeds(archive)
    assert health(archive, fid).error_count == 1
    server.routes["/feed"] = static(200, feed_xml(server.base))
    poll_again(archive)
    h = health(archive, fid)
    assert (h.error_count, h.last_error, h.status) == (0, None, store.FEED_ACTIVE)
    out = run_cli(archive.settings, "feeds", "list")
    assert " ok | last success" in out.stdout and "1 episodes" in out.stdout


def test_feed_language_setting_wins_over_channel_hint(server: Server, archive: Archive) -> None:
    # soundcloud_dia_radio_fr_basque.rss says <language>en</language> for French shows.
    server.routes["/feed"] = static(200, feed_xml(server.base, language="en"))
    fid = add(archive, server.url("/feed"), language="fr")
    poll_feeds(archive)
    with archive.db.session() as s:
        feed = s.get(store.Feed, fid)
        assert (feed.language, feed.language_hint) == ("fr", "en")
        episode = store.feed_episodes(s, fid)[0]
        # What the transcribe stage passes to Whisper.
        assert (episode.language or episode.feed.language) == "fr"
    out = run_cli(archive.settings, "feeds", "list")
    assert "language fr (feed says en)" in out.stdout


def test_one_bad_feed_does_not_stop_the_batch(server: Server, archive: Archive) -> None:
    server.routes["/good"] = static(200, feed_xml(server.base))
    server.routes["/html"] = static(200, b"<html><body>not a feed</body></html>")
    good, bad = add(archive, server.url("/good")), add(archive, server.url("/html"))
    fid_missing = add(archive, server.url("/missing"))
    report = poll_feeds(archive)
    assert (report.done, report.failed) == (1, 2)
    assert health(archive, good).episodes == 1
    assert health(archive, bad).error_count == 1
    assert "404" in (health(archive, fid_missing).last_error or "")


def test_move_onto_a_feed_already_watched_keeps_both_rows(server: Server, archive: Archive) -> None:
    server.routes["/old"] = static(301, Location="/new")
    server.routes["/new"] = static(200, feed_xml(server.base))
    old, new = add(archive, server.url("/old")), add(archive, server.url("/new"))
    report = poll_feeds(archive)
    assert report.failed == 0
    assert health(archive, old).url == server.url("/old")
    assert "another feed already watches" in (health(archive, old).last_error or "")
    assert health(archive, new).url == server.url("/new")
