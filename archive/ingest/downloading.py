"""The download stage: each new enclosure fetched, checked and stored in the audio store."""

from __future__ import annotations

import logging

from archive import store
from archive.context import Archive
from archive.ingest.enclosures import DownloadError, fetch_enclosure
from archive.ingest.stage import StageReport, episode_failed
from archive.store.schema import Episode

log = logging.getLogger("podarchive.downloading")


def download_episodes(archive: Archive, limit: int | None = None) -> StageReport:
    """Download and check the enclosures of episodes that have no audio yet."""
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
            episode_failed(archive, episode_id, "download", str(exc))
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
    return report
