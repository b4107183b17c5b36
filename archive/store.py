"""Episode rows through the stages (download, transcript), backoff, and summaries.

Feeds live in archive.feed_store, the search outbox in archive.outbox. Views, the CLI
and stages call these, never SQL.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.schema import AudioFile, Episode, Feed, IndexOutbox, Segment, Transcript, Word, utcnow
from transcribe import Transcript as TranscriptResult

BACKOFF_BASE = timedelta(minutes=5)
log = logging.getLogger("podarchive.store")
BACKOFF_CAP = timedelta(hours=12)


class StoreError(Exception):
    """A request the database cannot honour (duplicate, missing row)."""


def backoff(attempts: int, now: datetime, retry_after: float | None = None) -> datetime:
    """When to try again after `attempts` failures: exponential with jitter, capped."""
    if retry_after is not None and retry_after > 0:
        return now + min(timedelta(seconds=retry_after), BACKOFF_CAP)
    # Jitter spreads retries of feeds that failed together; the cap holds after it.
    factor: int = 2 ** min(max(attempts - 1, 0), 20)  # a non-negative power of 2: an int
    delay = BACKOFF_BASE * factor * random.uniform(0.8, 1.2)
    return now + min(delay, BACKOFF_CAP)


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


def save_transcript(session: Session, episode: Episode, result: TranscriptResult, seconds_taken: float) -> Transcript:
    """Store a new immutable transcript version and queue it for indexing, in one transaction."""
    version = (session.scalar(select(func.max(Transcript.version)).where(Transcript.episode_id == episode.id)) or 0) + 1
    transcript = Transcript(
        episode_id=episode.id,
        version=version,
        language=_fit(result.language, 16) or "",
        model=result.model,
        origin=result.origin,
        duration=result.duration,
        seconds_taken=seconds_taken,
        reruns=result.reruns,
        prompt=result.prompt,
        source_url=result.source_url,
    )
    for i, seg in enumerate(result.segments):
        row = Segment(
            position=i,
            start=seg.start,
            end=seg.end,
            text=_fit(seg.text) or "",
            speaker=_fit(seg.speaker, 255),
            language=_fit(seg.language, 16),
            avg_logprob=seg.avg_logprob,
            no_speech_prob=seg.no_speech_prob,
            compression_ratio=seg.compression_ratio,
            flags=seg.flags,
            rerun=seg.rerun,
        )
        row.words = [
            Word(position=j, start=w.start, end=w.end, text=_fit(w.text, 255) or "", probability=w.probability)
            for j, w in enumerate(seg.words)
        ]
        transcript.segments.append(row)
    session.add(transcript)
    session.add(IndexOutbox(episode_id=episode.id, op="upsert"))
    clear_episode_error(episode)
    session.flush()
    return transcript


def _fit(value: str | None, limit: int | None = None) -> str | None:
    """Publisher transcripts are feed data: no NULs (PostgreSQL text refuses them), clipped to the column."""
    if value is None:
        return None
    value = value.replace("\x00", "")
    return value[:limit] if limit else value


def current_transcript(session: Session, episode_id: int) -> Transcript | None:
    """The newest transcript version of an episode, with its segments."""
    return session.scalar(
        select(Transcript)
        .where(Transcript.episode_id == episode_id)
        .options(selectinload(Transcript.segments))
        .order_by(Transcript.version.desc())
        .limit(1)
    )


# --- pages ------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeCard:
    """An episode as listed on the home page."""

    id: int
    title: str
    feed_title: str
    published: datetime | None
    duration: float | None
    has_transcript: bool
    error: str | None


def latest_episodes(session: Session, limit: int = 30) -> list[EpisodeCard]:
    """Newest episodes first."""
    has_transcript = select(Transcript.id).where(Transcript.episode_id == Episode.id).exists()
    rows = session.execute(
        select(Episode, Feed.title, AudioFile.duration, has_transcript)
        .join(Feed)
        .outerjoin(AudioFile)
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id.desc())
        .limit(limit)
    )
    return [
        EpisodeCard(e.id, e.title, ft, e.published_at, dur or e.declared_duration, bool(ht), e.last_error)
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


def now() -> datetime:
    """The store's clock."""
    return utcnow()
