"""The prune stage: audio retention (transcripts and times stay) and interrupted downloads nobody will resume."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from archive import store
from archive.context import Archive
from archive.ingest.stage import StageReport
from archive.store.schema import utcnow

log = logging.getLogger("podarchive.retention")
# A resumable download untouched this long is abandoned: its signed CDN URL has long expired.
PARTIAL_STALE = timedelta(days=7)


def prune_audio(session: Session, audio_dir: Path, days: int) -> int:
    """Delete old audio files and mark their rows; returns how many were pruned."""
    if days <= 0:
        return 0
    pruned = 0
    for audio in store.audio_to_prune(session, days):
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
    resumable = store.resumable_downloads(session, list(by_episode), max_attempts)
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


def prune_old_audio(archive: Archive) -> StageReport:
    """Apply the audio retention setting, and drop interrupted downloads nobody will resume."""
    report = StageReport("prune")
    with archive.db.session() as s:
        report.done = prune_audio(s, archive.settings.audio_dir, archive.settings.audio_retention_days)
        prune_partials(s, archive.settings.audio_dir, archive.settings.max_attempts)
    return report
