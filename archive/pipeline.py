"""Pipeline stages: each picks its own work from the database, one item at a time, safe to rerun."""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

import feeds
from archive import chapters, feed_store, health, outbox, retention, store
from archive.audio import DownloadError, fetch_enclosure
from archive.context import Archive
from archive.executor import TranscriptionExecutor, deadline_for, make_executor
from archive.meili import MeiliError
from archive.polling import PollJob, PollOutcome, fetch_all
from archive.publisher import best_link, fetch_publisher_transcript
from archive.schema import Episode, Feed, IndexOutbox
from archive.search import EpisodeEntry, Passage, SearchUnavailable
from archive.vocabulary import feed_terms, transcript_links, vocabulary_prompt
from transcribe import TranscriptionError

log = logging.getLogger("podarchive.pipeline")

STAGES = ("poll", "download", "transcribe", "index", "prune")


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
def stage_lock(archive: Archive, stage: str, wait: bool = False) -> Iterator[bool]:
    """A per-stage file lock: yields False when another run holds it (or waits for it, with wait)."""
    lock_dir = archive.settings.data_dir / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{stage}.lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def poll_feeds(archive: Archive, feed_id: int | None = None, limit: int | None = None) -> StageReport:
    """Fetch every due feed (conditional GET, concurrently) and record new or changed episodes."""
    report = StageReport("poll")
    settings = archive.settings
    with archive.db.session() as s:
        jobs = [
            PollJob(f.id, f.url, f.etag, f.last_modified, first_import=f.last_success_at is None)
            for f in feed_store.feeds_due(s, store.now(), feed_id)
        ][:limit]
    outcomes = fetch_all(jobs, archive.fetch_policy, workers=settings.poll_workers, max_pages=settings.max_feed_pages)
    interval = timedelta(minutes=settings.poll_interval_minutes)
    for outcome in outcomes:
        # Database writes stay in this thread: one writer, short transactions.
        done_before, notes_before = report.done, len(report.notes)
        try:
            with archive.db.session() as s:
                feed = s.get(Feed, outcome.job.feed_id)
                if feed is not None:
                    _record_poll(s, feed, outcome, interval, report)
        except Exception as exc:  # noqa: BLE001 - one feed's bad data never stops the batch
            log.exception("storing poll failed feed=%s", outcome.job.feed_id)
            # The transaction rolled back: its "N new" note would be a lie.
            report.done = done_before
            del report.notes[notes_before:]
            report.failed += 1
            with archive.db.session() as s:
                feed = s.get(Feed, outcome.job.feed_id)
                if feed is not None:
                    feed_store.record_feed_error(
                        s, feed, f"storing the poll failed: {type(exc).__name__}: {exc}", store.now()
                    )
    return report


def _record_poll(s: Session, feed: Feed, outcome: PollOutcome, interval: timedelta, report: StageReport) -> None:
    """Store one feed's poll outcome: health, validators, URL moves, episodes."""
    now, result, fid = store.now(), outcome.result, feed.id
    if outcome.error is not None:
        exc, status = outcome.error, outcome.status
        message = f"{type(exc).__name__}: {exc}"
        if status == 410:
            feed_store.record_feed_gone(s, feed, message, now)
            report.notes.append(f"feed {fid}: gone (HTTP 410), no longer polled")
        else:
            # Retry-After only means something on 429 and 503 (RFC 9110 10.2.3).
            retry_after = getattr(exc, "retry_after", None) if status in (429, 503) else None
            feed_store.record_feed_error(s, feed, message, now, retry_after)
        log.warning("poll failed feed=%s url=%s error=%s", fid, feed.url, message)
        report.failed += 1
        return
    assert result is not None
    if outcome.parsed is None:
        feed_store.record_feed_unchanged(s, feed, now, interval, etag=result.etag, last_modified=result.last_modified)
    else:
        new = feed_store.record_feed_parsed(
            s,
            feed,
            outcome.parsed,
            etag=result.etag,
            last_modified=result.last_modified,
            now=now,
            poll_interval=interval,
        )
        report.notes.append(f"feed {fid}: {new} new")
    # After the record: a move that cannot happen leaves its note in last_error.
    if result.permanent_url and feed_store.move_feed(s, feed, result.permanent_url):
        log.info("feed moved permanently feed=%s url=%s", fid, result.permanent_url)
    report.done += 1


