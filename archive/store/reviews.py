"""Review states: where an episode's text stands between the machine and the editors (the reviews table)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.store.schema import Review

# machine: never touched; in_review: an editor saved a revision; published: a revision is
# the public text; unpublished: an editor withdrew the text.
MACHINE, IN_REVIEW, PUBLISHED, UNPUBLISHED = "machine", "in_review", "published", "unpublished"
STATES = (MACHINE, IN_REVIEW, PUBLISHED, UNPUBLISHED)


def review_states(session: Session, episode_ids: list[int]) -> dict[int, str]:
    """The review state of each episode (MACHINE when untouched)."""
    rows = session.execute(select(Review.episode_id, Review.state).where(Review.episode_id.in_(episode_ids)))
    found = {eid: state for eid, state in rows}
    return {eid: found.get(eid, MACHINE) for eid in episode_ids}
