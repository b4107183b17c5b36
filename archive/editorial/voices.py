"""Known voices: what naming a machine label teaches the show, and editors' review of recognitions.

A revision that gives every passage of a machine label ("Speaker 1") one person's name
names that label's voice: its print joins the show's print of that person, so the next
episodes recognise them. Recognitions are confirmed, rejected or forgotten here too; every
change that alters what readers see queues the episodes' index work in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive import store
from archive.editorial.revisions import Snapshot, loads
from archive.store.reviews import PUBLISHED
from archive.store.schema import (
    Episode,
    EpisodeVoice,
    IndexOutbox,
    PublishedSpeaker,
    Review,
    Revision,
    Segment,
    ShowVoice,
    Transcript,
)
from archive.store.voices import (
    CONFIRMED,
    NAMED,
    RECOGNISED,
    REJECTED,
    VOUCHED,
    VoiceName,
    episode_voice,
    episode_voices,
    forget_show_voice,
    link_voice,
    release_voice,
    show_voices,
    voice_names,
)
from transcribe.labels import is_label

log = logging.getLogger("podarchive.editing")

__all__ = [
    "CONFIRMED",
    "NAMED",
    "RECOGNISED",
    "REJECTED",
    "KnownVoice",
    "VoiceError",
    "VoiceName",
    "VoiceState",
    "confirm",
    "forget",
    "known_voices",
    "learn",
    "names",
    "reject",
    "set_public_speakers",
    "voice_states",
    "with_names",
]


class VoiceError(LookupError):
    """No such episode voice, recognition or show voice."""


@dataclass(frozen=True)
class KnownVoice:
    """A show's known voice as the editors' list shows it."""

    id: int
    name: str
    seconds: float  # of speech behind the print
    episodes: int  # episodes where an editor named or confirmed the person
    recognised: int  # recognitions waiting for review


def names(session: Session, transcript_id: int) -> dict[str, VoiceName]:
    """Label -> who stands in its place in this transcript version (recognised or confirmed)."""
    return {label: name for (_tid, label), name in voice_names(session, [transcript_id]).items()}


def with_names(snapshot: Snapshot, shown: dict[str, VoiceName]) -> Snapshot:
    """The snapshot with each label that has a shown name replaced by that name (an editor's names stay).

    >>> from archive.editorial.revisions import PassageSnap
    >>> p = PassageSnap(0, 0.0, 1.0, "Bonjour", "Speaker 1")
    >>> marie = {"Speaker 1": VoiceName("Speaker 1", "Marie", True)}
    >>> [q.speaker for q in with_names((p, replace(p, speaker="Paul")), marie)]
    ['Marie', 'Paul']
    """
    return tuple(replace(p, speaker=shown[p.speaker].name) if p.speaker in shown else p for p in snapshot)


@dataclass(frozen=True)
class VoiceState:
    """A voice of a transcript version as the editor page shows it."""

    label: str
    status: str | None  # RECOGNISED, CONFIRMED, NAMED, REJECTED or None (nobody known)
    name: str | None
    similarity: float | None
    seconds: float


def voice_states(session: Session, transcript_id: int) -> list[VoiceState]:
    """The voices of a transcript version and who each is, "Speaker 1" first (for the editor page)."""
    return [
        VoiceState(v.label, v.status, v.name, v.similarity, v.seconds) for v in episode_voices(session, transcript_id)
    ]


def learn(session: Session, episode_id: int, transcript_id: int, before: Snapshot, after: Snapshot) -> list[int]:
    """Teach the show what a new revision says about the voices of its machine version; the episodes to reindex.

    A label whose every passage now carries one person's name is that person (NAMED; a
    recognised label renamed to someone else is that someone else). A label an editor had
    named whose passages no longer agree on one name (renamed back to the label, cleared,
    reverted, split between people) is released.
    """
    voices = {v.label: v for v in episode_voices(session, transcript_id)}
    if not voices or _speakers(before) == _speakers(after):
        return []
    by_position = {p.position: p.speaker for p in after}
    positions: dict[str, list[int]] = {}
    for position, label in session.execute(
        select(Segment.position, Segment.speaker).where(Segment.transcript_id == transcript_id)
    ):
        if label in voices:
            positions.setdefault(label, []).append(position)
    feed_id = session.scalar(select(Episode.feed_id).where(Episode.id == episode_id))
    if feed_id is None:
        return []
    shown = names(session, transcript_id)
    changed: set[int] = set()
    for label, voice in voices.items():
        said = {by_position.get(pos) for pos in positions.get(label, ())}
        person = said.pop() if len(said) == 1 else None
        if person is not None and not is_label(person):
            if voice.status != NAMED or voice.name != person:
                changed.update(link_voice(session, voice, person, NAMED, feed_id, episode_id))
                log.info("voice named episode=%s label=%s name=%s", episode_id, label, person)
        elif voice.status == NAMED:
            changed.update(release_voice(session, voice))
            log.info("voice released episode=%s label=%s", episode_id, label)
    if names(session, transcript_id) != shown:
        changed.add(episode_id)  # a recognition the editor replaced no longer stands in the machine text
    return _reindex(session, changed)


def confirm(session: Session, episode_id: int, label: str) -> list[int]:
    """An editor agrees with a recognition: the voice is CONFIRMED and its print joins the person's."""
    voice = _recognition(session, episode_id, label)
    if voice.name is None:
        raise VoiceError(f"episode {episode_id} has no recognition of {label}")
    feed_id = session.scalar(select(Episode.feed_id).where(Episode.id == episode_id))
    assert feed_id is not None
    changed = {episode_id, *link_voice(session, voice, voice.name, CONFIRMED, feed_id, episode_id)}
    log.info("voice confirmed episode=%s label=%s name=%s", episode_id, label, voice.name)
    return _reindex(session, changed)


