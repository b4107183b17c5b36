"""Episode chapters (podcast:chapters): which files to fetch, fetching them safely, storing and reading them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import feeds
from archive.context import Archive
from archive.schema import Episode, EpisodeChapter
from archive.store import backoff, now

log = logging.getLogger("podarchive.chapters")
# A chapters file is a few kilobytes; 2 MB is past any real one and bounds a hostile one.
MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ChapterView:
    """A chapter as the episode page shows it."""

    start: float
    title: str
    url: str | None


def episodes_needing_chapters(
    session: Session, at: datetime, max_attempts: int, limit: int | None = None
) -> list[Episode]:
    """Episodes whose podcast:chapters file is new (never fetched, or the URL changed), not backing off."""
    query = (
        select(Episode)
        .where(
            Episode.chapters_url.is_not(None),
            Episode.chapters_fetched_url.is_(None) | (Episode.chapters_fetched_url != Episode.chapters_url),
            Episode.chapters_attempts < max_attempts,
            Episode.chapters_next_try_at.is_(None) | (Episode.chapters_next_try_at <= at),
        )
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id)
    )
    return list(session.scalars(query.limit(limit)))


def save_chapters(session: Session, episode: Episode, url: str, chapters: tuple[feeds.Chapter, ...]) -> None:
    """Replace the episode's chapters with those fetched from url."""
    episode.chapters = [
        EpisodeChapter(position=i, start=c.start, title=c.title[:255], url=c.url, img=c.img)
        for i, c in enumerate(chapters)
    ]
    episode.chapters_fetched_url = url
    episode.chapters_attempts, episode.chapters_error, episode.chapters_next_try_at = 0, None, None


def record_chapters_error(session: Session, episode: Episode, message: str, at: datetime) -> None:
    """The chapters file failed: say why and back off; the episode's own error columns stay as they are."""
    episode.chapters_attempts += 1
    episode.chapters_error = message[:2000]
    episode.chapters_next_try_at = backoff(episode.chapters_attempts, at)


def episode_chapters(session: Session, episode_id: int) -> list[ChapterView]:
    """An episode's chapters in start order."""
    rows = session.scalars(
        select(EpisodeChapter).where(EpisodeChapter.episode_id == episode_id).order_by(EpisodeChapter.position)
    )
    return [ChapterView(c.start, c.title, c.url) for c in rows]


def fetch_chapters(url: str, policy: feeds.FetchPolicy) -> tuple[feeds.Chapter, ...]:
    """Fetch through the SSRF-guarded fetcher and parse; raises feeds.FeedError (ChaptersError for a bad file)."""
    result = feeds.fetch(url, replace(policy, max_bytes=min(policy.max_bytes, MAX_BYTES)))
    return feeds.parse_chapters(result.content, result.url)


def fetch_due_chapters(archive: Archive, limit: int | None = None) -> tuple[int, int]:
    """Fetch and store every new chapters file, one episode at a time; returns (stored, failed)."""
    with archive.db.session() as s:
        work = [
            (e.id, e.chapters_url)
            for e in episodes_needing_chapters(s, now(), archive.settings.max_attempts, limit)
            if e.chapters_url  # the query already demands one; this tells the type checker
        ]
    stored = failed = 0
    for episode_id, url in work:
        if archive.out_of_time():
            break
        try:
            chapters = fetch_chapters(url, archive.fetch_policy)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the stage or touches the audio
            message = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, feeds.FeedError):
                log.warning("chapters failed episode=%s url=%s error=%s", episode_id, url, message)
            else:
                log.exception("chapters failed episode=%s url=%s", episode_id, url)
            with archive.db.session() as s:
                episode = s.get(Episode, episode_id)
                # The feed may have moved on to another URL meanwhile: that one starts afresh.
                if episode is not None and episode.chapters_url == url:
                    record_chapters_error(s, episode, message, now())
            failed += 1
            continue
        with archive.db.session() as s:
            episode = s.get(Episode, episode_id)
            if episode is not None and episode.chapters_url == url:
                save_chapters(s, episode, url, chapters)
        log.info("chapters stored episode=%s count=%d", episode_id, len(chapters))
        stored += 1
    return stored, failed
