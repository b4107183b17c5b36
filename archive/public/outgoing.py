"""The outgoing feed of a show: its episodes with the transcript readers may see of each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.public.episodes import EpisodeView, _view
from archive.public.visibility import public_texts
from archive.store.schema import Episode, Transcript


@dataclass(frozen=True)
class FeedItem:
    """One item of the outgoing feed."""

    episode: EpisodeView
    # The language of the transcript readers may see; None: no transcript is offered.
    transcript_language: str | None


def feed_items(session: Session, feed_id: int, limit: int = 300) -> list[FeedItem]:
    """A show's newest episodes, each with the language of its public transcript, if any."""
    episodes = list(
        session.scalars(
            select(Episode)
            .where(Episode.feed_id == feed_id)
            .options(selectinload(Episode.audio))
            .order_by(Episode.published_at.desc().nulls_last(), Episode.id.desc())
            .limit(limit)
        )
    )
    texts = public_texts(session, [e.id for e in episodes])
    chosen = [t.transcript_id for t in texts.values()]
    rows = session.execute(select(Transcript.id, Transcript.language).where(Transcript.id.in_(chosen)))
    languages = {tid: language for tid, language in rows}
    return [FeedItem(_view(e), languages.get(texts[e.id].transcript_id) if e.id in texts else None) for e in episodes]
