"""Feed rows: subscribing, poll bookkeeping and feed health, and the episodes a parsed feed yields."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

import feeds
from archive.store.errors import StoreError
from archive.store.retry import backoff
from archive.store.schema import Episode, EpisodePerson, EpisodeTranscriptLink, Feed, IndexOutbox

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


def record_feed_parsed(
    session: Session,
    feed: Feed,
    parsed: feeds.Feed,
    *,
    etag: str | None,
    last_modified: str | None,
    now: datetime,
    poll_interval: timedelta,
) -> int:
    """Store the feed's metadata and new or changed episodes; returns how many are new."""
    feed.title = parsed.title or feed.title
    feed.link = parsed.link
    feed.description_html = parsed.description_html
    feed.image = parsed.image
    feed.language_hint = parsed.language and parsed.language[:32]  # feed text; the column is String(32)
    feed.etag, feed.last_modified = etag, last_modified
    feed.last_polled_at = feed.last_success_at = now
    feed.error_count = 0
    feed.last_error = "; ".join(parsed.warnings)[:2000] or None
    feed.next_poll_at = now + poll_interval

    existing = {
        e.guid: e
        for e in session.scalars(
            select(Episode).where(Episode.feed_id == feed.id).options(selectinload(Episode.people))
        )
    }
    new = 0
    for entry in parsed.entries:
        episode = existing.get(entry.guid)
        if episode is None:
            episode = Episode(feed_id=feed.id, guid=entry.guid, created_at=now)
            session.add(episode)
            existing[entry.guid] = episode
            _apply_entry(episode, entry, now)
            _apply_enclosure(episode, entry.enclosure)
            new += 1
            continue
        _check_enclosure(episode, entry.enclosure, now)
        _apply_chapters_url(episode, entry.chapters_url)
        if _same_metadata(episode, entry):
            continue
        # Title, notes, date or credits changed: the episode's search documents must follow.
        _apply_entry(episode, entry, now)
        session.add(IndexOutbox(episode_id=episode.id, op="upsert"))
    session.flush()
    return new


def _same_metadata(episode: Episode, entry: feeds.Entry) -> bool:
    return (
        episode.title == entry.title
        and episode.description_html == entry.description_html
        and episode.published_at == entry.published
        and [(p.name, p.role, p.href) for p in episode.people] == _offered_people(entry.persons)
    )


def _apply_entry(episode: Episode, entry: feeds.Entry, now: datetime) -> None:
    episode.title = entry.title
    episode.description_html = entry.description_html
    episode.link = entry.link
    episode.image = entry.image
    episode.published_at = entry.published
    episode.declared_duration = entry.duration
    episode.updated_at = now
    _apply_transcript_links(episode, entry.transcripts)
    _apply_people(episode, entry.persons)
    _apply_chapters_url(episode, entry.chapters_url)


def _apply_chapters_url(episode: Episode, url: str | None) -> None:
    """Follow the entry's podcast:chapters: a new URL is fetched afresh, none hides the chapters.

    Chapters from the old URL stay shown until the new file is fetched: a publisher
    moving its files keeps them, and a broken new file does not blank the list.
    """
    if url == episode.chapters_url:
        return
    episode.chapters_url = url
    episode.chapters_attempts, episode.chapters_error, episode.chapters_next_try_at = 0, None, None
    if url is None:
        episode.chapters = []
        episode.chapters_fetched_url = None


def _apply_transcript_links(episode: Episode, links: tuple[feeds.TranscriptLink, ...]) -> None:
    """Keep the podcast:transcript links the entry offers now (publisher transcripts)."""
    known = [(k.url, k.type, k.language, k.rel) for k in episode.transcript_links]
    offered = [(o.url, o.type, o.language, o.rel) for o in links]
    if known != offered:
        episode.transcript_links = [
            EpisodeTranscriptLink(url=u[:4000], type=t[:64], language=(lang or None) and lang[:16], rel=r and r[:32])
            for u, t, lang, r in offered
        ]


def _apply_people(episode: Episode, persons: tuple[feeds.Person, ...]) -> None:
    """Keep the podcast:person credits the entry gives now (the speaker pages list them)."""
    known = [(p.name, p.role, p.href) for p in episode.people]
    offered = _offered_people(persons)
    if known != offered:
        episode.people = [
            EpisodePerson(position=i, name=name, role=role, href=href) for i, (name, role, href) in enumerate(offered)
        ]


def _offered_people(persons: tuple[feeds.Person, ...]) -> list[tuple[str, str | None, str | None]]:
    return [(p.name.strip()[:255], (p.role or None) and p.role[:64], p.href) for p in persons if p.name.strip()]


def _apply_enclosure(episode: Episode, enclosure: feeds.Enclosure | None) -> None:
    if enclosure is not None:
        episode.enclosure_url = enclosure.url
        episode.enclosure_type = enclosure.type and enclosure.type[:255]  # feed text; the column is String(255)
        episode.enclosure_length = enclosure.length


def _check_enclosure(episode: Episode, enclosure: feeds.Enclosure | None, now: datetime) -> None:
    """A known guid with another enclosure is flagged for an operator, never merged.

    Only the normalised URL counts: a publisher adding or dropping a tracking
    prefix (podtrac, chartable, op3) is the same file, and the URL just follows.
    A different file keeps the old URL (and any audio already stored); the new
    URL waits in enclosure_conflict_url until someone decides.
    """
    if enclosure is None or enclosure.url == episode.enclosure_url:
        return
    if episode.enclosure_url is None or (
        feeds.normalise_enclosure_url(enclosure.url) == feeds.normalise_enclosure_url(episode.enclosure_url)
    ):
        _apply_enclosure(episode, enclosure)
        return
    if episode.enclosure_conflict_url != enclosure.url:
        episode.enclosure_conflict_url = enclosure.url
        episode.flag = (
            f"{now:%Y-%m-%d %H:%M} UTC: the feed now gives this guid another enclosure "
            f"({enclosure.url}); kept {episode.enclosure_url}"
        )
        log.warning("enclosure changed under a known guid episode=%s new=%s", episode.id, enclosure.url)
