"""One ingest run: the stages in order, each under its own lock, each recorded as a stage run."""

from __future__ import annotations

from collections.abc import Callable

from archive import store
from archive.context import Archive
from archive.ingest import chapters, downloading, embedding, indexing, polling, pruning, speakers, transcribing
from archive.ingest.stage import StageReport, stage_lock

# The order data flows in: a feed, its audio and chapters, the text (and speakers retried
# where the worker could not find them), its vectors, the index, then clean-up.
STAGES = ("poll", "download", "chapters", "transcribe", "speakers", "embed", "index", "prune")


def run_stages(
    archive: Archive,
    stages: tuple[str, ...] = STAGES,
    *,
    feed_id: int | None = None,
    limit: int | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> list[StageReport]:
    """Run the named stages in order, each under its own lock."""
    runners: dict[str, Callable[[], StageReport]] = {
        "poll": lambda: polling.poll_feeds(archive, feed_id, limit),
        "download": lambda: downloading.download_episodes(archive, limit),
        "chapters": lambda: chapters.fetch_due_chapters(archive, limit),
        "transcribe": lambda: transcribing.transcribe_episodes(archive, limit, progress),
        "speakers": lambda: speakers.retry_speakers(archive, limit),
        "embed": lambda: embedding.embed_passages(archive, limit),
        "index": lambda: indexing.index_episodes(archive, limit),
        "prune": lambda: pruning.prune_old_audio(archive),
    }
    reports = []
    for stage in stages:
        with stage_lock(archive, stage) as held:
            if not held:
                reports.append(StageReport(stage, skipped="another run holds its lock"))
                continue
            if archive.out_of_time():
                reports.append(StageReport(stage, skipped="time limit reached"))
                continue
            with archive.db.session() as s:
                run_id = store.start_stage_run(s, stage)
            report = runners[stage]()
            with archive.db.session() as s:
                store.finish_stage_run(s, run_id, report.done, report.failed, "; ".join(report.notes)[:2000] or None)
            reports.append(report)
    return reports
