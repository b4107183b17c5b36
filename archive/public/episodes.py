"""Episodes as readers see them: cards for lists, one episode's page data, its audio file, people and chapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from archive.public.visibility import visible_texts
from archive.store.schema import AudioFile, Episode, EpisodeChapter, EpisodePerson, Feed
from feeds.text import plain_text


@dataclass(frozen=True)
class EpisodeCard:
    """An episode in a list: title, show, date, length, whether readers can read its transcript."""

    id: int
    title: str
    feed_id: int
    feed_title: str
    published: datetime | None
    duration: float | None
    has_transcript: bool

    @property
    def title_text(self) -> str:
        """The title as plain text (feeds put markup in titles too)."""
        return plain_text(self.title)


@dataclass(frozen=True)
class EpisodeView:
    """One episode as its page, the outgoing feed and the API show it."""

    id: int
    feed_id: int
    guid: str
    title: str
    link: str | None
    image: str | None
    description_html: str
    published_at: datetime | None
    enclosure_url: str | None
    enclosure_type: str | None
    enclosure_length: int | None
    chapters_url: str | None
    # Measured from the stored audio when there is some, else what the feed declared.
    duration: float | None
    has_audio: bool

    @property
    def title_text(self) -> str:
        """The title as plain text (feeds put markup in titles too)."""
        return plain_text(self.title)

    @property
    def description_text(self) -> str:
        """The show notes as plain text, for summaries and feeds."""
        return plain_text(self.description_html)


@dataclass(frozen=True)
class AudioView:
    """The stored audio of an episode, for the player's byte ranges."""

    path: str
    content_type: str
    pruned: bool
    # The show's own file, where the player falls back once retention deleted ours.
    enclosure_url: str | None


@dataclass(frozen=True)
class ChapterView:
    """A chapter as the episode page shows it."""

    start: float
    title: str
    url: str | None


def _view(e: Episode) -> EpisodeView:
    audio = e.audio
    return EpisodeView(
        id=e.id,
        feed_id=e.feed_id,
        guid=e.guid,
        title=e.title,
        link=e.link,
        image=e.image,
        description_html=e.description_html,
        published_at=e.published_at,
        enclosure_url=e.enclosure_url,
        enclosure_type=e.enclosure_type,
        # The stored file's size when the feed gave none.
        enclosure_length=e.enclosure_length or (audio.size if audio is not None else None),
        chapters_url=e.chapters_url,
        duration=audio.duration if audio is not None else e.declared_duration,
        has_audio=audio is not None,
    )


def episode(session: Session, episode_id: int) -> EpisodeView | None:
    """One episode's metadata (from its feed, public by nature); None when there is no such episode."""
    row = session.scalar(select(Episode).where(Episode.id == episode_id).options(selectinload(Episode.audio)))
    return _view(row) if row is not None else None


def episode_audio(session: Session, episode_id: int) -> AudioView | None:
    """The stored audio of an episode; None when nothing was ever stored."""
    row = session.execute(
        select(AudioFile.path, AudioFile.content_type, AudioFile.pruned_at, Episode.enclosure_url)
        .join(Episode, Episode.id == AudioFile.episode_id)
        .where(AudioFile.episode_id == episode_id)
    ).first()
    if row is None:
        return None
    path, ctype, pruned_at, enclosure = row
    return AudioView(path, ctype, pruned_at is not None, enclosure)


def cards(session: Session, query: Select[Episode]) -> list[EpisodeCard]:
    """Cards for the episodes a query selects, newest first."""
    readable = visible_texts().subquery()
    rows = session.execute(
        query.add_columns(Feed.title, AudioFile.duration, readable.c.episode_id)
        .join(Feed, Feed.id == Episode.feed_id)
        .outerjoin(AudioFile, AudioFile.episode_id == Episode.id)
        .outerjoin(readable, readable.c.episode_id == Episode.id)
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id.desc())
    )
    return [
        EpisodeCard(e.id, e.title, e.feed_id, ft, e.published_at, dur or e.declared_duration, readable_id is not None)
        for e, ft, dur, readable_id in rows
    ]


def show_episodes(session: Session, feed_id: int, limit: int = 500) -> list[EpisodeCard]:
    """A show's episodes, newest first."""
    return cards(session, select(Episode).where(Episode.feed_id == feed_id).limit(limit))


def latest_interviews(session: Session, limit: int = 20) -> list[EpisodeCard]:
    """The newest episodes of every show whose transcript readers may read."""
    readable = select(visible_texts().subquery().c.episode_id)
    return cards(session, select(Episode).where(Episode.id.in_(readable)).limit(limit))


def recent_episodes(
    session: Session, limit: int = 20, feed_id: int | None = None, readable_only: bool = False
) -> list[EpisodeCard]:
    """The newest episodes of one show or of all, optionally only those whose transcript readers may read."""
    query = select(Episode)
    if feed_id is not None:
        query = query.where(Episode.feed_id == feed_id)
    if readable_only:
        query = query.where(Episode.id.in_(select(visible_texts().subquery().c.episode_id)))
    return cards(session, query.limit(limit))


def episode_people(session: Session, episode_id: int) -> list[tuple[str, str | None]]:
    """The podcast:person credits of an episode (from its public feed): (name, role)."""
    return [
        (n, r)
        for n, r in session.execute(
            select(EpisodePerson.name, EpisodePerson.role)
            .where(EpisodePerson.episode_id == episode_id)
            .order_by(EpisodePerson.position)
        )
    ]


def episode_chapters(session: Session, episode_id: int) -> list[ChapterView]:
    """An episode's chapters in start order."""
    rows = session.scalars(
        select(EpisodeChapter).where(EpisodeChapter.episode_id == episode_id).order_by(EpisodeChapter.position)
    )
    return [ChapterView(c.start, c.title, c.url) for c in rows]
