"""Readers' suggested corrections: stored for editors, never published by themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.editorial import revisions
from archive.editorial import workflow as editing
from archive.store.schema import Episode, Suggestion, User, utcnow

MAX_TEXT = 2000
STATUSES = ("open", "applied", "dismissed")


class SuggestionError(Exception):
    """No such suggestion or passage, or an empty or unchanged suggestion."""


def add(session: Session, episode_id: int, position: int, original: str, text: str, note: str = "") -> Suggestion:
    """Record a suggestion for one passage; `original` is the text the reader saw."""
    if session.get(Episode, episode_id) is None:
        raise SuggestionError(f"no episode {episode_id}")
    text = revisions.clean_text(text)[:MAX_TEXT]
    if not text or text == revisions.clean_text(original):
        raise SuggestionError("the suggestion is empty or the same as the passage")
    row = Suggestion(
        episode_id=episode_id,
        position=position,
        original=original[:MAX_TEXT],
        text=text,
        note=" ".join(note.split())[:500],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class SuggestionView:
    """A reader's suggestion as editors see it."""

    id: int
    episode_id: int
    position: int
    original: str
    text: str
    note: str
    created_at: datetime


def _view(r: Suggestion) -> SuggestionView:
    return SuggestionView(r.id, r.episode_id, r.position, r.original, r.text, r.note, r.created_at)


@dataclass(frozen=True)
class Applied:
    """The suggestion is the passage's text now."""

    episode_id: int
    # The revision saved; None when the passage already said exactly this.
    number: int | None


@dataclass(frozen=True)
class Conflict:
    """The passage changed since the reader saw it: nothing was saved; the editor chooses."""

    suggestion: SuggestionView
    # The passage's text now, and the revision it is in (0: the machine transcript).
    current: str
    number: int


def apply(session: Session, suggestion_id: int, author: User | None, over: int | None = None) -> Applied | Conflict:
    """Apply a suggestion as a revision of its passage, unless the passage changed since the reader saw it.

    A reader suggests against the text they read; an editor may have corrected the passage
    since. Then both texts go back to the editor and nothing changes, until the editor
    chooses the reader's text over revision `over` (refused again if yet another came since).
    """
    row = session.get(Suggestion, suggestion_id)
    if row is None:
        raise SuggestionError(f"no suggestion {suggestion_id}")
    copy = editing.working_copy(session, row.episode_id)
    passage = next((p for p in copy.snapshot if p.position == row.position), None)
    if passage is None:
        raise SuggestionError(f"episode {row.episode_id} has no passage {row.position}")
    current = revisions.clean_text(passage.text)
    if current == row.text:
        row.status = "applied"
        return Applied(row.episode_id, None)
    if current != revisions.clean_text(row.original) and over != copy.number:
        return Conflict(_view(row), passage.text, copy.number)
    rev = editing.edit_passage(session, row.episode_id, row.position, copy.number, author, text=row.text)
    row.status = "applied"
    session.flush()
    return Applied(row.episode_id, rev.number if rev else None)


def open_suggestions(session: Session, episode_id: int | None = None, limit: int = 200) -> list[SuggestionView]:
    """Suggestions nobody has handled yet, oldest first."""
    query = select(Suggestion).where(Suggestion.status == "open")
    if episode_id is not None:
        query = query.where(Suggestion.episode_id == episode_id)
    return [_view(r) for r in session.scalars(query.order_by(Suggestion.id).limit(limit))]


def set_status(session: Session, suggestion_id: int, status: str) -> Suggestion:
    """Mark a suggestion applied or dismissed."""
    if status not in STATUSES:
        raise SuggestionError(f"unknown status {status!r}")
    row = session.get(Suggestion, suggestion_id)
    if row is None:
        raise SuggestionError(f"no suggestion {suggestion_id}")
    row.status = status
    session.flush()
    return row
