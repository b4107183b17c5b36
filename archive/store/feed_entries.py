"""The episodes a parsed feed yields: new ones added, changed ones updated, guids that change enclosure flagged."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import feeds
from archive.store.schema import Episode, EpisodePerson, EpisodeTranscriptLink, Feed, IndexOutbox

log = logging.getLogger("podarchive.store")


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
