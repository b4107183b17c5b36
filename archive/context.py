"""The wiring one command or site process needs: settings, database, search index, fetch policies."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING

import feeds
from archive import data_dir
from archive.config import Settings
from archive.store.database import Database

if TYPE_CHECKING:
    from archive.search import Embedder, SearchIndex


class Archive:
    """Opened once per process; the heavy parts load on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Before anything is written: every process (a command, a site worker) goes through here.
        data_dir.prepare(settings)
        self.db = Database(settings)
        # time.monotonic() after which stages start no new item (`ingest --max-minutes`).
        self.deadline: float | None = None

    def out_of_time(self) -> bool:
        """Whether the run's time budget is spent."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    @cached_property
    def search(self) -> SearchIndex:
        """The search index (starts the local Meilisearch if none is configured).

        Kept for the process's life; when the server cannot be reached it looks again where
        the server's state file says it is (a command restarted it on another port).
        """
        # Imported here: a command that never searches (users, feeds set) skips the client.
        from archive.search import SearchIndex
        from archive.search.server import current_endpoint, endpoint

        return SearchIndex(
            endpoint(self.settings),
            self.settings.index_prefix,
            find=lambda: current_endpoint(self.settings),
            embedder=self.embedder,
            floor=self.settings.meaning_floor,
            timeout=self.settings.meili_timeout,
        )

    @cached_property
    def embedder(self) -> Embedder | None:
        """The model for search by meaning (None when turned off); its weights load on first use, not here."""
        from archive.search import load_embedder

        s = self.settings
        return load_embedder(s.embedder, s.cache_dir, threads=s.embedder_threads)

    @cached_property
    def fetch_policy(self) -> feeds.FetchPolicy:
        """How feeds, enclosures and transcript files are fetched."""
        s = self.settings
        return feeds.FetchPolicy(
            user_agent=s.user_agent,
            read_timeout=s.fetch_timeout,
            # Feeds and transcripts are held in memory: 50 MB is past the largest real feed.
            max_bytes=min(s.max_download_mb, 50) * 1024 * 1024,
            allow_private_hosts=s.allow_private_hosts,
        )

    @cached_property
    def download_policy(self) -> feeds.FetchPolicy:
        """How enclosures are fetched: streamed to disk, so a larger cap and a longer deadline."""
        s = self.settings
        return replace(
            self.fetch_policy,
            max_bytes=s.max_download_mb * 1024 * 1024,
            deadline=s.download_deadline_minutes * 60.0,
        )
