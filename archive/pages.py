"""Read models for the public site: shows, episodes, speakers, transcripts. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Exists, Select, func, select
from sqlalchemy.orm import Session, selectinload

from archive import editing, revisions
from archive.schema import (
    AudioFile,
    Episode,
    EpisodePerson,
    Feed,
    PublishedSpeaker,
    Revision,
    Segment,
    Transcript,
    Word,
)
from transcribe import Segment as SegmentResult
from transcribe import Transcript as TranscriptResult
from transcribe import Word as WordResult

# Origins that mean a person checked the text ("publisher": the show's own file).
REVIEWED_ORIGINS = frozenset({"reviewed", "editor"})


@dataclass(frozen=True)
class ShowCard:
    """A show (feed) as listed on the home page."""

    id: int
    title: str
    description_html: str
    image: str | None
    language: str | None
    episodes: int
    latest: datetime | None


@dataclass(frozen=True)
class EpisodeCard:
    """An episode in a list: title, show, date, length, transcript state."""

    id: int
    title: str
    feed_id: int
    feed_title: str
    published: datetime | None
    duration: float | None
    has_transcript: bool


@dataclass(frozen=True, slots=True)
class WordView:
    """A timed word of a passage."""

    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class PassageView:
    """A transcript passage as the episode page shows it."""

    position: int
    start: float
    end: float
    text: str
    speaker: str | None
    words: tuple[WordView, ...]


@dataclass(frozen=True)
class TranscriptView:
    """An episode's current transcript; passages are loaded only when asked for."""

    id: int
    version: int
    language: str
    model: str
    origin: str
    created_at: datetime
    duration: float
    # The editor's published revision shown instead of the machine text, if any.
    revision_id: int | None = None
    passages: tuple[PassageView, ...] = ()

    @property
    def kind(self) -> str:
        """ "reviewed", "publisher" or "machine": what the reader is told about the text."""
        if self.origin in REVIEWED_ORIGINS:
            return "reviewed"
        return "publisher" if self.origin == "publisher" else "machine"


def _has_transcript() -> Exists:
    return select(Transcript.id).where(Transcript.episode_id == Episode.id).exists()


def _cards(session: Session, query) -> list[EpisodeCard]:  # type: ignore[no-untyped-def]
    rows = session.execute(
        query.add_columns(Feed.title, AudioFile.duration, _has_transcript())
        .join(Feed, Feed.id == Episode.feed_id)
        .outerjoin(AudioFile, AudioFile.episode_id == Episode.id)
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id.desc())
    )
    return [
        EpisodeCard(e.id, e.title, e.feed_id, ft, e.published_at, dur or e.declared_duration, bool(ht))
        for e, ft, dur, ht in rows
    ]


def shows(session: Session) -> list[ShowCard]:
    """Every show with its episode count and newest date, newest first."""
    rows = session.execute(
        select(Feed, func.count(Episode.id), func.max(Episode.published_at))
        .outerjoin(Episode, Episode.feed_id == Feed.id)
        .group_by(Feed.id)
        .order_by(func.max(Episode.published_at).desc().nulls_last(), Feed.id)
    )
    return [
        ShowCard(f.id, f.title or f.url, f.description_html, f.image, f.language or f.language_hint, n, latest)
        for f, n, latest in rows
    ]


def get_show(session: Session, feed_id: int) -> Feed | None:
    """One show (feed)."""
    return session.get(Feed, feed_id)


def show_episodes(session: Session, feed_id: int, limit: int = 500) -> list[EpisodeCard]:
    """A show's episodes, newest first."""
    return _cards(session, select(Episode).where(Episode.feed_id == feed_id).limit(limit))


def latest_interviews(session: Session, limit: int = 20) -> list[EpisodeCard]:
    """The newest transcribed episodes of every show."""
    return _cards(session, select(Episode).where(_has_transcript()).limit(limit))


def speakers(session: Session, limit: int = 200) -> list[tuple[str, int]]:
    """Named voices (transcript speakers and podcast:person credits) and in how many episodes each appears."""
    by_name: dict[str, set[int]] = {}
    rows = session.execute(
        select(Segment.speaker, Transcript.episode_id)
        .distinct()
        .join(Transcript, Transcript.id == Segment.transcript_id)
        .where(
            Segment.speaker.is_not(None),
            Segment.speaker != "",
            Transcript.id.in_(_current_ids()),
            Transcript.episode_id.not_in(editing.decided_episodes()),
        )
    )
    for speaker, episode_id in rows:
        if speaker:
            by_name.setdefault(speaker, set()).add(episode_id)
    for name, episode_id in session.execute(select(EpisodePerson.name, EpisodePerson.episode_id).distinct()):
        by_name.setdefault(name, set()).add(episode_id)
    # Speakers the editors named in published revisions (kept by editing.publish).
    for name, episode_id in session.execute(select(PublishedSpeaker.name, PublishedSpeaker.episode_id)):
        by_name.setdefault(name, set()).add(episode_id)
    ranked = sorted(by_name.items(), key=lambda kv: (-len(kv[1]), kv[0].casefold()))
    return [(name, len(ids)) for name, ids in ranked[:limit]]


def episode_people(session: Session, episode_id: int) -> list[tuple[str, str | None]]:
    """The podcast:person credits of an episode: (name, role)."""
    return [
        (n, r)
        for n, r in session.execute(
            select(EpisodePerson.name, EpisodePerson.role)
            .where(EpisodePerson.episode_id == episode_id)
            .order_by(EpisodePerson.position)
        )
    ]


