"""Watched feeds (the feeds table): subscribing, poll bookkeeping, moves and health."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from archive.store.errors import StoreError
from archive.store.retry import backoff
from archive.store.schema import Episode, Feed

FEED_ACTIVE, FEED_GONE = "active", "gone"
log = logging.getLogger("podarchive.store")


def add_feed(session: Session, url: str, language: str | None) -> Feed:
    """Register a feed to watch."""
    feed = Feed(url=url, language=language or None)
    session.add(feed)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise StoreError(f"feed already registered: {url}") from exc
    return feed


def list_feeds(session: Session) -> list[Feed]:
    """Every feed, oldest first."""
    return list(session.scalars(select(Feed).order_by(Feed.id)))


def feeds_due(session: Session, now: datetime, feed_id: int | None = None) -> list[Feed]:
    """Active feeds whose next poll time has come (a 410 "gone" feed never is)."""
    query = select(Feed).where(Feed.status == FEED_ACTIVE, (Feed.next_poll_at.is_(None)) | (Feed.next_poll_at <= now))
    if feed_id is not None:
        query = query.where(Feed.id == feed_id)
    return list(session.scalars(query.order_by(Feed.id)))


def record_feed_unchanged(
    session: Session,
    feed: Feed,
    now: datetime,
    poll_interval: timedelta,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> None:
    """A 304: keep the validators (a 304 may refresh them, RFC 9111 4.3.4), note the success."""
    feed.etag = etag or feed.etag
    feed.last_modified = last_modified or feed.last_modified
    feed.last_polled_at = feed.last_success_at = now
    feed.error_count, feed.last_error = 0, None
    feed.next_poll_at = now + poll_interval


def record_feed_error(
    session: Session, feed: Feed, message: str, now: datetime, retry_after: float | None = None
) -> None:
    """A failed poll: counted, explained, and backed off."""
    feed.last_polled_at = now
    feed.error_count += 1
    feed.last_error = message[:2000]
    feed.next_poll_at = backoff(feed.error_count, now, retry_after)


def record_feed_gone(session: Session, feed: Feed, message: str, now: datetime) -> None:
    """HTTP 410: the publisher says the feed is gone for good; stop polling it."""
    feed.status = FEED_GONE
    feed.last_polled_at = now
    feed.error_count += 1
    feed.last_error = message[:2000]
    feed.next_poll_at = None


def feed_episodes(session: Session, feed_id: int) -> list[Episode]:
    """A feed's episodes, newest first."""
    return list(
        session.scalars(
            select(Episode)
            .where(Episode.feed_id == feed_id)
            .order_by(Episode.published_at.desc().nulls_last(), Episode.id)
        )
    )


def flagged_episodes(session: Session) -> list[Episode]:
    """Episodes an operator should look at (e.g. a known guid that changed enclosure)."""
    return list(
        session.scalars(
            select(Episode).where(Episode.flag.is_not(None)).options(selectinload(Episode.feed)).order_by(Episode.id)
        )
    )


def poll_soon(session: Session, feed_id: int | None = None) -> int:
    """Make active feeds (or one) due now, backoff or not; returns how many."""
    feeds_ = [f for f in list_feeds(session) if f.status == FEED_ACTIVE and feed_id in (None, f.id)]
    for feed in feeds_:
        feed.next_poll_at = None
    return len(feeds_)


def move_feed(session: Session, feed: Feed, url: str) -> bool:
    """Follow a permanent redirect (301/308): the feed's stored URL becomes url.

    False (and a note in last_error) when another feed row already has that URL.
    """
    if url == feed.url:
        return True
    if session.scalar(select(Feed.id).where(Feed.url == url, Feed.id != feed.id)) is not None:
        feed.last_error = f"moved permanently to {url}, which another feed already watches"
        return False
    feed.url = url
    return True


@dataclass(frozen=True)
class FeedHealth:
    """A feed as `podarchive feeds list` shows it."""

    id: int
    url: str
    title: str
    language: str | None
    language_hint: str | None
    status: str
    last_success_at: datetime | None
    next_poll_at: datetime | None
    error_count: int
    last_error: str | None
    episodes: int
    flagged: int


def feed_health(session: Session) -> list[FeedHealth]:
    """Every feed with its poll health and episode counts, oldest first."""
    flagged = func.count(Episode.flag)
    rows = session.execute(
        select(Feed, func.count(Episode.id), flagged).outerjoin(Episode).group_by(Feed.id).order_by(Feed.id)
    )
    return [
        FeedHealth(
            f.id,
            f.url,
            f.title,
            f.language,
            f.language_hint,
            f.status,
            f.last_success_at,
            f.next_poll_at,
            f.error_count,
            f.last_error,
            int(n),
            int(nf),
        )
        for f, n, nf in rows
    ]