def reject(session: Session, episode_id: int, label: str) -> list[int]:
    """An editor says a recognition is not that person: REJECTED, the label is shown again."""
    voice = _recognition(session, episode_id, label)
    name = voice.name
    changed = {episode_id, *release_voice(session, voice, REJECTED)}
    log.info("voice rejected episode=%s label=%s name=%s", episode_id, label, name)
    return _reindex(session, changed)


def forget(session: Session, feed_id: int, voice_id: int) -> list[int]:
    """Delete a show voice's print: its unreviewed recognitions are withdrawn; names editors gave stay."""
    voice = session.get(ShowVoice, voice_id)
    if voice is None or voice.feed_id != feed_id:
        raise VoiceError(f"show {feed_id} has no known voice {voice_id}")
    name = voice.name
    changed = forget_show_voice(session, voice_id)
    log.info("voice forgotten feed=%s voice=%s name=%s episodes=%s", feed_id, voice_id, name, changed)
    return _reindex(session, changed)


def known_voices(session: Session, feed_id: int) -> list[KnownVoice]:
    """A show's known voices, by name, with what is behind each print."""
    out = []
    for v in show_voices(session, feed_id):
        rows = list(
            session.execute(
                select(EpisodeVoice.status, Transcript.episode_id)
                .join(Transcript, Transcript.id == EpisodeVoice.transcript_id)
                .where(EpisodeVoice.show_voice_id == v.id)
            )
        )
        vouched = {eid for status, eid in rows if status in VOUCHED}
        waiting = sum(1 for status, _ in rows if status == RECOGNISED)
        out.append(KnownVoice(v.id, v.name, v.seconds, len(vouched), waiting))
    return out


def set_public_speakers(session: Session, episode_id: int, snapshot: Snapshot, transcript_id: int | None) -> None:
    """The names readers see in an episode's published revision, recognitions of its machine version included."""
    session.execute(delete(PublishedSpeaker).where(PublishedSpeaker.episode_id == episode_id))
    if transcript_id is not None:
        snapshot = with_names(snapshot, names(session, transcript_id))
    found = {p.speaker for p in snapshot if p.speaker}
    session.add_all(PublishedSpeaker(episode_id=episode_id, name=n) for n in sorted(found))


def _speakers(snapshot: Snapshot) -> list[tuple[int, str | None]]:
    return [(p.position, p.speaker) for p in snapshot]


def _recognition(session: Session, episode_id: int, label: str) -> EpisodeVoice:
    """The recognised voice `label` of the version the episode's editors work on."""
    transcript_id = _base_transcript(session, episode_id)
    voice = episode_voice(session, transcript_id, label) if transcript_id is not None else None
    if voice is None or voice.status != RECOGNISED:
        raise VoiceError(f"episode {episode_id} has no recognition of {label!r} waiting for review")
    return voice


def _base_transcript(session: Session, episode_id: int) -> int | None:
    """The machine version the episode's working copy stands on (as editorial.workflow.working_copy)."""
    rev = session.scalar(
        select(Revision.transcript_id)
        .where(Revision.episode_id == episode_id)
        .order_by(Revision.number.desc())
        .limit(1)
    )
    if rev is not None:
        return int(rev)
    newest = store.newest_transcript(session, episode_id)
    return newest.id if newest is not None else None


def _reindex(session: Session, episode_ids: Iterable[int]) -> list[int]:
    """Queue index work for these episodes; a published one's people list is recomputed first."""
    ids = sorted(set(episode_ids))
    for eid in ids:
        _refresh_published(session, eid)
        session.add(IndexOutbox(episode_id=eid, op="upsert"))
    session.flush()
    return ids


def _refresh_published(session: Session, episode_id: int) -> None:
    state = session.get(Review, episode_id)
    if state is None or state.state != PUBLISHED or state.published_revision_id is None:
        return
    rev = session.get(Revision, state.published_revision_id)
    if rev is not None:
        set_public_speakers(session, episode_id, loads(rev.segments_json), rev.transcript_id)
