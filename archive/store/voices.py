"""Voices: those found in each transcript version, the show's known voices, and who each label is.

A transcript's segments keep their machine labels ("Speaker 1") for good; who a label is
lives here, per version and label, and the read models put the name in its place. A
show voice's print is the combination of the episode voices editors named or confirmed
as that person, so naming, renaming and forgetting recompute it from what is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive.store.schema import EpisodeVoice, ShowVoice, Transcript, utcnow

if TYPE_CHECKING:
    from transcribe.voiceprints import VoicePrint

# transcribe.voiceprints needs numpy: imported where a print is computed, so the site's
# processes (which import the store) never load it (bench/worker_memory.py).

# EpisodeVoice.status: matched a show voice (not yet reviewed), an editor agreed, an
# editor named the label in a revision, an editor said it is not that person.
RECOGNISED, CONFIRMED, NAMED, REJECTED = "recognised", "confirmed", "named", "rejected"
# Whose name stands in for the label wherever the label appears (pages, index, exports).
SHOWN = (RECOGNISED, CONFIRMED)
# Whose print makes up the show voice: what an editor vouched for, never a machine match.
VOUCHED = (NAMED, CONFIRMED)


@dataclass(frozen=True)
class VoiceName:
    """Who a label of one transcript version is, and whether an editor has reviewed it."""

    label: str
    name: str
    recognised: bool  # True: matched by voice, not yet reviewed
    similarity: float | None = None


def print_of(row: EpisodeVoice | ShowVoice) -> VoicePrint:
    """The stored print of an episode or show voice."""
    from transcribe.voiceprints import VoicePrint

    return VoicePrint.from_bytes(row.vector, row.model, row.seconds)


def add_episode_voices(
    session: Session, transcript_id: int, feed_id: int, voices: Sequence[tuple[str, VoicePrint]]
) -> None:
    """Store a version's voices, each recognised as a show voice when its print matches one."""
    from transcribe.voiceprints import match_voices

    known = {v.name: v for v in show_voices(session, feed_id)}
    matches = {
        m.label: m
        for m in match_voices({label: p for label, p in voices}, {name: print_of(v) for name, v in known.items()})
    }
    for label, voice in voices:
        match = matches.get(label)
        session.add(
            EpisodeVoice(
                transcript_id=transcript_id,
                label=label[:32],
                model=voice.model[:64],
                vector=voice.to_bytes(),
                seconds=voice.seconds,
                status=RECOGNISED if match else None,
                name=match.name if match else None,
                similarity=match.similarity if match else None,
                show_voice_id=known[match.name].id if match else None,
            )
        )


def episode_voices(session: Session, transcript_id: int) -> list[EpisodeVoice]:
    """The voices of one transcript version, "Speaker 1" first."""
    rows = session.scalars(select(EpisodeVoice).where(EpisodeVoice.transcript_id == transcript_id))
    return sorted(rows, key=lambda v: (len(v.label), v.label))


def episode_voice(session: Session, transcript_id: int, label: str) -> EpisodeVoice | None:
    """One voice of a transcript version by its label."""
    return session.scalar(
        select(EpisodeVoice).where(EpisodeVoice.transcript_id == transcript_id, EpisodeVoice.label == label)
    )


def voice_names(session: Session, transcript_ids: Sequence[int]) -> dict[tuple[int, str], VoiceName]:
    """(transcript id, label) -> the name shown in the label's place, for these versions."""
    rows = session.execute(
        select(
            EpisodeVoice.transcript_id,
            EpisodeVoice.label,
            EpisodeVoice.name,
            EpisodeVoice.status,
            EpisodeVoice.similarity,
        )
        .where(EpisodeVoice.transcript_id.in_(list(transcript_ids)), EpisodeVoice.status.in_(SHOWN))
        .where(EpisodeVoice.name.is_not(None))
    )
    return {
        (tid, label): VoiceName(label, name, status == RECOGNISED, similarity)
        for tid, label, name, status, similarity in rows
        if name is not None
    }


