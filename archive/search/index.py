"""The search index: the only module that talks to Meilisearch. Derived from the database."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchError

from archive.search.documents import (
    HL_POST,
    HL_PRE,
    EpisodeEntry,
    EpisodeHit,
    Filters,
    Hit,
    Passage,
    SearchPage,
    episode_document,
    episode_hit,
    normalise_query,
    passage_document,
    quote_filter,
    safe_highlight,
    strip_sentinels,
)
from archive.search.errors import SearchUnavailable
from archive.search.index_settings import EPISODE_SETTINGS, PASSAGE_SETTINGS
from archive.search.server import Endpoint

__all__ = [
    "EpisodeEntry",
    "EpisodeHit",
    "Filters",
    "HL_POST",
    "HL_PRE",
    "Hit",
    "Passage",
    "SearchIndex",
    "SearchPage",
    "SearchUnavailable",
    "episode_document",
    "normalise_query",
    "passage_document",
    "quote_filter",
    "safe_highlight",
    "strip_sentinels",
]

TASK_TIMEOUT_MS = 120_000
# A rebuild enqueues everything, and Meilisearch folds the queue into one batch: at 1M
# passages on one indexing thread that batch runs for many minutes, not seconds.
REBUILD_TIMEOUT_MS = 6 * 3600 * 1000
MAX_LIMIT, MAX_OFFSET = 100, 1000
FACETS = ["show", "year", "language"]
BATCH = 10_000


def _hit(h: dict[str, Any]) -> Hit:
    return Hit(
        episode_id=int(h["episode_id"]),
        position=int(h["position"]),
        start=float(h["start"]),
        end=float(h["end"]),
        html=safe_highlight(h.get("_formatted", {}).get("text", h["text"])),
        episode_title=h.get("episode_title", ""),
        feed_title=h.get("feed_title", ""),
        published=h.get("published"),
        speaker=h.get("speaker"),
        language=h.get("language"),
    )


def _batches(docs: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class SearchIndex:
    """Passage and episode indexes; every write waits for its task and checks it succeeded."""

    def __init__(self, endpoint: Endpoint, prefix: str) -> None:
        self.client = meilisearch.Client(endpoint.url, endpoint.key, timeout=15)
        self.passages_uid = f"{prefix}-passages"
        self.episodes_uid = f"{prefix}-episodes"
        self._settings_applied = False

    def _wait(self, task: Any, timeout_ms: int = TASK_TIMEOUT_MS, interval_ms: int = 10) -> None:
        try:
            done = self.client.wait_for_task(task.task_uid, timeout_in_ms=timeout_ms, interval_in_ms=interval_ms)
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(f"waiting for task {task.task_uid}: {exc}") from exc
        if done.status != "succeeded":
            raise SearchUnavailable(f"meilisearch task {task.task_uid} {done.status}: {done.error}")

    def _create(self, uid: str, settings: dict[str, Any]) -> None:
        try:
            try:
                self._wait(self.client.create_index(uid, {"primaryKey": "id"}))
            except SearchUnavailable as exc:
                if "index_already_exists" not in str(exc):
                    raise
            self._wait(self.client.index(uid).update_settings(settings))
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc

    def _drop(self, uid: str) -> None:
        try:
            self._wait(self.client.delete_index(uid))
        except SearchUnavailable as exc:
            if "index_not_found" not in str(exc):
                raise
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc

    def ensure_settings(self) -> None:
        """Create both indexes and apply the settings kept in search_settings (once per instance)."""
        if self._settings_applied:
            return
        self._create(self.passages_uid, PASSAGE_SETTINGS)
        self._create(self.episodes_uid, EPISODE_SETTINGS)
        self._settings_applied = True

    def replace_episode(self, episode_id: int, passages: list[Passage], entry: EpisodeEntry | None = None) -> None:
        """Make the indexes hold exactly these passages and this entry for the episode."""
        self.ensure_settings()
        passages_index = self.client.index(self.passages_uid)
        episodes_index = self.client.index(self.episodes_uid)
        try:
            self._wait(passages_index.delete_documents(filter=f"episode_id = {int(episode_id)}"))
            if passages:
                for batch in _batches((passage_document(p) for p in passages), BATCH):
                    self._wait(passages_index.add_documents(batch, primary_key="id"))
            if entry is None:
                self._wait(episodes_index.delete_document(f"e{int(episode_id)}"))
            else:
                self._wait(episodes_index.add_documents([episode_document(entry)], primary_key="id"))
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc

    def delete_episode(self, episode_id: int) -> None:
        """Remove every passage and the entry of the episode."""
        self.replace_episode(episode_id, [], None)

    def rebuild(self, episodes: Iterable[tuple[list[Passage], EpisodeEntry | None]]) -> int:
        """Build fresh indexes beside the live ones, then swap them in atomically; returns passages added.

        Searches keep hitting the old indexes until the swap task, which Meilisearch
        applies in one step; the old data ends in the *-next indexes, then deleted.
        """
        self.ensure_settings()
        next_p, next_e = f"{self.passages_uid}-next", f"{self.episodes_uid}-next"
        for uid in (next_p, next_e):
            self._drop(uid)
        self._create(next_p, PASSAGE_SETTINGS)
        self._create(next_e, EPISODE_SETTINGS)
        added = 0
        entries: list[dict[str, Any]] = []
        tasks = []
        try:
            pending: list[dict[str, Any]] = []
            for passages, entry in episodes:
                pending.extend(passage_document(p) for p in passages)
                if entry is not None:
                    entries.append(episode_document(entry))
                if len(pending) >= BATCH:
                    tasks.append(self.client.index(next_p).add_documents(pending, primary_key="id"))
                    added += len(pending)
                    pending = []
            if pending:
                tasks.append(self.client.index(next_p).add_documents(pending, primary_key="id"))
                added += len(pending)
            for batch in _batches(entries, BATCH):
                tasks.append(self.client.index(next_e).add_documents(batch, primary_key="id"))
            # Enqueue everything first, then wait: Meilisearch batches queued additions.
            for task in tasks:
                self._wait(task, REBUILD_TIMEOUT_MS, interval_ms=250)
            self._wait(
                self.client.swap_indexes(
                    [
                        {"indexes": [self.passages_uid, next_p]},
                        {"indexes": [self.episodes_uid, next_e]},
                    ]
                )
            )
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
        for uid in (next_p, next_e):
            self._drop(uid)
        return added

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        filters: Filters | None = None,
        distinct: bool = False,
        facets: bool = False,
    ) -> SearchPage:
        """Passages matching the query, highlighted safely; `distinct` keeps the best one per episode."""
        self.ensure_settings()
        params: dict[str, Any] = {
            "limit": max(1, min(limit, MAX_LIMIT)),
            "offset": max(0, min(offset, MAX_OFFSET)),
            "attributesToHighlight": ["text"],
            "attributesToCrop": ["text"],
            "cropLength": 40,
            "highlightPreTag": HL_PRE,
            "highlightPostTag": HL_POST,
        }
        expressions = filters.expressions() if filters else []
        if expressions:
            params["filter"] = expressions
        if distinct:
            params["distinct"] = "episode_id"
        if facets:
            params["facets"] = FACETS
        raw = self._query(self.passages_uid, query, params)
        hits = [_hit(h) for h in raw["hits"]]
        total = int(raw.get("estimatedTotalHits", raw.get("totalHits", len(hits))))
        facet_counts = {
            name: {str(k): int(v) for k, v in values.items()}
            for name, values in (raw.get("facetDistribution") or {}).items()
        }
        return SearchPage(query, hits, total, int(raw.get("processingTimeMs", 0)), facet_counts)

    def search_episodes(self, query: str, *, limit: int = 10, filters: Filters | None = None) -> list[EpisodeHit]:
        """Episodes whose title, guests, show or description hold every word of the query, highlighted safely."""
        self.ensure_settings()
        params: dict[str, Any] = {
            "limit": max(1, min(limit, MAX_LIMIT)),
            # Every word: this list sits beside the passages, so a partial match is noise there.
            "matchingStrategy": "all",
            "attributesToHighlight": ["title", "guests", "description"],
            "attributesToCrop": ["description"],
            "cropLength": 30,
            "highlightPreTag": HL_PRE,
            "highlightPostTag": HL_POST,
        }
        expressions = filters.expressions(speaker_field="guests") if filters else []
        if expressions:
            params["filter"] = expressions
        raw = self._query(self.episodes_uid, query, params)
        return [episode_hit(h) for h in raw["hits"]]

    def _query(self, uid: str, query: str, params: dict[str, Any]) -> dict[str, Any]:
        """One search of one index, with the query normalised (elisions, apostrophes)."""
        try:
            return dict(self.client.index(uid).search(normalise_query(query), params))
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc

    def document_count(self) -> int:
        """How many passages the index holds."""
        try:
            return int(self.client.index(self.passages_uid).get_stats().number_of_documents)
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc

    def passage_ids(self) -> set[str]:
        """Every passage id in the index (for checks that the index mirrors the database)."""
        ids: set[str] = set()
        offset = 0
        try:
            while True:
                page = self.client.index(self.passages_uid).get_documents(
                    {"fields": ["id"], "limit": 1000, "offset": offset}
                )
                ids.update(d.id for d in page.results)
                if len(page.results) < 1000:
                    return ids
                offset += 1000
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc

    def ping(self) -> None:
        """Raise SearchUnavailable unless Meilisearch answers its health check."""
        try:
            self.client.health()
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
