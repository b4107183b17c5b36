"""The search outbox: index work queued in the database, and what the index should hold.

Database commits never wait on Meilisearch; the index stage drains this queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive import editing
from archive.schema import Episode, EpisodePerson, Feed, IndexOutbox, PublishedSpeaker, Segment, Transcript
from archive.search import EpisodeEntry, Passage
from archive.store import backoff, current_transcript
from feeds.text import plain_text


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
                episode_id=episode.id,
                feed_id=episode.feed_id,
                position=p.position,
                start=p.start,
                end=p.end,
                text=p.text,
                speaker=p.speaker,
                language=languages.get(p.position) or transcript.language,
                published=episode.published_at,
                episode_title=episode.title,
                feed_title=episode.feed.title,
            )
            for p in published
            if p.text.strip()
        ]
    return [
        Passage(
            episode_id=episode.id,
            feed_id=episode.feed_id,
            position=seg.position,
            start=seg.start,
            end=seg.end,
            text=seg.text,
            speaker=seg.speaker,
            language=seg.language or transcript.language,
            published=episode.published_at,
            episode_title=episode.title,
            feed_title=episode.feed.title,
        )
        for seg in transcript.segments
        if seg.text.strip()
    ]


def set_feed_publishing(session: Session, feed: Feed, publish: bool) -> int:
    """Publish or withdraw a show's transcripts; queues index work for each episode, returns how many."""
    if feed.publish_transcripts == publish:
        return 0
    feed.publish_transcripts = publish
    return queue_feed_episodes(session, feed.id)


def queue_feed_episodes(session: Session, feed_id: int) -> int:
    """Queue index work for every episode of a show; returns how many."""
    ids = list(session.scalars(select(Episode.id).where(Episode.feed_id == feed_id)))
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
    newest = session.execute(
        select(Transcript.id, Transcript.language)
        .where(Transcript.episode_id == episode_id)
        .order_by(Transcript.version.desc())
        .limit(1)
    ).first()
    return EpisodeEntry(
        episode_id=episode.id,
        feed_id=episode.feed_id,
        title=episode.title,
        description=plain_text(episode.description_html),
        show=episode.feed.title,
        # A show added without a language has it only on the transcript (detected).
        language=episode.language or episode.feed.language or (newest.language if newest else None),
        published=episode.published_at,
        guests=episode_guests(session, episode, newest.id if newest else None),
    )


def episode_guests(session: Session, episode: Episode, transcript_id: int | None) -> tuple[str, ...]:
    """The episode's people as readers see them: podcast:person credits, then speakers named in the public text."""
    names: list[str | None] = list(
        session.scalars(
            select(EpisodePerson.name).where(EpisodePerson.episode_id == episode.id).order_by(EpisodePerson.position)
        )
    )
    state, revision = editing.public_revision(session, episode.id)
    if revision is not None:
        # Kept by editing.publish from the published revision; a draft's names never get here.
        names += session.scalars(
            select(PublishedSpeaker.name)
            .where(PublishedSpeaker.episode_id == episode.id)
            .order_by(PublishedSpeaker.name)
        )
    elif transcript_id is not None and editing.machine_text_public(state, episode.feed.publish_transcripts):
        names += session.scalars(
            select(Segment.speaker)
            .where(Segment.transcript_id == transcript_id, Segment.speaker.is_not(None))
            .group_by(Segment.speaker)
            .order_by(func.min(Segment.position))
        )
    seen: dict[str, str] = {}
    for name in names:
        clean = " ".join((name or "").split())
        if clean:
            seen.setdefault(clean.casefold(), clean)
    return tuple(seen.values())
