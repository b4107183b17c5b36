"""The editorial workflow: revisions over a machine transcript, review states, publishing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import store
from archive.editorial import revisions, voices
from archive.editorial.revisions import Snapshot
from archive.store.reviews import IN_REVIEW, MACHINE, PUBLISHED, UNPUBLISHED
from archive.store.schema import (
    Episode,
    IndexOutbox,
    Review,
    Revision,
    Transcript,
    User,
    utcnow,
)

log = logging.getLogger("podarchive.editing")


class EditError(Exception):
    """No such episode, transcript or revision."""


class EditConflict(EditError):
    """Someone saved a newer revision since this edit began."""


@dataclass(frozen=True)
class WorkingCopy:
    """What an editor edits: the newest revision (or the machine text) and the state."""

    episode_id: int
    transcript_id: int
    number: int  # 0: the machine transcript itself
    snapshot: Snapshot
    state: str
    published_number: int | None


def latest_revision(session: Session, episode_id: int) -> Revision | None:
    """The newest revision of an episode."""
    return session.scalar(
        select(Revision).where(Revision.episode_id == episode_id).order_by(Revision.number.desc()).limit(1)
    )


def get_revision(session: Session, episode_id: int, number: int) -> Revision | None:
    """One revision by its number within the episode."""
    return session.scalar(select(Revision).where(Revision.episode_id == episode_id, Revision.number == number))


def review(session: Session, episode_id: int) -> Review | None:
    """The review row of an episode (None: machine text, never touched)."""
    return session.get(Review, episode_id)


def working_copy(session: Session, episode_id: int) -> WorkingCopy:
    """The text an editor starts from."""
    transcript = store.newest_transcript(session, episode_id, words=True)
    if transcript is None:
        raise EditError(f"episode {episode_id} has no transcript")
    rev = latest_revision(session, episode_id)
    state = review(session, episode_id)
    published = None
    if state is not None and state.published_revision_id is not None:
        pub = session.get(Revision, state.published_revision_id)
        published = pub.number if pub else None
    snapshot = revisions.loads(rev.segments_json) if rev else revisions.from_transcript(transcript)
    return WorkingCopy(
        episode_id,
        rev.transcript_id if rev else transcript.id,
        rev.number if rev else 0,
        snapshot,
        state.state if state else MACHINE,
        published,
    )


def newer_machine_text(session: Session, copy: WorkingCopy) -> tuple[int, int] | None:
    """(version the revisions were made over, newest version) when a re-transcription came later."""
    if copy.number == 0:
        return None
    newest = store.newest_transcript(session, copy.episode_id, words=True)
    if newest is None or newest.id == copy.transcript_id:
        return None
    base = session.get(Transcript, copy.transcript_id)
    return (base.version if base else 0), newest.version


def snapshot_of(session: Session, episode_id: int, number: int) -> Snapshot:
    """A revision's snapshot; number 0 is the machine transcript."""
    if number == 0:
        transcript = store.newest_transcript(session, episode_id, words=True)
        if transcript is None:
            raise EditError(f"episode {episode_id} has no transcript")
        return revisions.from_transcript(transcript)
    rev = get_revision(session, episode_id, number)
    if rev is None:
        raise EditError(f"episode {episode_id} has no revision {number}")
    return revisions.loads(rev.segments_json)


def _set_state(session: Session, episode_id: int, state: str, user: User | None) -> Review:
    row = session.get(Review, episode_id)
    if row is None:
        row = Review(episode_id=episode_id, state=state)
        session.add(row)
    row.state, row.updated_at = state, utcnow()
    row.updated_by = user.id if user else None
    return row


def save_revision(
    session: Session, episode_id: int, snapshot: Snapshot, author: User | None, note: str, base: int
) -> Revision | None:
    """Store the snapshot as the next revision; None when nothing changed. `base` is the number edited."""
    current = working_copy(session, episode_id)
    if current.number != base:
        raise EditConflict(f"episode {episode_id} is at revision {current.number}, the edit was made on {base}")
    if snapshot == current.snapshot:
        return None
    rev = Revision(
        episode_id=episode_id,
        transcript_id=current.transcript_id,
        number=current.number + 1,
        author_id=author.id if author else None,
        note=note.strip()[:500],
        segments_json=revisions.dumps(snapshot),
    )
    session.add(rev)
    if current.state == MACHINE:
        _set_state(session, episode_id, IN_REVIEW, author)
    session.flush()
    # Same transaction: naming "Speaker 1" in a revision teaches the show that voice (docs/speakers.md).
    voices.learn(session, episode_id, current.transcript_id, current.snapshot, snapshot)
    log.info("revision saved episode=%s number=%s author=%s", episode_id, rev.number, author.email if author else "-")
    return rev


