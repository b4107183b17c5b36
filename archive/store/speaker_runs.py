"""The diarize step's state on each transcript version: its outcome stored, and the versions to try again."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.store.retry import backoff
from archive.store.schema import AudioFile, Episode, Segment, Transcript, Word
from archive.store.voices import add_episode_voices
from transcribe import Segment as SegmentResult
from transcribe import Transcript as TranscriptResult
from transcribe import Word as WordResult

log = logging.getLogger("podarchive.store")

# Transcript.speakers_status values.
LABELLED, NO_VOICES, FAILED, KEPT = "labelled", "none", "failed", "kept"


def record_speakers(session: Session, row: Transcript, result: TranscriptResult, feed_id: int, now: datetime) -> None:
    """Store what the diarize step made of `result` on its new version `row` (flushed), in the caller's transaction."""
    run = result.speakers
    if run is None:
        # Not diarized: a publisher's own voices are kept as they are (issue 16, item 5).
        row.speakers_status = KEPT if any(s.speaker for s in result.segments) else None
        return
    row.speakers_model = run.model[:64]
    if run.error is not None:
        record_speakers_error(session, row, run.error, now)
        return
    row.speakers_status = LABELLED if run.voices else NO_VOICES
    add_episode_voices(session, row.id, feed_id, run.voices)


def record_speakers_error(session: Session, row: Transcript, message: str, now: datetime) -> None:
    """The diarize step failed on this version: the text stays as it is; try again after a backoff."""
    row.speakers_status = FAILED
    row.speakers_error = message[:2000]
    row.speakers_attempts += 1
    row.speakers_next_try_at = backoff(row.speakers_attempts, now)
    log.warning(
        "speakers failed episode=%s transcript=%s attempt=%s error=%s (kept without speakers)",
        row.episode_id,
        row.id,
        row.speakers_attempts,
        message,
    )


def record_no_voices(row: Transcript, model: str) -> None:
    """A retry found no voice to label (silence, music): done, nothing to store."""
    row.speakers_status, row.speakers_model = NO_VOICES, model[:64]
    row.speakers_error = row.speakers_next_try_at = None


def transcripts_needing_speakers(
    session: Session, now: datetime, max_attempts: int, limit: int | None = None
) -> list[Transcript]:
    """Newest versions whose diarize step failed and may be tried again: attempts left, backoff over, audio kept."""
    from archive.store.transcripts import newest_transcript_ids  # transcripts.py imports this module

    query = (
        select(Transcript)
        .join(AudioFile, AudioFile.episode_id == Transcript.episode_id)
        .where(
            Transcript.id.in_(newest_transcript_ids()),
            Transcript.speakers_status == FAILED,
            Transcript.speakers_attempts < max_attempts,
            (Transcript.speakers_next_try_at.is_(None)) | (Transcript.speakers_next_try_at <= now),
            AudioFile.pruned_at.is_(None),
        )
        .options(
            selectinload(Transcript.episode).selectinload(Episode.audio),
            selectinload(Transcript.episode).selectinload(Episode.feed),
        )
        .order_by(Transcript.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def stored_result(session: Session, transcript_id: int) -> TranscriptResult:
    """A stored version as the transcribe.Transcript it was saved from (segments, words, metadata; no speakers run)."""
    row = session.scalar(
        select(Transcript)
        .where(Transcript.id == transcript_id)
        .options(selectinload(Transcript.segments).selectinload(Segment.words))
    )
    if row is None:
        raise LookupError(f"no transcript {transcript_id}")
    return TranscriptResult(
        language=row.language,
        segments=tuple(_segment(seg, seg.words) for seg in row.segments),
        duration=row.duration,
        model=row.model,
        origin=row.origin,
        reruns=row.reruns,
        prompt=row.prompt,
        source_url=row.source_url,
    )


def _segment(seg: Segment, words: list[Word]) -> SegmentResult:
    return SegmentResult(
        start=seg.start,
        end=seg.end,
        text=seg.text,
        words=tuple(WordResult(w.start, w.end, w.text, w.probability) for w in words),
        avg_logprob=seg.avg_logprob,
        no_speech_prob=seg.no_speech_prob,
        compression_ratio=seg.compression_ratio,
        speaker=seg.speaker,
        language=seg.language,
        flags=seg.flags,
        rerun=seg.rerun,
    )
