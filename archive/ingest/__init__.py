"""The pipeline, one module per stage in run order: polling, downloading, chapters, transcribing,
speakers, embedding, indexing, pruning.

Each stage picks its own work from the database, handles one item at a time and can run
again; `run_stages` runs them in order under their locks (run.py).
"""

from __future__ import annotations

# Names load with their module on first use (PEP 562): the site imports ingest.indexing
# (web/index_now.py) and a command its own stage, neither the other stages and the executor.
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "chapters": ("fetch_due_chapters",),
    "downloading": ("download_episodes",),
    "embedding": ("embed_passages",),
    "executor": ("JobFailed", "engine_options", "make_executor"),
    "indexing": ("IndexedNow", "index_episodes", "index_now", "reindex_all"),
    "polling": ("poll_feeds",),
    "pruning": ("prune_old_audio",),
    "run": ("STAGES", "run_stages"),
    "speakers": ("retry_speakers",),
    "stage": ("StageReport", "stage_lock"),
    "transcribing": ("transcribe_episodes",),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


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
