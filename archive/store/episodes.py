"""Episode rows through the stages (download, transcript), backoff, and summaries.

Feeds live in archive.feed_store, the search outbox in archive.outbox. Views, the CLI
and stages call these, never SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.store.retry import backoff
from archive.store.schema import AudioFile, Episode, Feed, Transcript, utcnow

log = logging.getLogger("podarchive.store")


# --- episode stage bookkeeping ----------------------------------------------


def _workable(query, now: datetime, max_attempts: int):  # type: ignore[no-untyped-def]
    return query.where(
        Episode.attempts < max_attempts,
        (Episode.next_try_at.is_(None)) | (Episode.next_try_at <= now),
    )


def episodes_needing_download(
    session: Session, now: datetime, max_attempts: int, limit: int | None = None
) -> list[Episode]:
    """Episodes with an enclosure and no stored audio, not waiting out a backoff."""
    query = (
        select(Episode)
        .outerjoin(AudioFile)
        .where(AudioFile.id.is_(None), Episode.enclosure_url.is_not(None))
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id)
    )
    return list(session.scalars(_workable(query, now, max_attempts).limit(limit)))


def episodes_needing_transcript(
    session: Session, now: datetime, max_attempts: int, limit: int | None = None
) -> list[Episode]:
    """Episodes with audio and no transcript yet."""
    has_transcript = select(Transcript.id).where(Transcript.episode_id == Episode.id).exists()
    query = (
        select(Episode)
        .join(AudioFile)
        .where(~has_transcript)
        .options(selectinload(Episode.audio), selectinload(Episode.feed))
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id)
    )
    return list(session.scalars(_workable(query, now, max_attempts).limit(limit)))


def record_episode_error(session: Session, episode: Episode, stage: str, message: str, now: datetime) -> None:
    """A stage failed on this episode: say why and when to retry."""
    episode.error_stage = stage
    episode.attempts += 1
    episode.last_error = message[:2000]
    episode.next_try_at = backoff(episode.attempts, now)


def clear_episode_error(episode: Episode) -> None:
    """A stage succeeded: forget the previous failure."""
    episode.error_stage = episode.last_error = episode.next_try_at = None
    episode.attempts = 0


def save_audio(
    session: Session, episode: Episode, *, path: str, content_type: str, size: int, sha256: str, duration: float
) -> AudioFile:
    """Record the stored enclosure."""
    audio = AudioFile(
        episode_id=episode.id,
        path=path,
        content_type=content_type,
        size=size,
        sha256=sha256,
        duration=duration,
    )
    session.add(audio)
    clear_episode_error(episode)
    session.flush()
    return audio


# --- pages ------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeState:
    """An episode's progress through the stages, for operators and tests."""

    id: int
    title: str
    feed_title: str
    published: datetime | None
    duration: float | None
    has_transcript: bool
    error: str | None


def episode_states(session: Session, limit: int = 30) -> list[EpisodeState]:
    """Newest episodes first, with whether each has a transcript and its last error."""
    has_transcript = select(Transcript.id).where(Transcript.episode_id == Episode.id).exists()
    rows = session.execute(
        select(Episode, Feed.title, AudioFile.duration, has_transcript)
        .join(Feed)
        .outerjoin(AudioFile)
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id.desc())
        .limit(limit)
    )
    return [
        EpisodeState(e.id, e.title, ft, e.published_at, dur or e.declared_duration, bool(ht), e.last_error)
        for e, ft, dur, ht in rows
    ]


def get_episode(session: Session, episode_id: int) -> Episode | None:
    """One episode with its feed and audio."""
    return session.scalar(
        select(Episode).where(Episode.id == episode_id).options(selectinload(Episode.feed), selectinload(Episode.audio))
    )


def episode_counts(session: Session) -> dict[str, int]:
    """How many episodes are in each state, for summaries."""
    has_transcript = select(Transcript.id).where(Transcript.episode_id == Episode.id).exists()
    total = session.scalar(select(func.count(Episode.id))) or 0
    with_audio = session.scalar(select(func.count(AudioFile.id))) or 0
    transcribed = session.scalar(select(func.count(Episode.id)).where(has_transcript)) or 0
    failing = session.scalar(select(func.count(Episode.id)).where(Episode.last_error.is_not(None))) or 0
    return {"episodes": total, "with_audio": with_audio, "transcribed": transcribed, "failing": failing}


def audio_to_prune(session: Session, days: int) -> list[AudioFile]:
    """Stored audio whose episode has had a transcript for more than `days` days."""
    cutoff = utcnow() - timedelta(days=days)
    transcribed_before = (
        select(Transcript.id)
        .where(Transcript.episode_id == AudioFile.episode_id, Transcript.created_at < cutoff)
        .exists()
    )
    return list(session.scalars(select(AudioFile).where(AudioFile.pruned_at.is_(None), transcribed_before)))


def resumable_downloads(session: Session, episode_ids: list[int], max_attempts: int) -> set[int]:
    """Of these episodes, those whose interrupted download may still be resumed (no audio, attempts left)."""
    # The outer join gives None for an episode with no audio row (the select types it as int).
    rows: Iterable[tuple[int, int, int | None]] = session.execute(
        select(Episode.id, Episode.attempts, AudioFile.id)
        .outerjoin(AudioFile, AudioFile.episode_id == Episode.id)
        .where(Episode.id.in_(episode_ids))
    )
    return {eid for eid, attempts, audio_id in rows if audio_id is None and attempts < max_attempts}
