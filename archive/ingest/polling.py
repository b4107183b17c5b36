"""The poll stage: fetch (and page) every due feed at once, then record new or changed episodes."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

import feeds
from archive import store
from archive.context import Archive
from archive.ingest.stage import StageReport
from archive.store.schema import Feed

log = logging.getLogger("podarchive.polling")


@dataclass(frozen=True)
class PollJob:
    """What the fetch needs to know about one due feed."""

    feed_id: int
    url: str
    etag: str | None
    last_modified: str | None
    first_import: bool


@dataclass(frozen=True)
class PollOutcome:
    """One feed's fetch: a result (and parsed feed unless 304), or the error."""

    job: PollJob
    result: feeds.FetchResult | None = None
    parsed: feeds.Feed | None = None
    error: Exception | None = None

    @property
    def status(self) -> int | None:
        """The HTTP status of a failed fetch, when there was one."""
        return getattr(self.error, "status", None)


def poll_feeds(archive: Archive, feed_id: int | None = None, limit: int | None = None) -> StageReport:
    """Fetch every due feed (conditional GET, concurrently) and record new or changed episodes."""
    report = StageReport("poll")
    settings = archive.settings
    with archive.db.session() as s:
        jobs = [
            PollJob(f.id, f.url, f.etag, f.last_modified, first_import=f.last_success_at is None)
            for f in store.feeds_due(s, store.now(), feed_id)
        ][:limit]
    outcomes = fetch_all(jobs, archive.fetch_policy, workers=settings.poll_workers, max_pages=settings.max_feed_pages)
    interval = timedelta(minutes=settings.poll_interval_minutes)
    for outcome in outcomes:
        # Database writes stay in this thread: one writer, short transactions.
        done_before, notes_before = report.done, len(report.notes)
        try:
            with archive.db.session() as s:
                feed = s.get(Feed, outcome.job.feed_id)
                if feed is not None:
                    _record_poll(s, feed, outcome, interval, report)
        except Exception as exc:  # noqa: BLE001 - one feed's bad data never stops the batch
            log.exception("storing poll failed feed=%s", outcome.job.feed_id)
            # The transaction rolled back: its "N new" note would be a lie.
            report.done = done_before
            del report.notes[notes_before:]
            report.failed += 1
            with archive.db.session() as s:
                feed = s.get(Feed, outcome.job.feed_id)
                if feed is not None:
                    store.record_feed_error(
                        s, feed, f"storing the poll failed: {type(exc).__name__}: {exc}", store.now()
                    )
    return report


def _record_poll(s: Session, feed: Feed, outcome: PollOutcome, interval: timedelta, report: StageReport) -> None:
    """Store one feed's poll outcome: health, validators, URL moves, episodes."""
    now, result, fid = store.now(), outcome.result, feed.id
    if outcome.error is not None:
        exc, status = outcome.error, outcome.status
        message = f"{type(exc).__name__}: {exc}"
        if status == 410:
            store.record_feed_gone(s, feed, message, now)
            report.notes.append(f"feed {fid}: gone (HTTP 410), no longer polled")
        else:
            # Retry-After only means something on 429 and 503 (RFC 9110 10.2.3).
            retry_after = getattr(exc, "retry_after", None) if status in (429, 503) else None
            store.record_feed_error(s, feed, message, now, retry_after)
        log.warning("poll failed feed=%s url=%s error=%s", fid, feed.url, message)
        report.failed += 1
        return
    assert result is not None
    if outcome.parsed is None:
        store.record_feed_unchanged(s, feed, now, interval, etag=result.etag, last_modified=result.last_modified)
    else:
        new = store.record_feed_parsed(
            s,
            feed,
            outcome.parsed,
            etag=result.etag,
            last_modified=result.last_modified,
            now=now,
            poll_interval=interval,
        )
        report.notes.append(f"feed {fid}: {new} new")
    # After the record: a move that cannot happen leaves its note in last_error.
    if result.permanent_url and store.move_feed(s, feed, result.permanent_url):
        log.info("feed moved permanently feed=%s url=%s", fid, result.permanent_url)
    report.done += 1


def fetch_all(
    jobs: Iterable[PollJob], policy: feeds.FetchPolicy, *, workers: int, max_pages: int
) -> Iterator[PollOutcome]:
    """Fetch and parse feeds on a small thread pool; yields outcomes as they finish.

    Only the network and parsing run in the pool; the caller writes the database
    from its own thread, so SQLite keeps one writer.
    """
    jobs = list(jobs)
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs))), thread_name_prefix="poll") as pool:
        futures = [pool.submit(poll_one, job, policy, max_pages) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


def poll_one(job: PollJob, policy: feeds.FetchPolicy, max_pages: int) -> PollOutcome:
    """Conditional GET of one feed, parse on 200, follow rel="next" pages on first import."""
    try:
        result = feeds.fetch(job.url, policy, etag=job.etag, last_modified=job.last_modified)
        if result.not_modified:
            return PollOutcome(job, result)
        parsed = feeds.parse_feed(result.content, result.url)
        if job.first_import and parsed.next_page:
            parsed = _follow_pages(parsed, result.url, policy, max_pages)
        return PollOutcome(job, result, parsed)
    except Exception as exc:  # noqa: BLE001 - errors are data: one bad feed never stops the batch
        if not isinstance(exc, feeds.FeedError):
            log.exception("unexpected error polling feed=%s url=%s", job.feed_id, job.url)
        return PollOutcome(job, error=exc)


def _follow_pages(first: feeds.Feed, url: str, policy: feeds.FetchPolicy, max_pages: int) -> feeds.Feed:
    """first with the entries of its atom:link rel="next" pages (RFC 5005), up to max_pages in all.

    SoundCloud serves a back catalogue this way. A page that fails ends the walk
    with a warning: the entries so far are still worth keeping.
    """
    entries = list(first.entries)
    seen_guids = {e.guid for e in entries}
    seen_urls = {url}
    warnings = list(first.warnings)
    next_url = first.next_page
    pages = 1
    while next_url and pages < max_pages:
        if next_url in seen_urls:
            warnings.append(f"page loop at {next_url}")
            break
        seen_urls.add(next_url)
        try:
            page_result = feeds.fetch(next_url, policy)
            page = feeds.parse_feed(page_result.content, page_result.url)
        except feeds.FeedError as exc:
            warnings.append(f"page {pages + 1} ({next_url}) failed: {exc}")
            break
        pages += 1
        fresh = [e for e in page.entries if e.guid not in seen_guids]
        seen_guids.update(e.guid for e in fresh)
        entries.extend(fresh)
        next_url = page.next_page
    if next_url and pages >= max_pages and next_url not in seen_urls:
        warnings.append(f"stopped after {max_pages} pages (max_feed_pages); more at {next_url}")
    return replace(first, entries=tuple(entries), warnings=tuple(warnings), next_page=next_url)
