"""What the search index holds: the passages and the episode entry readers may see, built from the read models."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import store
from archive.public.transcripts import transcript_passages, transcript_view
from archive.public.visibility import PublicText, public_text
from archive.search import EpisodeEntry, Passage
from archive.store.schema import Episode, EpisodePerson, PublishedSpeaker, Segment, Transcript
from feeds.text import plain_text


def public_passages(session: Session, episode_id: int) -> list[Passage]:
    """The passages of the text readers may see (none when they may see none), for the passage index."""
    episode = session.get(Episode, episode_id)
    view = transcript_view(session, episode_id) if episode is not None else None
    if episode is None or view is None:
        return []
    return [
        Passage(
            episode_id=episode.id,
            feed_id=episode.feed_id,
            position=p.position,
            start=p.start,
            end=p.end,
            text=p.text,
            speaker=p.speaker,
            language=p.language or view.language,
            published=episode.published_at,
            episode_title=episode.title,
            feed_title=episode.feed.title,
        )
        for p in transcript_passages(session, view)
        if p.text.strip()
    ]


def episode_entry(session: Session, episode_id: int) -> EpisodeEntry | None:
    """What the episode index should hold for an episode (None when it is gone)."""
    episode = session.get(Episode, episode_id)
    if episode is None:
        return None
    chosen = public_text(session, episode_id)
    # A show added without a language has it only on the transcript (detected).
    detected = session.scalar(
        select(Transcript.language).where(Transcript.id.in_(store.newest_transcript_ids(episode_id)))
    )
    return EpisodeEntry(
        episode_id=episode.id,
        feed_id=episode.feed_id,
        title=episode.title,
        description=plain_text(episode.description_html),
        show=episode.feed.title,
        language=episode.language or episode.feed.language or detected,
        published=episode.published_at,
        guests=episode_guests(session, episode.id, chosen),
    )


def episode_guests(session: Session, episode_id: int, chosen: PublicText | None) -> tuple[str, ...]:
    """The episode's people as readers see them: podcast:person credits, then speakers named in the public text."""
    names: list[str | None] = list(
        session.scalars(
            select(EpisodePerson.name).where(EpisodePerson.episode_id == episode_id).order_by(EpisodePerson.position)
        )
    )
    if chosen is not None and chosen.revision_id is not None:
        # Kept by editorial.workflow.publish from the published revision; a draft's names never get here.
        names += session.scalars(
            select(PublishedSpeaker.name)
            .where(PublishedSpeaker.episode_id == episode_id)
            .order_by(PublishedSpeaker.name)
        )
    elif chosen is not None:
        names += session.scalars(
            select(Segment.speaker)
            .where(Segment.transcript_id == chosen.transcript_id, Segment.speaker.is_not(None))
            .group_by(Segment.speaker)
            .order_by(func.min(Segment.position))
        )
    seen: dict[str, str] = {}
    for name in names:
        clean = " ".join((name or "").split())
        if clean:
            seen.setdefault(clean.casefold(), clean)
    return tuple(seen.values())
