"""Audio retention: delete the audio of long-transcribed episodes, keep transcripts and times."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.schema import AudioFile, Transcript, utcnow

log = logging.getLogger("podarchive.retention")


def audio_to_prune(session: Session, days: int) -> list[AudioFile]:
    """Stored audio whose episode has had a transcript for more than `days` days."""
    cutoff = utcnow() - timedelta(days=days)
    transcribed_before = (
        select(Transcript.id)
        .where(Transcript.episode_id == AudioFile.episode_id, Transcript.created_at < cutoff)
        .exists()
    )
    return list(session.scalars(select(AudioFile).where(AudioFile.pruned_at.is_(None), transcribed_before)))


def prune_audio(session: Session, audio_dir: Path, days: int) -> int:
    """Delete old audio files and mark their rows; returns how many were pruned."""
    if days <= 0:
        return 0
    pruned = 0
    for audio in audio_to_prune(session, days):
        # Names are podarchive's own; never follow anything else out of the store.
        (audio_dir / Path(audio.path).name).unlink(missing_ok=True)
        audio.pruned_at = utcnow()
        log.info("pruned audio episode=%s file=%s", audio.episode_id, audio.path)
        pruned += 1
    return pruned