def _current_ids() -> Select[int]:
    """Ids of each episode's newest transcript version."""
    newest = (
        select(Transcript.episode_id, func.max(Transcript.version).label("v"))
        .group_by(Transcript.episode_id)
        .subquery()
    )
    return select(Transcript.id).join(
        newest, (Transcript.episode_id == newest.c.episode_id) & (Transcript.version == newest.c.v)
    )


def speaker_episodes(session: Session, name: str) -> list[EpisodeCard]:
    """Every episode whose current transcript has a passage by this speaker."""
    spoke = (
        select(Transcript.episode_id)
        .join(Segment, Segment.transcript_id == Transcript.id)
        .where(
            Segment.speaker == name,
            Transcript.id.in_(_current_ids()),
            Transcript.episode_id.not_in(editing.decided_episodes()),
        )
    )
    credited = select(EpisodePerson.episode_id).where(EpisodePerson.name == name)
    named = select(PublishedSpeaker.episode_id).where(PublishedSpeaker.name == name)
    return _cards(
        session, select(Episode).where(Episode.id.in_(spoke) | Episode.id.in_(credited) | Episode.id.in_(named))
    )


def current_transcript(session: Session, episode_id: int) -> TranscriptView | None:
    """What readers may see of an episode's transcript, without its passages (small queries).

    The published revision when an editor published one; else the newest machine
    version if the show publishes machine text and no editor withdrew it; else None.
    """
    t = session.execute(
        select(
            Transcript.id,
            Transcript.version,
            Transcript.language,
            Transcript.model,
            Transcript.origin,
            Transcript.created_at,
            Transcript.duration,
        )
        .where(Transcript.episode_id == episode_id)
        .order_by(Transcript.version.desc())
        .limit(1)
    ).first()
    if t is None:
        return None
    view = TranscriptView(*t)
    state, revision = editing.public_revision(session, episode_id)
    if revision is not None:
        return replace(view, origin="reviewed", revision_id=revision.id, created_at=revision.created_at)
    show_allows = session.scalar(
        select(Feed.publish_transcripts).join(Episode, Episode.feed_id == Feed.id).where(Episode.id == episode_id)
    )
    return view if editing.machine_text_public(state, bool(show_allows)) else None


def transcript_passages(session: Session, view: TranscriptView) -> tuple[PassageView, ...]:
    """The passages of what current_transcript chose, in order, with their word timings."""
    if view.revision_id is not None:
        revision = session.get(Revision, view.revision_id)
        snapshot = revisions.loads(revision.segments_json) if revision is not None else ()
        return tuple(
            PassageView(
                p.position, p.start, p.end, p.text, p.speaker, tuple(WordView(w.start, w.end, w.text) for w in p.words)
            )
            for p in snapshot
        )
    transcript_id = view.id
    segments = session.execute(
        select(Segment.id, Segment.position, Segment.start, Segment.end, Segment.text, Segment.speaker)
        .where(Segment.transcript_id == transcript_id)
        .order_by(Segment.position)
    ).all()
    words: dict[int, list[WordView]] = {}
    # One query for every word of the transcript: a 2-hour interview has ~20k words.
    for seg_id, start, end, text in session.execute(
        select(Word.segment_id, Word.start, Word.end, Word.text)
        .join(Segment, Segment.id == Word.segment_id)
        .where(Segment.transcript_id == transcript_id)
        .order_by(Word.segment_id, Word.position)
    ):
        words.setdefault(seg_id, []).append(WordView(start, end, text))
    return tuple(
        PassageView(pos, start, end, text, speaker, tuple(words.get(sid, ())))
        for sid, pos, start, end, text, speaker in segments
    )


def episode_transcript(session: Session, episode_id: int) -> TranscriptView | None:
    """The current transcript of an episode with its passages and word timings."""
    meta = current_transcript(session, episode_id)
    if meta is None:
        return None
    return replace(meta, passages=transcript_passages(session, meta))


def transcript_result(session: Session, episode_id: int) -> TranscriptResult | None:
    """The current transcript as a transcribe.Transcript, for the export formats."""
    view = episode_transcript(session, episode_id)
    if view is None:
        return None
    return TranscriptResult(
        language=view.language,
        segments=tuple(
            SegmentResult(
                start=p.start,
                end=p.end,
                text=p.text,
                speaker=p.speaker,
                words=tuple(WordResult(w.start, w.end, w.text, 1.0) for w in p.words),
            )
            for p in view.passages
        ),
        duration=float(view.duration),
        model=view.model,
        origin=view.origin,
    )


def published_episode(session: Session, episode_id: int) -> Episode | None:
    """One episode with its feed and audio loaded."""
    return session.scalar(
        select(Episode).where(Episode.id == episode_id).options(selectinload(Episode.feed), selectinload(Episode.audio))
    )


def feed_items(session: Session, feed_id: int, limit: int = 300) -> list[tuple[Episode, str | None]]:
    """A show's episodes with their transcript language (None: no transcript), for the outgoing feed."""
    newest = _current_ids().subquery()
    rows = session.execute(
        select(Episode, Transcript.language)
        .outerjoin(Transcript, (Transcript.episode_id == Episode.id) & Transcript.id.in_(select(newest.c.id)))
        .where(Episode.feed_id == feed_id)
        .options(selectinload(Episode.audio))
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id.desc())
        .limit(limit)
    ).all()
    # Same rule as current_transcript: only transcripts readers may see are offered (issue 7).
    states = editing.states(session, [e.id for e, _ in rows])
    show_allows = bool(session.scalar(select(Feed.publish_transcripts).where(Feed.id == feed_id)))
    return [
        (
            e,
            lang
            if states[e.id] == editing.PUBLISHED or editing.machine_text_public(states[e.id], show_allows)
            else None,
        )
        for e, lang in rows
    ]
