"""Domain-named reads and writes. Views, the CLI and stages call these, never SQL."""

from __future__ import annotations

import html
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import nh3
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

import feeds
from archive import editing
from archive.schema import (
    AudioFile,
    Episode,
    EpisodePerson,
    EpisodeTranscriptLink,
    Feed,
    IndexOutbox,
    Segment,
    Transcript,
    Word,
    utcnow,
)
from archive.search import EpisodeEntry, Passage
from transcribe import Transcript as TranscriptResult

BACKOFF_BASE = timedelta(minutes=5)
FEED_ACTIVE, FEED_GONE = "active", "gone"
log = logging.getLogger("podarchive.store")
BACKOFF_CAP = timedelta(hours=12)


class StoreError(Exception):
    """A request the database cannot honour (duplicate, missing row)."""


def backoff(attempts: int, now: datetime, retry_after: float | None = None) -> datetime:
    """When to try again after `attempts` failures: exponential with jitter, capped."""
    if retry_after is not None and retry_after > 0:
        return now + min(timedelta(seconds=retry_after), BACKOFF_CAP)
    # Jitter spreads retries of feeds that failed together; the cap holds after it.
    delay = BACKOFF_BASE * (2 ** min(max(attempts - 1, 0), 20)) * random.uniform(0.8, 1.2)
    return now + min(delay, BACKOFF_CAP)


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
    """Active feeds whose next poll time has come (a 410 "gone" feed never is)."""
    query = select(Feed).where(
        Feed.status == FEED_ACTIVE, (Feed.next_poll_at.is_(None)) | (Feed.next_poll_at <= now)
    )
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


def record_feed_error(session: Session, feed: Feed, message: str, now: datetime, retry_after: float | None = None) -> None:
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
    return list(session.scalars(
        select(Episode).where(Episode.feed_id == feed_id)
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id)
    ))


def flagged_episodes(session: Session) -> list[Episode]:
    """Episodes an operator should look at (e.g. a known guid that changed enclosure)."""
    return list(session.scalars(
        select(Episode).where(Episode.flag.is_not(None)).options(selectinload(Episode.feed)).order_by(Episode.id)
    ))


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
            f.id, f.url, f.title, f.language, f.language_hint, f.status, f.last_success_at,
            f.next_poll_at, f.error_count, f.last_error, int(n), int(nf),
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

    existing = {e.guid: e for e in session.scalars(select(Episode).where(Episode.feed_id == feed.id))}
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
        if _same_metadata(episode, entry):
            continue
        # Title, notes or date changed: the episode's search documents must follow.
        _apply_entry(episode, entry, now)
        session.add(IndexOutbox(episode_id=episode.id, op="upsert"))
    session.flush()
    return new


def _same_metadata(episode: Episode, entry: feeds.Entry) -> bool:
    return (
        episode.title == entry.title
        and episode.description_html == entry.description_html
        and episode.published_at == entry.published
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
    offered = [(p.name.strip()[:255], (p.role or None) and p.role[:64], p.href) for p in persons if p.name.strip()]
    if known != offered:
        episode.people = [
            EpisodePerson(position=i, name=name, role=role, href=href) for i, (name, role, href) in enumerate(offered)
        ]


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
        episode_id=episode.id, version=version, language=_fit(result.language, 16) or "",
        model=result.model, origin=result.origin, duration=result.duration,
        seconds_taken=seconds_taken, reruns=result.reruns, prompt=result.prompt,
        source_url=result.source_url,
    )
    for i, seg in enumerate(result.segments):
        row = Segment(
            position=i, start=seg.start, end=seg.end, text=_fit(seg.text) or "", speaker=_fit(seg.speaker, 255),
            language=_fit(seg.language, 16), avg_logprob=seg.avg_logprob,
            no_speech_prob=seg.no_speech_prob, compression_ratio=seg.compression_ratio,
            flags=seg.flags, rerun=seg.rerun,
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
    """What the public index should hold: the published revision, else (if the show allows) the machine text."""
    episode = session.get(Episode, episode_id)
    if episode is None:
        return []
    state, published = editing.public_text(session, episode_id)
    # An editor's decision (published or withdrawn) outranks the show's machine-text setting.
    if published is None and not editing.machine_text_public(state, episode.feed.publish_transcripts):
        return []
    transcript = current_transcript(session, episode_id)
    if transcript is None:
        return []
    if published is not None:
        languages = {seg.position: seg.language for seg in transcript.segments}
        return [
            Passage(
                episode_id=episode.id, feed_id=episode.feed_id, position=p.position,
                start=p.start, end=p.end, text=p.text, speaker=p.speaker,
                language=languages.get(p.position) or transcript.language, published=episode.published_at,
                episode_title=episode.title, feed_title=episode.feed.title,
            )
            for p in published
            if p.text.strip()
        ]
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


def set_feed_publishing(session: Session, feed: Feed, publish: bool) -> int:
    """Publish or withdraw a show's transcripts; queues index work for each episode, returns how many."""
    if feed.publish_transcripts == publish:
        return 0
    feed.publish_transcripts = publish
    ids = list(session.scalars(select(Episode.id).where(Episode.feed_id == feed.id)))
    session.add_all(IndexOutbox(episode_id=eid, op="upsert") for eid in ids)
    session.flush()
    return len(ids)


def all_episode_ids(session: Session) -> list[int]:
    """Every episode id, for a full reindex."""
    return list(session.scalars(select(Episode.id).order_by(Episode.id)))


def episode_entry(session: Session, episode_id: int) -> EpisodeEntry | None:
    """What the episode index should hold for an episode (None when it is gone)."""
    episode = session.get(Episode, episode_id)
    if episode is None:
        return None
    return EpisodeEntry(
        episode_id=episode.id, feed_id=episode.feed_id, title=episode.title,
        description=plain_text(episode.description_html), show=episode.feed.title,
        language=episode.language or episode.feed.language, published=episode.published_at,
    )


def plain_text(fragment: str) -> str:
    """Show notes as plain text for the index: tags dropped, entities decoded, spaces collapsed.

    >>> plain_text("<p>Tom &amp; <b>Jerry</b></p><script>x()</script>")
    'Tom & Jerry'
    """
    return " ".join(html.unescape(nh3.clean(fragment or "", tags=set())).split())


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
