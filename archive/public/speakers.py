"""Voices readers may see: names from visible transcripts, editors' published names and feed credits."""

from __future__ import annotations

from sqlalchemy import Select, select, union
from sqlalchemy.orm import Session

from archive.public.episodes import EpisodeCard, cards
from archive.public.visibility import visible_texts
from archive.store.schema import Episode, EpisodePerson, EpisodeVoice, PublishedSpeaker, Segment
from archive.store.voices import SHOWN
from transcribe.labels import is_label as is_machine_label

# "Speaker 1" is a voice of one episode, not a person: it has no page and is in no list of people.
__all__ = ["is_machine_label", "speaker_episodes", "speakers"]


def _machine_voices() -> Select[str | None, int]:
    """(speaker, episode_id) of the segments of every machine text readers may see."""
    readable = visible_texts().subquery()
    return (
        select(Segment.speaker, readable.c.episode_id)
        .join(readable, readable.c.transcript_id == Segment.transcript_id)
        .where(readable.c.revision_id.is_(None), Segment.speaker.is_not(None), Segment.speaker != "")
        .distinct()
    )


def _recognised_voices() -> Select[str | None, int]:
    """(name, episode_id) of the known voices standing in for labels of machine texts readers may see."""
    readable = visible_texts().subquery()
    return (
        select(EpisodeVoice.name, readable.c.episode_id)
        .join(readable, readable.c.transcript_id == EpisodeVoice.transcript_id)
        .where(readable.c.revision_id.is_(None), EpisodeVoice.status.in_(SHOWN), EpisodeVoice.name.is_not(None))
        .distinct()
    )


def _published_voices() -> Select[str, int]:
    """(name, episode_id) the editors named in published revisions (kept by editorial.workflow.publish)."""
    readable = visible_texts().subquery()
    return select(PublishedSpeaker.name, PublishedSpeaker.episode_id).join(
        readable,
        (readable.c.episode_id == PublishedSpeaker.episode_id) & readable.c.revision_id.is_not(None),
    )


def speakers(session: Session, limit: int = 200) -> list[tuple[str, int]]:
    """Named voices and credited people, with in how many episodes each appears, most frequent first."""
    by_name: dict[str, set[int]] = {}
    credits = select(EpisodePerson.name, EpisodePerson.episode_id).distinct()
    for query in (_machine_voices(), _recognised_voices(), _published_voices(), credits):
        for name, episode_id in session.execute(query):
            if name and not is_machine_label(name):
                by_name.setdefault(name, set()).add(episode_id)
    ranked = sorted(by_name.items(), key=lambda kv: (-len(kv[1]), kv[0].casefold()))
    return [(name, len(ids)) for name, ids in ranked[:limit]]


def speaker_episodes(session: Session, name: str) -> list[EpisodeCard]:
    """Every episode where readers can see this voice or credit (none for a machine label)."""
    if is_machine_label(name):
        return []
    machine = _machine_voices().subquery()
    recognised = _recognised_voices().subquery()
    published = _published_voices().subquery()
    ids = union(
        select(machine.c.episode_id).where(machine.c.speaker == name),
        select(recognised.c.episode_id).where(recognised.c.name == name),
        select(published.c.episode_id).where(published.c.name == name),
        select(EpisodePerson.episode_id).where(EpisodePerson.name == name),
    ).subquery()
    return cards(session, select(Episode).where(Episode.id.in_(select(ids.c.episode_id))))