def edit_passage(
    session: Session,
    episode_id: int,
    position: int,
    base: int,
    author: User | None,
    text: str | None = None,
    speaker: str | None | bool = False,
) -> Revision | None:
    """Correct one passage's text and/or speaker as a new revision."""
    current = working_copy(session, episode_id)
    before = next((p for p in current.snapshot if p.position == position), None)
    if before is None:
        raise EditError(f"episode {episode_id} has no passage {position}")
    snapshot = revisions.with_passage(current.snapshot, position, text, speaker)
    after = next(p for p in snapshot if p.position == position)
    what = [
        n
        for n, changed in (("text", before.text != after.text), ("speaker", before.speaker != after.speaker))
        if changed
    ]
    return save_revision(session, episode_id, snapshot, author, f"passage {position}: {' and '.join(what)}", base)


def rename_speaker(
    session: Session, episode_id: int, old: str | None, new: str | None, base: int, author: User | None
) -> Revision | None:
    """Every passage of one speaker given another name, as one revision."""
    current = working_copy(session, episode_id)
    snapshot, changed = revisions.rename_speaker(current.snapshot, old, new)
    if not changed:
        return None
    note = f"speaker {old or '(unnamed)'} -> {new or '(unnamed)'} ({changed} passages)"
    return save_revision(session, episode_id, snapshot, author, note, base)


def revert(session: Session, episode_id: int, number: int, author: User | None) -> Revision | None:
    """A new revision with the text of an older one (0: the machine transcript)."""
    current = working_copy(session, episode_id)
    snapshot = snapshot_of(session, episode_id, number)
    return save_revision(session, episode_id, snapshot, author, f"revert to revision {number}", current.number)


@dataclass(frozen=True)
class HistoryEntry:
    """One revision in an episode's history: who, when, why, and what changed against the one before."""

    number: int
    note: str
    created_at: datetime
    author_email: str | None
    changes: list[revisions.PassageChange]


def history(session: Session, episode_id: int) -> list[HistoryEntry]:
    """Every revision, newest first, each with its changes against the revision before it."""
    rows = list(
        session.execute(
            select(Revision, User.email)
            .outerjoin(User, User.id == Revision.author_id)
            .where(Revision.episode_id == episode_id)
            .order_by(Revision.number.desc())
        )
    )
    snapshots = {0: snapshot_of(session, episode_id, 0)} if rows else {}
    snapshots.update({rev.number: revisions.loads(rev.segments_json) for rev, _ in rows})
    entries = []
    for rev, email in rows:
        previous = max((n for n in snapshots if n < rev.number), default=0)
        changes = revisions.diff(snapshots[previous], snapshots[rev.number])
        entries.append(HistoryEntry(rev.number, rev.note, rev.created_at, email, changes))
    return entries


def publish(session: Session, episode_id: int, user: User | None, number: int | None = None) -> Revision:
    """Make the newest revision the public text (the machine text, approved as is, when none exists).

    `number` is the revision the editor saw: publishing refuses if someone saved another since.
    """
    current = working_copy(session, episode_id)
    if number is not None and number != current.number:
        raise EditConflict(f"episode {episode_id} is at revision {current.number}, not {number}")
    rev = latest_revision(session, episode_id)
    if rev is None:
        rev = Revision(
            episode_id=episode_id,
            transcript_id=current.transcript_id,
            number=1,
            author_id=user.id if user else None,
            note="approved as is",
            segments_json=revisions.dumps(current.snapshot),
        )
        session.add(rev)
        session.flush()
    row = _set_state(session, episode_id, PUBLISHED, user)
    row.published_revision_id = rev.id
    voices.set_public_speakers(session, episode_id, revisions.loads(rev.segments_json), rev.transcript_id)
    # Same transaction as the state change: the index can never miss a publication.
    session.add(IndexOutbox(episode_id=episode_id, op="upsert"))
    session.flush()
    log.info("published episode=%s revision=%s", episode_id, rev.number)
    return rev


def unpublish(session: Session, episode_id: int, user: User | None) -> None:
    """Take the episode's transcript out of the public index."""
    if session.get(Episode, episode_id) is None:
        raise EditError(f"no episode {episode_id}")
    row = _set_state(session, episode_id, UNPUBLISHED, user)
    row.published_revision_id = None
    voices.set_public_speakers(session, episode_id, (), None)
    session.add(IndexOutbox(episode_id=episode_id, op="upsert"))
    session.flush()
    log.info("unpublished episode=%s", episode_id)


def revision_times(session: Session, episode_id: int) -> tuple[int, datetime | None]:
    """How many revisions an episode has and when the last was made."""
    n, last = session.execute(
        select(func.count(Revision.id), func.max(Revision.created_at)).where(Revision.episode_id == episode_id)
    ).one()
    return int(n or 0), last
