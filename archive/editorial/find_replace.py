"""Archive-wide find and replace: a preview that is exactly what applying it saves."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive.editorial import revisions
from archive.editorial import workflow as editing
from archive.editorial.revisions import PassageChange, Snapshot
from archive.editorial.workflow import EditConflict, EditError
from archive.store.schema import Episode, Revision, Segment, Transcript, User

MAX_EPISODES = 500


@dataclass(frozen=True)
class Query:
    """What to find and what to put instead."""

    find: str
    replacement: str
    whole_word: bool = True
    case_sensitive: bool = True

    def pattern(self) -> re.Pattern[str]:
        """The compiled search; the find text is literal, never a regular expression."""
        body = re.escape(self.find)
        if self.whole_word:
            body = rf"(?<!\w){body}(?!\w)"
        return re.compile(body, 0 if self.case_sensitive else re.IGNORECASE)


@dataclass(frozen=True)
class EpisodePlan:
    """One episode's changes, computed on top of revision `base`."""

    episode_id: int
    title: str
    base: int
    snapshot: Snapshot
    changes: list[PassageChange]


def replace_in(snapshot: Snapshot, query: Query) -> Snapshot:
    """The snapshot with every match replaced (words re-timed passage by passage).

    >>> from archive.editorial.revisions import PassageSnap
    >>> s = (PassageSnap(0, 0, 1, "Gilles Vignault et vignault", None),)
    >>> replace_in(s, Query("Vignault", "Vigneault"))[0].text
    'Gilles Vigneault et vignault'
    """
    pattern = query.pattern()
    out = []
    for p in snapshot:
        new = pattern.sub(lambda _m: query.replacement, p.text)
        out.append(revisions.retime(p, new) if new != p.text else p)
    return tuple(out)


def _candidates(session: Session, query: Query) -> list[int]:
    """Episodes whose machine text or any revision might match (a coarse filter before the exact one)."""
    needle = query.find
    if query.case_sensitive:
        seg_hit, rev_hit = (
            Segment.text.contains(needle, autoescape=True),
            Revision.segments_json.contains(needle, autoescape=True),
        )
    elif needle.isascii():
        # SQLite's lower() folds ASCII only, hence the isascii() guard.
        low = needle.lower()
        seg_hit = func.lower(Segment.text).contains(low, autoescape=True)
        rev_hit = func.lower(Revision.segments_json).contains(low, autoescape=True)
    else:
        return list(session.scalars(select(Transcript.episode_id).distinct().order_by(Transcript.episode_id)))
    machine = select(Transcript.episode_id).join(Segment, Segment.transcript_id == Transcript.id).where(seg_hit)
    revised = select(Revision.episode_id).where(rev_hit)
    return list(
        session.scalars(
            select(Episode.id).where(or_(Episode.id.in_(machine), Episode.id.in_(revised))).order_by(Episode.id)
        )
    )


def preview(session: Session, query: Query, feed_id: int | None = None) -> list[EpisodePlan]:
    """Every episode the replacement would change, with each passage's before and after."""
    if not query.find.strip():
        raise EditError("nothing to find")
    plans = []
    for episode_id in _candidates(session, query):
        episode = session.get(Episode, episode_id)
        if episode is None or (feed_id is not None and episode.feed_id != feed_id):
            continue
        try:
            copy = editing.working_copy(session, episode_id)
        except EditError:
            continue
        new = replace_in(copy.snapshot, query)
        if new != copy.snapshot:
            plans.append(EpisodePlan(episode_id, episode.title, copy.number, new, revisions.diff(copy.snapshot, new)))
        if len(plans) >= MAX_EPISODES:
            break
    return plans


def apply(
    session: Session, query: Query, expected: dict[int, int], author: User | None, feed_id: int | None = None
) -> list[Revision]:
    """Save the previewed change, one revision per episode; refuses if anything moved since the preview.

    `expected` maps each previewed episode to the revision the preview was made on.
    """
    plans = preview(session, query, feed_id)
    if {p.episode_id: p.base for p in plans} != expected:
        raise EditConflict("the archive changed since the preview; preview again")
    note = f"replace {query.find!r} -> {query.replacement!r}"
    saved = []
    for plan in plans:
        rev = editing.save_revision(session, plan.episode_id, plan.snapshot, author, note, plan.base)
        if rev is not None:
            saved.append(rev)
    return saved
