"""The pipeline, one module per stage in run order: polling, downloading, chapters, transcribing,
speakers, embedding, indexing, pruning.

Each stage picks its own work from the database, handles one item at a time and can run
again; `run_stages` runs them in order under their locks (run.py).
"""

from __future__ import annotations

from archive.ingest.chapters import fetch_due_chapters
from archive.ingest.downloading import download_episodes
from archive.ingest.embedding import embed_passages
from archive.ingest.executor import JobFailed, engine_options, make_executor
from archive.ingest.indexing import IndexedNow, index_episodes, index_now, reindex_all
from archive.ingest.polling import poll_feeds
from archive.ingest.pruning import prune_old_audio
from archive.ingest.run import STAGES, run_stages
from archive.ingest.speakers import retry_speakers
from archive.ingest.stage import StageReport, stage_lock
from archive.ingest.transcribing import transcribe_episodes

__all__ = [
    "STAGES",
    "IndexedNow",
    "JobFailed",
    "StageReport",
    "download_episodes",
    "embed_passages",
    "engine_options",
    "fetch_due_chapters",
    "index_episodes",
    "index_now",
    "make_executor",
    "poll_feeds",
    "prune_old_audio",
    "reindex_all",
    "retry_speakers",
    "run_stages",
    "stage_lock",
    "transcribe_episodes",
]