def show_voices(session: Session, feed_id: int) -> list[ShowVoice]:
    """A show's known voices, by name."""
    rows = session.scalars(select(ShowVoice).where(ShowVoice.feed_id == feed_id))
    return sorted(rows, key=lambda v: v.name.casefold())


def show_voice_episodes(session: Session, voice_id: int) -> int:
    """In how many transcript versions an editor named or confirmed this voice."""
    return len(_vouched(session, voice_id))


def link_voice(
    session: Session, voice: EpisodeVoice, name: str, status: str, feed_id: int, episode_id: int
) -> list[int]:
    """This episode voice is `name` (NAMED or CONFIRMED): its print joins the show's print of that person.

    Returns other episodes whose names changed (a show voice left with nothing behind it is forgotten).
    """
    target = session.scalar(
        select(ShowVoice).where(ShowVoice.feed_id == feed_id, ShowVoice.name == name, ShowVoice.model == voice.model)
    )
    if target is None:
        target = ShowVoice(
            feed_id=feed_id,
            name=name,
            model=voice.model,
            vector=voice.vector,
            seconds=voice.seconds,
            source_episode_id=episode_id,
        )
        session.add(target)
        session.flush()
    previous = voice.show_voice_id
    voice.show_voice_id, voice.name, voice.status, voice.updated_at = target.id, name, status, utcnow()
    session.flush()
    _refresh(session, target.id)
    return _refresh(session, previous) if previous is not None and previous != target.id else []


def release_voice(session: Session, voice: EpisodeVoice, status: str | None = None) -> list[int]:
    """This episode voice is nobody known (status None, or REJECTED); the show voice it fed is recomputed.

    Returns other episodes whose names changed, as link_voice does.
    """
    previous = voice.show_voice_id
    voice.show_voice_id, voice.name, voice.status, voice.similarity = None, None, status, None
    voice.updated_at = utcnow()
    session.flush()
    return _refresh(session, previous) if previous is not None else []


def forget_show_voice(session: Session, voice_id: int) -> list[int]:
    """Delete a show voice's print; its unreviewed recognitions are withdrawn. Returns the episodes whose names change.

    What editors named or confirmed in an episode stays named there; only the print,
    which would name the person in new episodes, is gone.
    """
    recognised = list(
        session.scalars(
            select(EpisodeVoice).where(EpisodeVoice.show_voice_id == voice_id, EpisodeVoice.status == RECOGNISED)
        )
    )
    episodes = sorted(
        set(
            session.scalars(
                select(Transcript.episode_id).where(Transcript.id.in_([v.transcript_id for v in recognised]))
            )
        )
    )
    for v in recognised:
        v.status = v.name = v.similarity = None
    for v in session.scalars(select(EpisodeVoice).where(EpisodeVoice.show_voice_id == voice_id)):
        v.show_voice_id = None
    session.flush()
    session.execute(delete(ShowVoice).where(ShowVoice.id == voice_id))
    return episodes


def _vouched(session: Session, voice_id: int) -> list[EpisodeVoice]:
    return list(
        session.scalars(
            select(EpisodeVoice).where(EpisodeVoice.show_voice_id == voice_id, EpisodeVoice.status.in_(VOUCHED))
        )
    )


def _refresh(session: Session, voice_id: int) -> list[int]:
    """Recompute a show voice from the episode voices behind it; with none left it is forgotten (episodes returned)."""
    target = session.get(ShowVoice, voice_id)
    if target is None:
        return []
    from transcribe.voiceprints import combine

    behind = _vouched(session, voice_id)
    if not behind:
        return forget_show_voice(session, voice_id)
    combined = combine([print_of(v) for v in behind])
    target.vector, target.seconds, target.updated_at = combined.to_bytes(), combined.seconds, utcnow()
    return []
