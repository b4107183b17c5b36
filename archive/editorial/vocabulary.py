"""A show's vocabulary (guests, places, brands) and its publisher transcript links: reads and writes."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive.store.schema import EpisodeTranscriptLink, Feed, FeedTerm

# Whisper's prompt holds at most 224 tokens (half its 448-token context); a vocabulary
# prompt past about 600 characters would push out the previous-text context.
MAX_PROMPT_CHARS = 600


class VocabularyError(Exception):
    """No such feed, or an empty term."""


def add_terms(session: Session, feed_id: int, terms: list[str]) -> int:
    """Add terms to a feed's vocabulary (duplicates ignored); returns how many were new."""
    if session.get(Feed, feed_id) is None:
        raise VocabularyError(f"no feed {feed_id}")
    known = set(feed_terms(session, feed_id))
    added = 0
    for raw in terms:
        term = " ".join(raw.split())[:255]
        if term and term not in known:
            session.add(FeedTerm(feed_id=feed_id, term=term))
            known.add(term)
            added += 1
    session.flush()
    return added


def remove_terms(session: Session, feed_id: int, terms: list[str]) -> int:
    """Remove terms from a feed's vocabulary; returns how many were there."""
    result = session.execute(delete(FeedTerm).where(FeedTerm.feed_id == feed_id, FeedTerm.term.in_(terms)))
    return int(getattr(result, "rowcount", 0) or 0)


def feed_terms(session: Session, feed_id: int) -> list[str]:
    """A feed's terms in the order they were added."""
    return list(session.scalars(select(FeedTerm.term).where(FeedTerm.feed_id == feed_id).order_by(FeedTerm.id)))


def read_terms_file(text: str) -> list[str]:
    """Terms from a text file: one per line; blank lines and # comments skipped.

    >>> read_terms_file("# invités\\nGilles Vigneault\\n\\nRimouski  # ville\\n")
    ['Gilles Vigneault', 'Rimouski']
    """
    out = []
    for line in text.splitlines():
        term = line.split("#", 1)[0].strip()
        if term:
            out.append(term)
    return out


def vocabulary_prompt(terms: list[str]) -> str | None:
    """The terms as a Whisper initial prompt ("Glossaire : a, b, c."), cut to fit; None if empty.

    >>> vocabulary_prompt(["Gilles Vigneault", "Rimouski"])
    'Gilles Vigneault, Rimouski.'
    """
    if not terms:
        return None
    kept: list[str] = []
    for term in terms:
        if len(", ".join([*kept, term])) > MAX_PROMPT_CHARS:
            break
        kept.append(term)
    return ", ".join(kept) + "."


def transcript_links(session: Session, episode_id: int) -> list[EpisodeTranscriptLink]:
    """The podcast:transcript links an episode's feed entry offers."""
    return list(
        session.scalars(
            select(EpisodeTranscriptLink)
            .where(EpisodeTranscriptLink.episode_id == episode_id)
            .order_by(EpisodeTranscriptLink.id)
        )
    )
