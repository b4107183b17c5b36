"""The chapters stage: each new podcast:chapters file fetched safely, parsed and stored."""

from __future__ import annotations

import logging
from dataclasses import replace

import feeds
from archive import store
from archive.context import Archive
from archive.ingest.stage import StageReport
from archive.store.schema import Episode

log = logging.getLogger("podarchive.chapters")
# A chapters file is a few kilobytes; 2 MB is past any real one and bounds a hostile one.
MAX_BYTES = 2 * 1024 * 1024


def fetch_chapters(url: str, policy: feeds.FetchPolicy) -> tuple[feeds.Chapter, ...]:
    """Fetch through the SSRF-guarded fetcher and parse; raises feeds.FeedError (ChaptersError for a bad file)."""
    result = feeds.fetch(url, replace(policy, max_bytes=min(policy.max_bytes, MAX_BYTES)))
    return feeds.parse_chapters(result.content, result.url)


def fetch_due_chapters(archive: Archive, limit: int | None = None) -> StageReport:
    """Fetch and store every new chapters file, one episode at a time.

    A bad file is an error on the episode's chapters columns (with a backoff), never on
    the episode itself: its audio and transcript go on without chapters.
    """
    report = StageReport("chapters")
    with archive.db.session() as s:
        work = [
            (e.id, e.chapters_url)
            for e in store.episodes_needing_chapters(s, store.now(), archive.settings.max_attempts, limit)
            if e.chapters_url  # the query already demands one; this tells the type checker
        ]
    for episode_id, url in work:
        if archive.out_of_time():
            report.notes.append("time limit reached")
            break
        try:
            chapters = fetch_chapters(url, archive.fetch_policy)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the stage or touches the audio
            message = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, feeds.FeedError):
                log.warning("chapters failed episode=%s url=%s error=%s", episode_id, url, message)
            else:
                log.exception("chapters failed episode=%s url=%s", episode_id, url)
            with archive.db.session() as s:
                episode = s.get(Episode, episode_id)
                # The feed may have moved on to another URL meanwhile: that one starts afresh.
                if episode is not None and episode.chapters_url == url:
                    store.record_chapters_error(s, episode, message, store.now())
            report.failed += 1
            continue
        with archive.db.session() as s:
            episode = s.get(Episode, episode_id)
            if episode is not None and episode.chapters_url == url:
                store.save_chapters(s, episode, url, chapters)
        log.info("chapters stored episode=%s count=%d", episode_id, len(chapters))
        report.done += 1
    return report
