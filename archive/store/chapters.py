"""Episode chapters (podcast:chapters): which files are due, and storing a fetched file or its error."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import feeds
from archive.store.retry import backoff
from archive.store.schema import Episode, EpisodeChapter


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
