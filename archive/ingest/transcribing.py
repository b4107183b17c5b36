"""The transcribe stage: the publisher's transcript when it offers a usable one, else Whisper in a worker."""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable

import feeds
from archive import store
from archive.context import Archive
from archive.editorial.vocabulary import feed_terms, transcript_links, vocabulary_prompt
from archive.ingest.executor import TranscriptionExecutor, deadline_for, make_executor
from archive.ingest.publisher import best_link, fetch_publisher_transcript
from archive.ingest.stage import StageReport, episode_failed
from archive.store.schema import Episode
from transcribe import EngineUnavailable, Transcript, TranscriptionError

log = logging.getLogger("podarchive.transcribing")
# A write that failed for want of room: the machine's trouble, not the episode's audio.
_NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


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
        for n, (episode_id, path, duration, language, prompt, _, num_speakers) in enumerate(work):
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
                result = executor.transcribe(job, deadline_for(settings, duration), progress)
                if not result.segments:
                    raise TranscriptionError(f"no speech found in {result.duration:.0f} s of audio")
            except EngineUnavailable as exc:
                _stop(report, str(exc), len(work) - n)
                break
            except OSError as exc:
                if exc.errno in _NO_ROOM:
                    _stop(report, f"no room on this machine: {exc}", len(work) - n)
                    break
                # The stored audio vanished or is unreadable.
                episode_failed(archive, episode_id, "transcribe", f"cannot read {path}: {exc}")
                report.failed += 1
                continue
            except TranscriptionError as exc:
                episode_failed(archive, episode_id, "transcribe", str(exc))
                report.failed += 1
                continue
            taken = time.monotonic() - started
            with archive.db.session() as s:
                episode = s.get(Episode, episode_id)
                if episode is not None:
                    store.save_transcript(s, episode, result, taken)
            log.info(
                "transcribed episode=%s seconds=%.1f audio=%.1f reruns=%d speakers=%s",
                episode_id,
                taken,
                result.duration,
                result.reruns,
                _speakers_note(result),
            )
            report.done += 1
    finally:
        if own:
            executor.close()
    return report


def _stop(report: StageReport, reason: str, left: int) -> None:
    """The stage cannot run now (no model, no room for its cache): no episode is charged an attempt."""
    message = f"cannot transcribe now: {reason}"
    log.error("transcribe stage stopped, %d episodes left for the next run: %s", left, message)
    report.notes.append(message)
    report.failed += left


def _speakers_note(result: Transcript) -> str:
    """What the diarize step did, for the log line."""
    run = result.speakers
    if run is None:
        return "off"
    return f"failed ({run.error})" if run.error else str(len(run.voices))
