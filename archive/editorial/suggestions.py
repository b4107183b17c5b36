"""Readers' suggested corrections: stored for editors, never published by themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.editorial import revisions
from archive.store.schema import Episode, Suggestion, utcnow

MAX_TEXT = 2000
STATUSES = ("open", "applied", "dismissed")


class SuggestionError(Exception):
    """No such passage, or an empty or unchanged suggestion."""


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


def open_suggestions(session: Session, episode_id: int | None = None, limit: int = 200) -> list[SuggestionView]:
    """Suggestions nobody has handled yet, oldest first."""
    query = select(Suggestion).where(Suggestion.status == "open")
    if episode_id is not None:
        query = query.where(Suggestion.episode_id == episode_id)
    return [
        SuggestionView(r.id, r.episode_id, r.position, r.original, r.text, r.note, r.created_at)
        for r in session.scalars(query.order_by(Suggestion.id).limit(limit))
    ]


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
