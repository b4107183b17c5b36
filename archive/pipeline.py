"""Pipeline stages: each picks its own work from the database, one item at a time, safe to rerun."""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import feeds
from archive import store
from archive.audio import DownloadError, fetch_enclosure
from archive.context import Archive
from archive.meili import MeiliError
from archive.search import SearchUnavailable
from transcribe import TranscriptionError

log = logging.getLogger("podarchive.pipeline")

POLL_INTERVAL = timedelta(minutes=15)
STAGES = ("poll", "download", "transcribe", "index")


@dataclass
class StageReport:
    """What one stage did in one run."""

    stage: str
    done: int = 0
    failed: int = 0
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One short phrase for the run's summary line."""
        if self.skipped:
            return f"{self.stage}: skipped ({self.skipped})"
        text = f"{self.stage}: {self.done} ok"
        if self.failed:
            text += f", {self.failed} failed"
        return text


@contextmanager
def stage_lock(archive: Archive, stage: str) -> Iterator[bool]:
    """A non-blocking per-stage file lock: yields False when another run holds it."""
    lock_dir = archive.settings.data_dir / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{stage}.lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def poll_feeds(archive: Archive, feed_id: int | None = None, limit: int | None = None) -> StageReport:
    """Fetch every due feed (conditional GET) and record new or changed episodes."""
    report = StageReport("poll")
    with archive.db.session() as s:
        due = [(f.id, f.url, f.etag, f.last_modified) for f in store.feeds_due(s, store.now(), feed_id)]
    for fid, url, etag, last_modified in due[:limit]:
        try:
            result = feeds.fetch(url, archive.fetch_policy, etag=etag, last_modified=last_modified)
            parsed = None if result.not_modified else feeds.parse_feed(result.content, result.url)
        except feeds.FeedError as exc:
            retry_after = getattr(exc, "retry_after", None)
            with archive.db.session() as s:
                feed = s.get(store.Feed, fid)
                if feed is not None:
                    store.record_feed_error(s, feed, f"{type(exc).__name__}: {exc}", store.now(), retry_after)
            log.warning("poll failed feed=%s url=%s error=%s", fid, url, exc)
            report.failed += 1
            continue
        with archive.db.session() as s:
            feed = s.get(store.Feed, fid)
            if feed is None:
                continue
            if parsed is None:
                store.record_feed_unchanged(s, feed, store.now(), POLL_INTERVAL)
            else:
                if result.permanent_url:
                    feed.url = result.permanent_url
                new = store.record_feed_parsed(
                    s, feed, parsed, etag=result.etag, last_modified=result.last_modified,
                    now=store.now(), poll_interval=POLL_INTERVAL,
                )
                report.notes.append(f"feed {fid}: {new} new")
        report.done += 1
    return report


def download_episodes(archive: Archive, limit: int | None = None) -> StageReport:
    """Download and check the enclosures of episodes that have no audio yet."""
    report = StageReport("download")
    with archive.db.session() as s:
        work = [
            (e.id, e.enclosure_url, e.declared_duration)
            for e in store.episodes_needing_download(s, store.now(), archive.settings.max_attempts, limit)
        ]
    for episode_id, url, declared in work:
        try:
            stored = fetch_enclosure(archive.settings.audio_dir, episode_id, url, archive.fetch_policy, declared)
        except DownloadError as exc:
            _episode_failed(archive, episode_id, "download", str(exc))
            report.failed += 1
            continue
        with archive.db.session() as s:
            episode = s.get(store.Episode, episode_id)
            if episode is not None:
                store.save_audio(
                    s, episode, path=stored.path, content_type=stored.content_type,
                    size=stored.size, sha256=stored.sha256, duration=stored.duration,
                )
        report.done += 1
    return report


def transcribe_episodes(
    archive: Archive, limit: int | None = None, progress: Callable[[float, float], None] | None = None
) -> StageReport:
    """Transcribe downloaded episodes; the transcript and its index work commit together."""
    report = StageReport("transcribe")
    with archive.db.session() as s:
        work = [
            (e.id, archive.settings.audio_dir / e.audio.path, e.language or e.feed.language)
            for e in store.episodes_needing_transcript(s, store.now(), archive.settings.max_attempts, limit)
            if e.audio is not None
        ]
    for episode_id, path, language in work:
        started = time.monotonic()
        try:
            result = archive.engine.transcribe(path, language=language, progress=progress)
            if not result.segments:
                raise TranscriptionError(f"no speech found in {result.duration:.0f} s of audio")
        except TranscriptionError as exc:
            _episode_failed(archive, episode_id, "transcribe", str(exc))
            report.failed += 1
            if "model" in type(exc).__name__.lower():
                report.notes.append(str(exc))
                break
            continue
        taken = time.monotonic() - started
        with archive.db.session() as s:
            episode = s.get(store.Episode, episode_id)
            if episode is not None:
                store.save_transcript(s, episode, result, taken)
        log.info("transcribed episode=%s seconds=%.1f audio=%.1f", episode_id, taken, result.duration)
        report.done += 1
    return report


def index_episodes(archive: Archive, limit: int | None = None) -> StageReport:
    """Drain the outbox into Meilisearch; failed work stays queued with its error."""
    report = StageReport("index")
    with archive.db.session() as s:
        pending = store.pending_index_work(s, store.now(), limit)
        jobs = [(eid, [r.id for r in rows], store.public_passages(s, eid)) for eid, rows in pending.items()]
    if not jobs:
        return report
    try:
        index = archive.search
    except MeiliError as exc:
        _index_failed(archive, [rid for _, ids, _ in jobs for rid in ids], f"meilisearch: {exc}")
        report.failed += len(jobs)
        return report
    for n, (episode_id, row_ids, passages) in enumerate(jobs):
        try:
            index.replace_episode(episode_id, passages)
        except SearchUnavailable as exc:
            # Meilisearch is down or refusing: keep every remaining operation queued.
            remaining = [rid for _, ids, _ in jobs[n:] for rid in ids]
            _index_failed(archive, remaining, str(exc))
            log.warning("index failed episode=%s error=%s", episode_id, exc)
            report.failed += len(jobs) - n
            break
        with archive.db.session() as s:
            rows = [r for r in (s.get(store.IndexOutbox, rid) for rid in row_ids) if r is not None]
            store.complete_index_work(s, rows)
        report.done += 1
    return report


def _episode_failed(archive: Archive, episode_id: int, stage: str, message: str) -> None:
    log.warning("%s failed episode=%s error=%s", stage, episode_id, message)
    with archive.db.session() as s:
        episode = s.get(store.Episode, episode_id)
        if episode is not None:
            store.record_episode_error(s, episode, stage, message, store.now())


def _index_failed(archive: Archive, row_ids: list[int], message: str) -> None:
    with archive.db.session() as s:
        rows = [r for r in (s.get(store.IndexOutbox, rid) for rid in row_ids) if r is not None]
        store.fail_index_work(s, rows, message, store.now())


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
        "poll": lambda: poll_feeds(archive, feed_id, limit),
        "download": lambda: download_episodes(archive, limit),
        "transcribe": lambda: transcribe_episodes(archive, limit, progress),
        "index": lambda: index_episodes(archive, limit),
    }
    reports = []
    for stage in stages:
        with stage_lock(archive, stage) as held:
            if not held:
                reports.append(StageReport(stage, skipped="another run holds its lock"))
                continue
            reports.append(runners[stage]())
    return reports
