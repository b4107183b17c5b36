"""The index stage: the outbox drained into Meilisearch; and a full rebuild swapped in atomically.

Documents carry the vectors the embed stage kept (archive/ingest/embedding.py); neither
a run nor a rebuild computes one, so neither needs the model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive import public, store
from archive.context import Archive
from archive.ingest.stage import StageReport, stage_lock
from archive.search import EpisodeEntry, Passage, SearchUnavailable
from archive.store.schema import IndexOutbox

log = logging.getLogger("podarchive.indexing")


@dataclass(frozen=True)
class IndexJob:
    """One episode's queued index work: the outbox rows it clears and what the index should hold."""

    episode_id: int
    outbox_ids: list[int]
    passages: list[Passage]
    entry: EpisodeEntry | None


# Episodes an editor's request applies at once; a show's worth more waits for the next index run.
INDEX_NOW_MAX = 20
# How long an editor's request waits for an index run holding the lock before leaving the work queued.
INDEX_NOW_WAIT_S = 5.0


@dataclass(frozen=True)
class IndexedNow:
    """What applying an editor's change to the search index at once did."""

    # Episodes the index now mirrors, and episodes left in the outbox for the next index run.
    done: int
    queued: int
    # Why some were left: "unavailable" (Meilisearch), "busy" (another index run), "many".
    reason: str | None = None


def index_episodes(archive: Archive, limit: int | None = None) -> StageReport:
    """Drain the outbox into Meilisearch; failed work stays queued with its error."""
    report = StageReport("index")
    with archive.db.session() as s:
        jobs = _jobs(s, store.pending_index_work(s, store.now(), limit), _model_id(archive))
    _apply(archive, jobs, report)
    return report


def index_now(archive: Archive, episode_ids: list[int]) -> IndexedNow:
    """Apply these episodes' queued index work at once (after an editor's commit); the outbox stays the fallback.

    Under the index stage's lock, as an index run: a run that read an episode before the
    editor's commit must not write its older text over this one afterwards.
    """
    wanted = list(dict.fromkeys(episode_ids))
    now_ids, later = wanted[:INDEX_NOW_MAX], len(wanted) - min(len(wanted), INDEX_NOW_MAX)
    with stage_lock(archive, "index", wait=True, timeout=INDEX_NOW_WAIT_S) as held:
        if not held:
            return IndexedNow(0, len(wanted), "busy")
        with archive.db.session() as s:
            jobs = _jobs(s, store.episode_index_work(s, now_ids), _model_id(archive))
        report = StageReport("index")
        _apply(archive, jobs, report)
    # An episode without rows was applied by an index run in the meantime: it is current too.
    done = len(now_ids) - report.failed
    if report.failed:
        return IndexedNow(done, report.failed + later, "unavailable")
    return IndexedNow(done, later, "many" if later else None)


def _jobs(session: Session, pending: dict[int, list[IndexOutbox]], model_id: str | None) -> list[IndexJob]:
    """What the index should hold for each episode with work, read from the database now."""
    mean = public.archive_mean(session, model_id) if model_id and pending else None
    return [
        IndexJob(eid, [r.id for r in rows], *public.index_documents(session, eid, model_id, mean))
        for eid, rows in pending.items()
    ]


def _apply(archive: Archive, jobs: list[IndexJob], report: StageReport) -> None:
    """Write each job to Meilisearch and complete its rows; on failure keep it and the rest queued."""
    if not jobs:
        return
    try:
        index = archive.search
    except SearchUnavailable as exc:
        _index_failed(archive, [rid for job in jobs for rid in job.outbox_ids], f"meilisearch: {exc}")
        report.failed += len(jobs)
        return
    for n, job in enumerate(jobs):
        try:
            index.replace_episode(job.episode_id, job.passages, job.entry)
        except SearchUnavailable as exc:
            # Meilisearch is down or refusing: keep every remaining operation queued.
            _index_failed(archive, [rid for later in jobs[n:] for rid in later.outbox_ids], str(exc))
            log.warning("index failed episode=%s error=%s", job.episode_id, exc)
            report.failed += len(jobs) - n
            break
        with archive.db.session() as s:
            rows = [r for r in (s.get(IndexOutbox, rid) for rid in job.outbox_ids) if r is not None]
            store.complete_index_work(s, rows)
        report.done += 1


def reindex_all(archive: Archive) -> int:
    """Rebuild the search indexes from the database and swap them in; returns passages indexed.

    Holds the index stage's lock: an index run applying a change to the old index
    during the rebuild would be undone by the swap. Outbox rows written meanwhile
    stay queued and are applied by the next index run.
    """

    model_id = _model_id(archive)

    def episodes() -> Iterator[tuple[list[Passage], EpisodeEntry | None]]:
        with archive.db.session() as s:
            ids = store.all_episode_ids(s)
            mean = public.archive_mean(s, model_id) if model_id else None
        for episode_id in ids:
            # One short session per episode: a long rebuild never holds the database.
            with archive.db.session() as s:
                yield public.index_documents(s, episode_id, model_id, mean)

    with stage_lock(archive, "index", wait=True):
        return archive.search.rebuild(episodes())


def _model_id(archive: Archive) -> str | None:
    """Whose stored vectors the documents carry: the embedder's (no weights are loaded for this)."""
    return archive.embedder.model_id if archive.embedder is not None else None


def _index_failed(archive: Archive, row_ids: list[int], message: str) -> None:
    with archive.db.session() as s:
        rows = [r for r in (s.get(IndexOutbox, rid) for rid in row_ids) if r is not None]
        store.fail_index_work(s, rows, message, store.now())
