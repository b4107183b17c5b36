"""The transcribe stage: the publisher's transcript when it offers a usable one, else Whisper in a worker."""

from __future__ import annotations

import errno
import logging
import time
from collections import deque
from pathlib import Path

import feeds
from archive import store
from archive.context import Archive
from archive.editorial.vocabulary import feed_terms, transcript_links, vocabulary_prompt
from archive.ingest.executor import Finished, TranscriptionExecutor, deadline_for, make_executor
from archive.ingest.publisher import best_link, fetch_publisher_transcript
from archive.ingest.stage import StageReport, episode_failed
from archive.store.schema import Episode
from transcribe import EngineUnavailable, Transcript, TranscriptionError
from transcribe.options import Progress

log = logging.getLogger("podarchive.transcribing")
# How long the stage waits for a job to end before it looks again at the clock and the workers.
_WAIT = 1.0
# A write that failed for want of room: the machine's trouble, not the episode's audio.
_NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
# An episode to transcribe: id, audio path, duration, language, vocabulary prompt, publisher
# links, the show's speaker count hint.
_Item = tuple[int, Path, float, str | None, str | None, list[feeds.TranscriptLink], int | None]


def transcribe_episodes(
    archive: Archive,
    limit: int | None = None,
    progress: Progress | None = None,
    executor: TranscriptionExecutor | None = None,
) -> StageReport:
    """Transcribe downloaded episodes, one per worker at once; a transcript and its index work commit together."""
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
                e.feed.speakers,
            )
            for e in store.episodes_needing_transcript(s, store.now(), settings.max_attempts, limit)
            if e.audio is not None
        ]
    if not work:
        return report
    # Episodes whose publisher offers a transcript use it instead of ASR (unless the feed prefers ASR).
    remaining = []
    for item in work:
        episode_id, _, duration, language, _, links, _ = item
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
        _transcribe_all(archive, executor, work, _OneBar(progress), report)
    finally:
        if own:
            executor.close()
    return report


def _transcribe_all(
    archive: Archive, executor: TranscriptionExecutor, work: list[_Item], bar: _OneBar, report: StageReport
) -> None:
    """Keep the executor's workers busy; save each transcript here, in this process, as it comes back."""
    settings = archive.settings
    pending = deque(work)
    in_flight: dict[int, tuple[_Item, float]] = {}
    stopped = False  # the model cannot load: start no more jobs, let those in flight end
    while True:
        # --max-minutes: start no new job after the deadline; the jobs in flight finish.
        while pending and not stopped and not archive.out_of_time() and executor.capacity() > 0:
            item = pending.popleft()
            episode_id, path, duration, language, prompt, _, num_speakers = item
            started = time.monotonic()
            try:
                job = executor.job_for(
                    episode_id,
                    path,
                    duration,
                    language=language,
                    initial_prompt=prompt,
                    speakers=settings.speakers,
                    speaker_model=settings.speaker_model,
                    num_speakers=num_speakers,
                )
            except OSError as exc:
                if exc.errno in _NO_ROOM:
                    pending.appendleft(item)
                    _stop(report, f"no room on this machine: {exc}", 0)
                    stopped = True
                    break
                # The stored audio vanished or is unreadable.
                episode_failed(archive, episode_id, "transcribe", f"cannot read {path}: {exc}")
                report.failed += 1
                continue
            executor.submit(job, deadline_for(settings, duration))
            in_flight[episode_id] = (item, started)
        if not in_flight:
            break
        for finished in executor.collect(_WAIT, bar.report):
            item, started = in_flight.pop(finished.key)
            bar.finished(finished.key, finished.result is not None)
            if not _save(archive, item, finished, time.monotonic() - started, report):
                stopped = True
    if pending and stopped:
        # Not the episodes' fault: none of them is charged an attempt.
        report.failed += len(pending)
        log.error("transcribe stage stopped, %d episodes left for the next run", len(pending))
    if pending and not stopped and archive.out_of_time():
        left = f"time limit reached: {len(pending)} episode(s) left for the next run"
        log.info("transcribe %s", left)
        report.notes.append(left)


def _save(archive: Archive, item: _Item, finished: Finished, taken: float, report: StageReport) -> bool:
    """Store one job's transcript, or its error on its episode; False when the model itself failed."""
    episode_id, path = item[0], item[1]
    error = finished.error
    result = finished.result
    if result is not None and not result.transcript.segments:
        error = TranscriptionError(f"no speech found in {result.transcript.duration:.0f} s of audio")
    if isinstance(error, EngineUnavailable):
        # No model (or no room for its cache): the machine's trouble, no attempt charged.
        report.failed += 1
        if f"cannot transcribe now: {error}" not in report.notes:
            _stop(report, str(error), 0)
        return False
    if isinstance(error, OSError) and error.errno in _NO_ROOM:
        report.failed += 1
        if f"cannot transcribe now: no room on this machine: {error}" not in report.notes:
            _stop(report, f"no room on this machine: {error}", 0)
        return False
    if error is not None or result is None:
        message = f"cannot read {path}: {error}" if isinstance(error, OSError) else str(error)
        episode_failed(archive, episode_id, "transcribe", message)
        report.failed += 1
        if "model" in type(error).__name__.lower():
            if message not in report.notes:
                report.notes.append(message)
            return False
        return True
    transcript = result.transcript
    with archive.db.session() as s:
        episode = s.get(Episode, episode_id)
        if episode is not None:
            store.save_transcript(s, episode, transcript, taken)
    log.info(
        "transcribed episode=%s seconds=%.1f audio=%.1f reruns=%d speakers=%s worker=%s",
        episode_id,
        taken,
        transcript.duration,
        transcript.reruns,
        _speakers_note(transcript),
        result.worker,
    )
    report.done += 1
    return True


class _OneBar:
    """Several jobs' progress through a (done, total) callback that draws one episode's bar at a time.

    The bar shown is the oldest job in flight; when it ends, the next one's bar opens at
    0 and catches up with that job's latest report (archive/cli/progress.py opens a new bar
    whenever done is 0).
    """

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.latest: dict[int, tuple[float, float]] = {}  # jobs in flight, oldest first
        self.shown: int | None = None

    def report(self, key: int, done: float, total: float) -> None:
        """A worker's report on one job."""
        if self.progress is None:
            return
        self.latest[key] = (done, total)
        if self.shown is None:
            self._show(key)
        elif key == self.shown:
            self.progress(done, total)

    def finished(self, key: int, ok: bool) -> None:
        """The job left the executor: a transcript fills its bar; the next job's bar opens."""
        latest = self.latest.pop(key, None)
        if self.progress is None or key != self.shown:
            return
        # A bar the job's own last report already filled is closed: another report would open one.
        if ok and latest is not None and latest[0] < latest[1]:
            self.progress(latest[1], latest[1])
        self.shown = None
        if self.latest:
            self._show(next(iter(self.latest)))

    def _show(self, key: int) -> None:
        assert self.progress is not None
        self.shown = key
        done, total = self.latest[key]
        self.progress(0.0, total)
        if done > 0.0:
            self.progress(done, total)


def _stop(report: StageReport, reason: str, left: int) -> None:
    """The stage cannot run now (no model, no room for its cache): no episode is charged an attempt."""
    message = f"cannot transcribe now: {reason}"
    log.error("transcribe stage stopped: %s", message)
    report.notes.append(message)
    report.failed += left


def _speakers_note(result: Transcript) -> str:
    """What the diarize step did, for the log line."""
    run = result.speakers
    if run is None:
        return "off"
    return f"failed ({run.error})" if run.error else str(len(run.voices))