def download_episodes(archive: Archive, limit: int | None = None) -> StageReport:
    """Download and check the enclosures of episodes that have no audio yet, then new chapters files."""
    report = StageReport("download")
    with archive.db.session() as s:
        work = [
            (e.id, e.enclosure_url, e.declared_duration)
            for e in store.episodes_needing_download(s, store.now(), archive.settings.max_attempts, limit)
            if e.enclosure_url  # the query already demands one; this tells the type checker
        ]
    for episode_id, url, declared in work:
        if archive.out_of_time():
            report.notes.append("time limit reached")
            break
        try:
            stored = fetch_enclosure(archive.settings.audio_dir, episode_id, url, archive.download_policy, declared)
        except DownloadError as exc:
            _episode_failed(archive, episode_id, "download", str(exc))
            report.failed += 1
            continue
        with archive.db.session() as s:
            episode = s.get(Episode, episode_id)
            if episode is not None:
                store.save_audio(
                    s,
                    episode,
                    path=stored.path,
                    content_type=stored.content_type,
                    size=stored.size,
                    sha256=stored.sha256,
                    duration=stored.duration,
                )
        report.done += 1
    # A chapters file is one small fetch per episode; its failures stay on the episode's
    # chapters columns, never in the stage's count or the episode's own error.
    chapters_stored, chapters_failed = chapters.fetch_due_chapters(archive, limit)
    if chapters_stored or chapters_failed:
        report.notes.append(f"chapters: {chapters_stored} stored, {chapters_failed} failed")
    return report


def transcribe_episodes(
    archive: Archive,
    limit: int | None = None,
    progress: Callable[[float, float], None] | None = None,
    executor: TranscriptionExecutor | None = None,
) -> StageReport:
    """Transcribe downloaded episodes in worker processes; the transcript and its index work commit together."""
    report = StageReport("transcribe")
    settings = archive.settings
    with archive.db.session() as s:
        work = [
            (
                e.id,
                settings.audio_dir / e.audio.path,
                e.audio.duration,
                e.language or e.feed.language,
                vocabulary_prompt(feed_terms(s, e.feed_id)),
                []
                if e.feed.prefer_asr
                else [feeds.TranscriptLink(k.url, k.type, k.language, k.rel) for k in transcript_links(s, e.id)],
            )
            for e in store.episodes_needing_transcript(s, store.now(), settings.max_attempts, limit)
            if e.audio is not None
        ]
    if not work:
        return report
    # Episodes whose publisher offers a transcript use it instead of ASR (unless the feed prefers ASR).
    remaining = []
    for item in work:
        episode_id, _, duration, language, _, links = item
        link = best_link(links, language)
        if link is None:
            remaining.append(item)
            continue
        started = time.monotonic()
        try:
            published = fetch_publisher_transcript(link, archive.fetch_policy, duration, language)
        except (feeds.FeedError, TranscriptionError) as exc:
            # Not the episode's failure: Whisper can still do it.
            log.warning("publisher transcript unusable episode=%s url=%s error=%s", episode_id, link.url, exc)
            remaining.append(item)
            continue
        with archive.db.session() as s:
            episode = s.get(Episode, episode_id)
            if episode is not None:
                store.save_transcript(s, episode, published, time.monotonic() - started)
        report.done += 1
    work = remaining
    if not work:
        return report
    own = executor is None
    try:
        executor = executor or make_executor(settings)
    except TranscriptionError as exc:
        report.notes.append(str(exc))
        report.failed += len(work)
        log.error("transcribe executor unavailable: %s", exc)
        return report
    try:
        for episode_id, path, duration, language, prompt, _ in work:
            started = time.monotonic()
            try:
                job = executor.job_for(episode_id, path, duration, language=language, initial_prompt=prompt)
                result = executor.transcribe(job, deadline_for(settings, duration), progress)
                if not result.segments:
                    raise TranscriptionError(f"no speech found in {result.duration:.0f} s of audio")
            except OSError as exc:  # the stored audio vanished or is unreadable
                _episode_failed(archive, episode_id, "transcribe", f"cannot read {path}: {exc}")
                report.failed += 1
                continue
            except TranscriptionError as exc:
                _episode_failed(archive, episode_id, "transcribe", str(exc))
                report.failed += 1
                if "model" in type(exc).__name__.lower():
                    report.notes.append(str(exc))
                    break
                continue
            taken = time.monotonic() - started
            with archive.db.session() as s:
                episode = s.get(Episode, episode_id)
                if episode is not None:
                    store.save_transcript(s, episode, result, taken)
            log.info(
                "transcribed episode=%s seconds=%.1f audio=%.1f reruns=%d",
                episode_id,
                taken,
                result.duration,
                result.reruns,
            )
            report.done += 1
    finally:
        if own:
            executor.close()
    return report


