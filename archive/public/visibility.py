"""The one rule for what readers may see of an episode's text; pages, index, feeds, exports, API and MCP ask it.

Readers see an episode's published revision when an editor published one. Otherwise
they see its newest machine (or publisher) transcript when the show publishes machine
text and no editor decided otherwise (published, then withdrew). Nothing else: never a
draft revision, never an unpublished show's text, nor the speaker names inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, case, or_, select
from sqlalchemy.orm import Session

from archive import store
from archive.store.reviews import PUBLISHED, UNPUBLISHED
from archive.store.schema import Episode, Feed, Review, Transcript


@dataclass(frozen=True)
class PublicText:
    """Which text of an episode readers see."""

    episode_id: int
    # The newest transcript version: its metadata, and its text unless a revision is published.
    transcript_id: int
    # The editor's published revision shown instead of the machine text, if any.
    revision_id: int | None


def visible_texts(episode_id: int | None = None) -> Select[int, int, int | None]:
    """(episode_id, transcript_id, revision_id) of every episode whose text readers may see (or of one)."""
    published = and_(Review.state == PUBLISHED, Review.published_revision_id.is_not(None))
    machine_public = and_(
        Feed.publish_transcripts.is_(True),
        or_(Review.state.is_(None), Review.state.not_in([PUBLISHED, UNPUBLISHED])),
    )
    return (
        select(
            Transcript.episode_id.label("episode_id"),
            Transcript.id.label("transcript_id"),
            case((published, Review.published_revision_id), else_=None).label("revision_id"),
        )
        .join(Episode, Episode.id == Transcript.episode_id)
        .join(Feed, Feed.id == Episode.feed_id)
        .outerjoin(Review, Review.episode_id == Transcript.episode_id)
        .where(Transcript.id.in_(store.newest_transcript_ids(episode_id)), or_(published, machine_public))
    )


def public_text(session: Session, episode_id: int) -> PublicText | None:
    """What readers may see of one episode; None when nothing."""
    row = session.execute(visible_texts(episode_id)).first()
    return PublicText(*row) if row is not None else None


def public_texts(session: Session, episode_ids: list[int]) -> dict[int, PublicText]:
    """What readers may see of each of these episodes (absent: nothing)."""
    rows = session.execute(visible_texts().where(Transcript.episode_id.in_(episode_ids)))
    return {eid: PublicText(eid, tid, rid) for eid, tid, rid in rows}
