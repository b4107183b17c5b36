"""The speakers stage: the diarize step again for transcripts whose first try failed (model missing, failing).

Normally speakers are found in the transcription worker, right after Whisper
(transcribe/worker.py). When that failed, the transcript was stored without labels and
marked "failed" (store/speaker_runs.py); here it is diarized from the kept audio, and a
labelled result becomes the episode's next machine version: stored versions never change.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from archive import store
from archive.context import Archive
from archive.ingest.stage import StageReport
from archive.store.schema import Episode, Transcript
from archive.store.speaker_runs import (
    record_no_voices,
    record_speakers_error,
    stored_result,
    transcripts_needing_speakers,
)
from transcribe.diarize import Diarizer
from transcribe.speaker_step import add_speakers
from transcribe.voice_model import VoiceEmbedder

log = logging.getLogger("podarchive.speakers")


def retry_speakers(archive: Archive, limit: int | None = None, diarizer: Diarizer | None = None) -> StageReport:
    """Diarize the newest versions whose speakers failed earlier; a labelled one is saved as a new version."""
    report = StageReport("speakers")
    settings = archive.settings
    if not settings.speakers:
        return report
    with archive.db.session() as s:
        work = [
            (t.id, t.episode_id, settings.audio_dir / t.episode.audio.path, t.episode.feed.speakers)
            for t in transcripts_needing_speakers(s, store.now(), settings.max_attempts, limit)
            if t.episode.audio is not None
        ]
    if not work:
        return report
    diarizer = diarizer or Diarizer(VoiceEmbedder(Path(settings.speaker_model) if settings.speaker_model else None))
    for transcript_id, episode_id, path, hint in work:
        started = time.monotonic()
        with archive.db.session() as s:
            result = add_speakers(stored_result(s, transcript_id), path, diarizer, hint)
        run = result.speakers
        with archive.db.session() as s:
            row, episode = s.get(Transcript, transcript_id), s.get(Episode, episode_id)
            if row is None or episode is None or run is None:
                continue
            if run.error is not None:
                record_speakers_error(s, row, run.error, store.now())
                report.failed += 1
                report.notes.append(f"episode {episode_id}: {run.error}")
                continue
            if not run.voices:
                record_no_voices(row, run.model)
            else:
                store.save_transcript(s, episode, result, (row.seconds_taken or 0.0) + time.monotonic() - started)
                row.speakers_next_try_at = None
        log.info("speakers episode=%s voices=%d", episode_id, len(run.voices))
        report.done += 1
    return report
