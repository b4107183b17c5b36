"""Passage vectors and each episode's vector state: what the embed stage keeps so nothing is embedded twice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, Subquery, and_, func, or_, select
from sqlalchemy.orm import Session

from archive.store.retry import backoff
from archive.store.schema import EpisodeVectors, PassageVector, Segment

# Bound parameters per IN (...): SQLite allows 32,766, and short statements plan faster.
_CHUNK = 500


@dataclass(frozen=True)
class VectorWork:
    """An episode whose public text may lack vectors for the current model."""

    episode_id: int
    transcript_id: int
    revision_id: int | None


@dataclass(frozen=True)
class VectorBacklog:
    """For `podarchive status`: public passages without a vector of the current model."""

    # Passages known to lack a vector (counted by the embed stage) in `episodes` episodes.
    passages: int
    episodes: int
    # Episodes the embed stage has not looked at for their current text (a new transcript,
    # a published edit, another model) and the passages they hold (some may have vectors).
    unchecked_episodes: int
    unchecked_passages: int
    failing: int
    last_error: str | None


def stored_vectors(session: Session, hashes: Iterable[str]) -> dict[str, bytes]:
    """The stored vectors among these text hashes (float32 bytes)."""
    wanted = list(dict.fromkeys(hashes))
    found: dict[str, bytes] = {}
    for i in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(PassageVector.text_hash, PassageVector.vector).where(
                PassageVector.text_hash.in_(wanted[i : i + _CHUNK])
            )
        )
        found.update((h, bytes(v)) for h, v in rows)
    return found


def sample_vectors(session: Session, model_id: str, limit: int = 4096) -> list[bytes]:
    """Up to `limit` stored vectors of a model, an unbiased sample: the key is a hash, so its order is random."""
    rows = session.scalars(
        select(PassageVector.vector)
        .where(PassageVector.model_id == model_id)
        .order_by(PassageVector.text_hash)
        .limit(limit)
    )
    return [bytes(v) for v in rows]


def save_vectors(session: Session, model_id: str, dimensions: int, vectors: Mapping[str, bytes]) -> int:
    """Keep these vectors (text hash -> float32 bytes) unless already kept; returns how many were new."""
    known = set(stored_vectors(session, vectors))
    fresh = [
        PassageVector(text_hash=h, model_id=model_id, dimensions=dimensions, vector=v)
        for h, v in vectors.items()
        if h not in known
    ]
    session.add_all(fresh)
    session.flush()
    return len(fresh)


def _stale(visible: Select[int, int, int | None], model_id: str) -> tuple[Subquery, ColumnElement[bool]]:
    """(the visible-texts subquery, the condition "its vector state is missing or not about it")."""
    v = visible.subquery()
    stale = or_(
        EpisodeVectors.episode_id.is_(None),
        EpisodeVectors.model_id != model_id,
        EpisodeVectors.transcript_id != v.c.transcript_id,
        EpisodeVectors.revision_id.is_distinct_from(v.c.revision_id),
    )
    return v, stale


def episodes_needing_vectors(
    session: Session,
    visible: Select[int, int, int | None],
    model_id: str,
    now: datetime,
    limit: int | None = None,
) -> list[VectorWork]:
    """Episodes readers may see (`visible`: archive.public.visible_texts()) whose passages may lack vectors.

    New text or another model first; then episodes still missing some, once their backoff is over.
    """
    v, stale = _stale(visible, model_id)
    retry = and_(
        EpisodeVectors.missing > 0,
        or_(EpisodeVectors.next_try_at.is_(None), EpisodeVectors.next_try_at <= now),
    )
    query = (
        select(v.c.episode_id, v.c.transcript_id, v.c.revision_id)
        .outerjoin(EpisodeVectors, EpisodeVectors.episode_id == v.c.episode_id)
        .where(or_(stale, retry))
        .order_by(EpisodeVectors.episode_id.is_not(None), v.c.episode_id)
        .limit(limit)
    )
    return [VectorWork(*row) for row in session.execute(query)]


def record_episode_vectors(
    session: Session,
    work: VectorWork,
    model_id: str,
    passages: int,
    missing: int,
    error: str | None = None,
    now: datetime | None = None,
) -> None:
    """Say how many of the episode's passages lack a vector for this text and model; with an error, back off."""
    row = session.get(EpisodeVectors, work.episode_id)
    if row is None:
        row = EpisodeVectors(episode_id=work.episode_id, attempts=0)
        session.add(row)
    same_text = (row.model_id, row.transcript_id, row.revision_id) == (model_id, work.transcript_id, work.revision_id)
    row.model_id, row.transcript_id, row.revision_id = model_id, work.transcript_id, work.revision_id
    row.passages, row.missing = passages, missing
    if error is None:
        row.attempts, row.last_error, row.next_try_at = 0, None, None
    else:
        row.attempts = (row.attempts or 0) + 1 if same_text else 1
        row.last_error = error[:2000]
        row.next_try_at = backoff(row.attempts, now) if now is not None else None
    if now is not None:
        row.updated_at = now
    session.flush()


def vector_backlog(session: Session, visible: Select[int, int, int | None], model_id: str) -> VectorBacklog:
    """Public passages waiting for vectors of this model, counted without reading any text."""
    v, stale = _stale(visible, model_id)
    joined = select(v.c.episode_id).outerjoin(EpisodeVectors, EpisodeVectors.episode_id == v.c.episode_id)
    counted = session.execute(
        select(func.count(), func.coalesce(func.sum(EpisodeVectors.missing), 0))
        .select_from(v)
        .join(EpisodeVectors, EpisodeVectors.episode_id == v.c.episode_id)
        .where(~stale, EpisodeVectors.missing > 0)
    ).one()
    unchecked = joined.where(stale).subquery()
    unchecked_episodes = int(session.scalar(select(func.count()).select_from(unchecked)) or 0)
    # The machine transcript's passages: a published revision keeps its positions.
    unchecked_passages = int(
        session.scalar(
            select(func.count(Segment.id))
            .select_from(v)
            .join(EpisodeVectors, EpisodeVectors.episode_id == v.c.episode_id, isouter=True)
            .join(Segment, Segment.transcript_id == v.c.transcript_id)
            .where(stale)
        )
        or 0
    )
    failing = session.scalar(
        select(func.count())
        .select_from(v)
        .join(EpisodeVectors, EpisodeVectors.episode_id == v.c.episode_id)
        .where(EpisodeVectors.last_error.is_not(None))
    )
    last_error = session.scalar(
        select(EpisodeVectors.last_error)
        .where(EpisodeVectors.last_error.is_not(None))
        .order_by(EpisodeVectors.updated_at.desc())
        .limit(1)
    )
    return VectorBacklog(
        passages=int(counted[1]),
        episodes=int(counted[0]),
        unchecked_episodes=unchecked_episodes,
        unchecked_passages=unchecked_passages,
        failing=int(failing or 0),
        last_error=last_error,
    )
