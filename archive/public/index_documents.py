"""What the search index holds: the passages and the episode entry readers may see, built from the read models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import store
from archive.editorial.voices import names as voice_names
from archive.public.speakers import is_machine_label
from archive.public.transcripts import transcript_passages, transcript_view
from archive.public.visibility import PublicText, public_text
from archive.search import EpisodeEntry, Passage, passage_contexts, text_hash
from archive.search.embedder import Vector
from archive.store.schema import Episode, EpisodePerson, PublishedSpeaker, Segment, Transcript
from feeds.text import plain_text

# Words of the next passage a passage's document carries (`next_text`): measured on the
# relevance set, 6 put the passage where a cross-boundary phrase starts first 9 of 10 times.
NEXT_WORDS = 6


def public_passages(session: Session, episode_id: int, model_id: str | None = None) -> list[Passage]:
    """The passages of the text readers may see (none when they may see none), for the passage index.

    Each carries the first words of the next passage and, given the embedder's model_id,
    its stored vector (None while the embed stage has not computed it).
    """
    episode = session.get(Episode, episode_id)
    view = transcript_view(session, episode_id) if episode is not None else None
    if episode is None or view is None:
        return []
    passages = [
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
    passages = [
        replace(p, next_text=" ".join(passages[i + 1].text.split()[:NEXT_WORDS]) if i + 1 < len(passages) else "")
        for i, p in enumerate(passages)
    ]
    if model_id is None:
        return passages
    keys = [key for key, _ in vector_keys(passages, model_id)]
    stored = store.stored_vectors(session, keys)
    return [replace(p, vector=_vector(stored.get(key))) for p, key in zip(passages, keys, strict=True)]


def vector_keys(passages: Sequence[Passage], model_id: str) -> list[tuple[str, str]]:
    """(text hash, text to embed) of each passage: the passage with the next one of its episode."""
    contexts = passage_contexts([p.text for p in passages])
    return [(text_hash(context, model_id), context) for context in contexts]


def index_documents(
    session: Session, episode_id: int, model_id: str | None = None, archive_mean: Vector | None = None
) -> tuple[list[Passage], EpisodeEntry | None]:
    """What the index holds for an episode: its public passages with their vectors, and its entry
    with the mean of those vectors less the archive's mean (related interviews are the entries
    nearest to it)."""
    passages = public_passages(session, episode_id, model_id)
    entry = episode_entry(session, episode_id)
    if entry is not None and model_id is not None:
        vectors = [p.vector for p in passages if p.vector is not None]
        entry = replace(entry, vector=mean_vector(vectors, archive_mean))
    return passages, entry


def archive_mean(session: Session, model_id: str) -> Vector | None:
    """The mean of the archive's passage vectors (from a sample of 4,096), None before any.

    Every e5 vector leans the same way (their cosines are 0.75-0.95 whatever the topic),
    and an episode's mean leans further the longer it is: what tells one episode's
    subject from another's is its mean less this one (docs/search.md).
    """
    sample = [_vector(raw) for raw in store.sample_vectors(session, model_id)]
    vectors = [v for v in sample if v is not None]
    return np.mean(np.vstack(vectors), axis=0).astype(np.float32) if vectors else None


def mean_vector(vectors: Sequence[Vector], minus: Vector | None = None) -> Vector | None:
    """The normalised mean of unit vectors, less `minus` before normalising; None for none.

    >>> unit = [np.array([1, 0], dtype=np.float32), np.array([0, 1], dtype=np.float32)]
    >>> [round(float(x), 3) for x in mean_vector(unit)]
    [0.707, 0.707]
    >>> [round(float(x), 3) for x in mean_vector(unit, minus=np.array([0.5, 0], dtype=np.float32))]
    [0.0, 1.0]
    >>> mean_vector([]) is None
    True
    """
    if not vectors:
        return None
    mean = np.mean(np.vstack(vectors), axis=0)
    if minus is not None:
        mean = mean - minus
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32) if norm > 1e-6 else None


def _vector(raw: bytes | None) -> Vector | None:
    # Stored little-endian float32 (archive/store/vectors.py), whatever this machine's order.
    return None if raw is None else np.frombuffer(raw, dtype="<f4").astype(np.float32)


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
        shown = voice_names(session, chosen.transcript_id)  # a recognised voice is its person here too
        names += [
            shown[label].name if label in shown else label
            for label in session.scalars(
                select(Segment.speaker)
                .where(Segment.transcript_id == chosen.transcript_id, Segment.speaker.is_not(None))
                .group_by(Segment.speaker)
                .order_by(func.min(Segment.position))
            )
        ]
    seen: dict[str, str] = {}
    for name in names:
        clean = " ".join((name or "").split())
        if clean and not is_machine_label(clean):
            seen.setdefault(clean.casefold(), clean)
    return tuple(seen.values())
