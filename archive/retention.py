"""Audio retention: delete the audio of long-transcribed episodes, keep transcripts and times."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.schema import AudioFile, Episode, Transcript, utcnow

log = logging.getLogger("podarchive.retention")
# A resumable download untouched this long is abandoned: its signed CDN URL has long expired.
PARTIAL_STALE = timedelta(days=7)


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


def prune_partials(session: Session, audio_dir: Path, max_attempts: int) -> int:
    """Delete interrupted downloads nobody will resume; returns how many episodes' files went.

    Kept for resuming are the parts of episodes still being tried. Gone are those of
    deleted episodes, of episodes whose audio is stored or that were given up on
    (attempts spent), and any untouched for PARTIAL_STALE.
    """
    tmp_dir = audio_dir / ".partial"
    if not tmp_dir.is_dir():
        return 0
    by_episode: dict[int, list[Path]] = {}
    for path in tmp_dir.iterdir():
        if path.suffix in (".part", ".json") and path.stem.isdigit():
            by_episode.setdefault(int(path.stem), []).append(path)
    if not by_episode:
        return 0
    # The outer join gives None for an episode with no audio row (the select types it as int).
    rows: Iterable[tuple[int, int, int | None]] = session.execute(
        select(Episode.id, Episode.attempts, AudioFile.id)
        .outerjoin(AudioFile, AudioFile.episode_id == Episode.id)
        .where(Episode.id.in_(list(by_episode)))
    )
    resumable = {eid for eid, attempts, audio_id in rows if audio_id is None and attempts < max_attempts}
    stale_before = (utcnow() - PARTIAL_STALE).timestamp()
    removed = 0
    for eid, paths in by_episode.items():
        fresh = any(p.stat().st_mtime >= stale_before for p in paths)
        if eid in resumable and fresh:
            continue
        for path in paths:
            path.unlink(missing_ok=True)
        log.info("removed abandoned partial download episode=%s", eid)
        removed += 1
    return removed
