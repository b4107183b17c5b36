"""The index stage: the outbox drained into Meilisearch; and a full rebuild swapped in atomically."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

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


def index_episodes(archive: Archive, limit: int | None = None) -> StageReport:
    """Drain the outbox into Meilisearch; failed work stays queued with its error."""
    report = StageReport("index")
    with archive.db.session() as s:
        pending = store.pending_index_work(s, store.now(), limit)
        jobs = [
            IndexJob(eid, [r.id for r in rows], public.public_passages(s, eid), public.episode_entry(s, eid))
            for eid, rows in pending.items()
        ]
    if not jobs:
        return report
    try:
        index = archive.search
    except SearchUnavailable as exc:
        _index_failed(archive, [rid for job in jobs for rid in job.outbox_ids], f"meilisearch: {exc}")
        report.failed += len(jobs)
        return report
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
    return report


def reindex_all(archive: Archive) -> int:
    """Rebuild the search indexes from the database and swap them in; returns passages indexed.

    Holds the index stage's lock: an index run applying a change to the old index
    during the rebuild would be undone by the swap. Outbox rows written meanwhile
    stay queued and are applied by the next index run.
    """

    def episodes() -> Iterator[tuple[list[Passage], EpisodeEntry | None]]:
        with archive.db.session() as s:
            ids = store.all_episode_ids(s)
        for episode_id in ids:
            # One short session per episode: a long rebuild never holds the database.
            with archive.db.session() as s:
                yield public.public_passages(s, episode_id), public.episode_entry(s, episode_id)

    with stage_lock(archive, "index", wait=True):
        return archive.search.rebuild(episodes())


def _index_failed(archive: Archive, row_ids: list[int], message: str) -> None:
    with archive.db.session() as s:
        rows = [r for r in (s.get(IndexOutbox, rid) for rid in row_ids) if r is not None]
        store.fail_index_work(s, rows, message, store.now())
