"""Transcripts: each new immutable version stored with its index work, and the one "newest version" query."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from archive.store.episodes import clear_episode_error
from archive.store.schema import Episode, IndexOutbox, Segment, Transcript, Word, utcnow
from archive.store.speaker_runs import record_speakers
from transcribe import Transcript as TranscriptResult


def save_transcript(session: Session, episode: Episode, result: TranscriptResult, seconds_taken: float) -> Transcript:
    """Store a new immutable transcript version and queue it for indexing, in one transaction."""
    version = (session.scalar(select(func.max(Transcript.version)).where(Transcript.episode_id == episode.id)) or 0) + 1
    transcript = Transcript(
        episode_id=episode.id,
        version=version,
        language=_fit(result.language, 16) or "",
        model=result.model,
        origin=result.origin,
        duration=result.duration,
        seconds_taken=seconds_taken,
        reruns=result.reruns,
        prompt=result.prompt,
        source_url=result.source_url,
    )
    for i, seg in enumerate(result.segments):
        row = Segment(
            position=i,
            start=seg.start,
            end=seg.end,
            text=_fit(seg.text) or "",
            speaker=_fit(seg.speaker, 255),
            language=_fit(seg.language, 16),
            avg_logprob=seg.avg_logprob,
            no_speech_prob=seg.no_speech_prob,
            compression_ratio=seg.compression_ratio,
            flags=seg.flags,
            rerun=seg.rerun,
        )
        row.words = [
            Word(position=j, start=w.start, end=w.end, text=_fit(w.text, 255) or "", probability=w.probability)
            for j, w in enumerate(seg.words)
        ]
        transcript.segments.append(row)
    session.add(transcript)
    session.add(IndexOutbox(episode_id=episode.id, op="upsert"))
    clear_episode_error(episode)
    session.flush()
    record_speakers(session, transcript, result, episode.feed_id, utcnow())
    session.flush()
    return transcript


def _fit(value: str | None, limit: int | None = None) -> str | None:
    """Publisher transcripts are feed data: no NULs (PostgreSQL text refuses them), clipped to the column."""
    if value is None:
        return None
    value = value.replace("\x00", "")
    return value[:limit] if limit else value


def newest_transcript_ids(episode_id: int | None = None) -> Select[int]:
    """Ids of each episode's newest transcript version (of one episode's, when given)."""
    versions = select(Transcript.episode_id, func.max(Transcript.version).label("v")).group_by(Transcript.episode_id)
    if episode_id is not None:
        versions = versions.where(Transcript.episode_id == episode_id)
    newest = versions.subquery()
    return select(Transcript.id).join(
        newest, (Transcript.episode_id == newest.c.episode_id) & (Transcript.version == newest.c.v)
    )


def newest_transcript(session: Session, episode_id: int, *, words: bool = False) -> Transcript | None:
    """The newest transcript version of one episode, with its segments (and their words if asked)."""
    load = selectinload(Transcript.segments)
    return session.scalar(
        select(Transcript)
        .where(Transcript.episode_id == episode_id)
        .options(load.selectinload(Segment.words) if words else load)
        .order_by(Transcript.version.desc())
        .limit(1)
    )