def index_episodes(archive: Archive, limit: int | None = None) -> StageReport:
    """Drain the outbox into Meilisearch; failed work stays queued with its error."""
    report = StageReport("index")
    with archive.db.session() as s:
        pending = outbox.pending_index_work(s, store.now(), limit)
        jobs = [
            (eid, [r.id for r in rows], outbox.public_passages(s, eid), outbox.episode_entry(s, eid))
            for eid, rows in pending.items()
        ]
    if not jobs:
        return report
    try:
        index = archive.search
    except MeiliError as exc:
        _index_failed(archive, [rid for _, ids, _, _ in jobs for rid in ids], f"meilisearch: {exc}")
        report.failed += len(jobs)
        return report
    for n, (episode_id, row_ids, passages, entry) in enumerate(jobs):
        try:
            index.replace_episode(episode_id, passages, entry)
        except SearchUnavailable as exc:
            # Meilisearch is down or refusing: keep every remaining operation queued.
            remaining = [rid for _, ids, _, _ in jobs[n:] for rid in ids]
            _index_failed(archive, remaining, str(exc))
            log.warning("index failed episode=%s error=%s", episode_id, exc)
            report.failed += len(jobs) - n
            break
        with archive.db.session() as s:
            rows = [r for r in (s.get(IndexOutbox, rid) for rid in row_ids) if r is not None]
            outbox.complete_index_work(s, rows)
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
            ids = outbox.all_episode_ids(s)
        for episode_id in ids:
            # One short session per episode: a long rebuild never holds the database.
            with archive.db.session() as s:
                yield outbox.public_passages(s, episode_id), outbox.episode_entry(s, episode_id)

    with stage_lock(archive, "index", wait=True):
        return archive.search.rebuild(episodes())


def _episode_failed(archive: Archive, episode_id: int, stage: str, message: str) -> None:
    log.warning("%s failed episode=%s error=%s", stage, episode_id, message)
    with archive.db.session() as s:
        episode = s.get(Episode, episode_id)
        if episode is not None:
            store.record_episode_error(s, episode, stage, message, store.now())


def _index_failed(archive: Archive, row_ids: list[int], message: str) -> None:
    with archive.db.session() as s:
        rows = [r for r in (s.get(IndexOutbox, rid) for rid in row_ids) if r is not None]
        outbox.fail_index_work(s, rows, message, store.now())


def prune_old_audio(archive: Archive) -> StageReport:
    """Apply the audio retention setting, and drop interrupted downloads nobody will resume."""
    report = StageReport("prune")
    with archive.db.session() as s:
        report.done = retention.prune_audio(s, archive.settings.audio_dir, archive.settings.audio_retention_days)
        retention.prune_partials(s, archive.settings.audio_dir, archive.settings.max_attempts)
    return report


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
        "prune": lambda: prune_old_audio(archive),
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
                run_id = health.start_stage_run(s, stage)
            report = runners[stage]()
            with archive.db.session() as s:
                health.finish_stage_run(s, run_id, report.done, report.failed, "; ".join(report.notes)[:2000] or None)
            reports.append(report)
    return reports
