"""Domain-named reads and writes. Views, the CLI and stages call these, never SQL."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

import feeds
from archive.schema import AudioFile, Episode, Feed, IndexOutbox, Segment, Transcript, Word, utcnow
from archive.search import Passage
from transcribe import Transcript as TranscriptResult

BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=12)


class StoreError(Exception):
    """A request the database cannot honour (duplicate, missing row)."""


def backoff(attempts: int, now: datetime, retry_after: float | None = None) -> datetime:
    """When to try again after `attempts` failures: exponential with jitter, capped."""
    if retry_after is not None and retry_after > 0:
        return now + min(timedelta(seconds=retry_after), BACKOFF_CAP)
    delay = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)
    return now + delay * random.uniform(0.8, 1.2)


# --- feeds -----------------------------------------------------------------


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
    """Feeds whose next poll time has come."""
    query = select(Feed).where((Feed.next_poll_at.is_(None)) | (Feed.next_poll_at <= now))
    if feed_id is not None:
        query = query.where(Feed.id == feed_id)
    return list(session.scalars(query.order_by(Feed.id)))


def record_feed_unchanged(session: Session, feed: Feed, now: datetime, poll_interval: timedelta) -> None:
    """A 304: keep the validators, note the success."""
    feed.last_polled_at = feed.last_success_at = now
    feed.error_count, feed.last_error = 0, None
    feed.next_poll_at = now + poll_interval


def record_feed_error(session: Session, feed: Feed, message: str, now: datetime, retry_after: float | None = None) -> None:
    """A failed poll: counted, explained, and backed off."""
    feed.last_polled_at = now
    feed.error_count += 1
    feed.last_error = message[:2000]
    feed.next_poll_at = backoff(feed.error_count, now, retry_after)


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
    feed.language_hint = parsed.language
    feed.etag, feed.last_modified = etag, last_modified
    feed.last_polled_at = feed.last_success_at = now
    feed.error_count = 0
    feed.last_error = "; ".join(parsed.warnings)[:2000] or None
    feed.next_poll_at = now + poll_interval

    existing = {e.guid: e for e in session.scalars(select(Episode).where(Episode.feed_id == feed.id))}
    new = 0
    for entry in parsed.entries:
        episode = existing.get(entry.guid)
        if episode is None:
            episode = Episode(feed_id=feed.id, guid=entry.guid, created_at=now)
            session.add(episode)
            existing[entry.guid] = episode
            new += 1
        elif _same_metadata(episode, entry):
            continue
        _apply_entry(episode, entry, now)
        if episode.id is not None:
            session.add(IndexOutbox(episode_id=episode.id, op="upsert"))
    session.flush()
    return new


def _same_metadata(episode: Episode, entry: feeds.Entry) -> bool:
    return (
        episode.title == entry.title
        and episode.description_html == entry.description_html
        and episode.enclosure_url == (entry.enclosure.url if entry.enclosure else None)
    )


def _apply_entry(episode: Episode, entry: feeds.Entry, now: datetime) -> None:
    episode.title = entry.title
    episode.description_html = entry.description_html
    episode.link = entry.link
    episode.image = entry.image
    episode.published_at = entry.published
    episode.declared_duration = entry.duration
    if entry.enclosure is not None:
        episode.enclosure_url = entry.enclosure.url
        episode.enclosure_type = entry.enclosure.type
        episode.enclosure_length = entry.enclosure.length
    episode.updated_at = now


# --- episode stage bookkeeping ----------------------------------------------


def _workable(query, now: datetime, max_attempts: int):  # type: ignore[no-untyped-def]
    return query.where(
        Episode.attempts < max_attempts,
        (Episode.next_try_at.is_(None)) | (Episode.next_try_at <= now),
    )


def episodes_needing_download(session: Session, now: datetime, max_attempts: int, limit: int | None = None) -> list[Episode]:
    """Episodes with an enclosure and no stored audio, not waiting out a backoff."""
    query = (
        select(Episode)
        .outerjoin(AudioFile)
        .where(AudioFile.id.is_(None), Episode.enclosure_url.is_not(None))
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id)
    )
    return list(session.scalars(_workable(query, now, max_attempts).limit(limit)))


def episodes_needing_transcript(session: Session, now: datetime, max_attempts: int, limit: int | None = None) -> list[Episode]:
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


def save_audio(session: Session, episode: Episode, *, path: str, content_type: str, size: int, sha256: str, duration: float) -> AudioFile:
    """Record the stored enclosure."""
    audio = AudioFile(
        episode_id=episode.id, path=path, content_type=content_type,
        size=size, sha256=sha256, duration=duration,
    )
    session.add(audio)
    clear_episode_error(episode)
    session.flush()
    return audio


def save_transcript(session: Session, episode: Episode, result: TranscriptResult, seconds_taken: float) -> Transcript:
    """Store a new immutable transcript version and queue it for indexing, in one transaction."""
    version = (session.scalar(select(func.max(Transcript.version)).where(Transcript.episode_id == episode.id)) or 0) + 1
    transcript = Transcript(
        episode_id=episode.id, version=version, language=result.language or "",
        model=result.model, origin=result.origin, duration=result.duration,
        seconds_taken=seconds_taken,
    )
    for i, seg in enumerate(result.segments):
        row = Segment(
            position=i, start=seg.start, end=seg.end, text=seg.text, speaker=seg.speaker,
            language=seg.language, avg_logprob=seg.avg_logprob,
            no_speech_prob=seg.no_speech_prob, compression_ratio=seg.compression_ratio,
        )
        row.words = [
            Word(position=j, start=w.start, end=w.end, text=w.text, probability=w.probability)
            for j, w in enumerate(seg.words)
        ]
        transcript.segments.append(row)
    session.add(transcript)
    session.add(IndexOutbox(episode_id=episode.id, op="upsert"))
    clear_episode_error(episode)
    session.flush()
    return transcript


# --- search outbox ----------------------------------------------------------


def pending_index_work(session: Session, now: datetime, limit: int | None = None) -> dict[int, list[IndexOutbox]]:
    """Outbox rows ready to apply, grouped by episode (oldest episode first)."""
    rows = session.scalars(
        select(IndexOutbox)
        .where((IndexOutbox.next_try_at.is_(None)) | (IndexOutbox.next_try_at <= now))
        .order_by(IndexOutbox.id)
    )
    grouped: dict[int, list[IndexOutbox]] = {}
    for row in rows:
        if row.episode_id not in grouped and limit is not None and len(grouped) >= limit:
            continue
        grouped.setdefault(row.episode_id, []).append(row)
    return grouped


def complete_index_work(session: Session, rows: list[IndexOutbox]) -> None:
    """The index now mirrors these changes."""
    session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_([r.id for r in rows])))


def fail_index_work(session: Session, rows: list[IndexOutbox], message: str, now: datetime) -> None:
    """Keep the work, say why, retry later."""
    for row in rows:
        row.attempts += 1
        row.last_error = message[:2000]
        row.next_try_at = backoff(row.attempts, now) if row.attempts > 1 else now + timedelta(seconds=30)


def outbox_size(session: Session) -> int:
    """Index operations not yet applied."""
    return int(session.scalar(select(func.count(IndexOutbox.id))) or 0)


def current_transcript(session: Session, episode_id: int) -> Transcript | None:
    """The newest transcript version of an episode, with its segments."""
    return session.scalar(
        select(Transcript)
        .where(Transcript.episode_id == episode_id)
        .options(selectinload(Transcript.segments))
        .order_by(Transcript.version.desc())
        .limit(1)
    )


def public_passages(session: Session, episode_id: int) -> list[Passage]:
    """What the public index should hold for an episode: its current transcript's segments."""
    episode = session.get(Episode, episode_id)
    if episode is None:
        return []
    transcript = current_transcript(session, episode_id)
    if transcript is None:
        return []
    return [
        Passage(
            episode_id=episode.id, feed_id=episode.feed_id, position=seg.position,
            start=seg.start, end=seg.end, text=seg.text, speaker=seg.speaker,
            language=seg.language or transcript.language, published=episode.published_at,
            episode_title=episode.title, feed_title=episode.feed.title,
        )
        for seg in transcript.segments
        if seg.text.strip()
    ]


def all_episode_ids(session: Session) -> list[int]:
    """Every episode id, for a full reindex."""
    return list(session.scalars(select(Episode.id).order_by(Episode.id)))


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
        select(Episode)
        .where(Episode.id == episode_id)
        .options(selectinload(Episode.feed), selectinload(Episode.audio))
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
