"""The search index: the only module that talks to Meilisearch. Derived from the database."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchError

from archive.meili import Endpoint

# Private-use characters as highlight tags: Meilisearch inserts them into raw
# text; we escape everything, then turn only these into <mark>. Document text
# has them stripped, so a feed cannot forge a highlight.
HL_PRE = "\ue000"
HL_POST = "\ue001"
_SENTINELS = re.compile(f"[{HL_PRE}{HL_POST}]")

PASSAGE_SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["text"],
    "displayedAttributes": ["*"],
    "filterableAttributes": ["episode_id", "feed_id", "language", "year", "speaker"],
    "sortableAttributes": ["published", "start"],
    "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness", "published:desc"],
}
TASK_TIMEOUT_MS = 120_000


class SearchUnavailable(Exception):
    """Meilisearch cannot be reached or refused the operation."""


@dataclass(frozen=True)
class Passage:
    """One searchable stretch of a transcript."""

    episode_id: int
    feed_id: int
    position: int
    start: float
    end: float
    text: str
    speaker: str | None
    language: str | None
    published: datetime | None
    episode_title: str
    feed_title: str


@dataclass(frozen=True)
class Hit:
    """A search result; `html` is escaped text with <mark> around the matched words."""

    episode_id: int
    position: int
    start: float
    end: float
    html: str
    episode_title: str
    feed_title: str
    published: int | None


@dataclass(frozen=True)
class SearchPage:
    """One page of hits and the estimated total."""

    query: str
    hits: list[Hit]
    total: int
    processing_ms: int


def strip_sentinels(text: str) -> str:
    """Remove the highlight sentinels from text before it is indexed.

    >>> strip_sentinels("a\\ue000b\\ue001c")
    'abc'
    """
    return _SENTINELS.sub("", text)


def safe_highlight(formatted: str) -> str:
    """Escape Meilisearch's formatted text, then turn the sentinels into <mark> tags.

    >>> safe_highlight("<b>\\ue000x\\ue001</b> & 'y'")
    '&lt;b&gt;<mark>x</mark>&lt;/b&gt; &amp; &#x27;y&#x27;'
    """
    escaped = html.escape(formatted, quote=True)
    return escaped.replace(HL_PRE, "<mark>").replace(HL_POST, "</mark>")


def passage_document(p: Passage) -> dict[str, Any]:
    """The Meilisearch document for a passage; ids use only letters, digits, - and _."""
    return {
        "id": f"e{p.episode_id}-{p.position}",
        "episode_id": p.episode_id,
        "feed_id": p.feed_id,
        "position": p.position,
        "start": round(p.start, 2),
        "end": round(p.end, 2),
        "text": strip_sentinels(p.text),
        "speaker": p.speaker,
        "language": p.language,
        "published": int(p.published.timestamp()) if p.published else None,
        "year": p.published.year if p.published else None,
        "episode_title": strip_sentinels(p.episode_title),
        "feed_title": strip_sentinels(p.feed_title),
    }


class SearchIndex:
    """Passage index operations; every write waits for its task and checks it succeeded."""

    def __init__(self, endpoint: Endpoint, prefix: str) -> None:
        self.client = meilisearch.Client(endpoint.url, endpoint.key, timeout=15)
        self.passages_uid = f"{prefix}-passages"
        self._settings_applied = False

    def _wait(self, task: Any) -> None:
        try:
            done = self.client.wait_for_task(task.task_uid, timeout_in_ms=TASK_TIMEOUT_MS)
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(f"waiting for task {task.task_uid}: {exc}") from exc
        if done.status != "succeeded":
            raise SearchUnavailable(f"meilisearch task {task.task_uid} {done.status}: {done.error}")

    def ensure_settings(self) -> None:
        """Create the index and apply the settings kept in this module (once per instance)."""
        if self._settings_applied:
            return
        try:
            index = self.client.index(self.passages_uid)
            self._wait(self.client.create_index(self.passages_uid, {"primaryKey": "id"}))
        except SearchUnavailable as exc:
            if "index_already_exists" not in str(exc):
                raise
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
        try:
            self._wait(index.update_settings(PASSAGE_SETTINGS))
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
        self._settings_applied = True

    def replace_episode(self, episode_id: int, passages: list[Passage]) -> None:
        """Make the index hold exactly these passages for the episode."""
        self.ensure_settings()
        index = self.client.index(self.passages_uid)
        try:
            self._wait(index.delete_documents(filter=f"episode_id = {int(episode_id)}"))
            if passages:
                docs = [passage_document(p) for p in passages]
                self._wait(index.add_documents(docs, primary_key="id"))
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc

    def delete_episode(self, episode_id: int) -> None:
        """Remove every passage of the episode."""
        self.replace_episode(episode_id, [])

    def search(self, query: str, *, limit: int = 20, offset: int = 0, filters: list[str] | None = None) -> SearchPage:
        """Passages matching the query, highlighted safely."""
        self.ensure_settings()
        params: dict[str, Any] = {
            "limit": max(1, min(limit, 100)),
            "offset": max(0, min(offset, 1000)),
            "attributesToHighlight": ["text"],
            "attributesToCrop": ["text"],
            "cropLength": 40,
            "highlightPreTag": HL_PRE,
            "highlightPostTag": HL_POST,
        }
        if filters:
            params["filter"] = filters
        try:
            raw = self.client.index(self.passages_uid).search(query, params)
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
        hits = [
            Hit(
                episode_id=int(h["episode_id"]),
                position=int(h["position"]),
                start=float(h["start"]),
                end=float(h["end"]),
                html=safe_highlight(h.get("_formatted", {}).get("text", h["text"])),
                episode_title=h.get("episode_title", ""),
                feed_title=h.get("feed_title", ""),
                published=h.get("published"),
            )
            for h in raw["hits"]
        ]
        total = int(raw.get("estimatedTotalHits", raw.get("totalHits", len(hits))))
        return SearchPage(query, hits, total, int(raw.get("processingTimeMs", 0)))

    def document_count(self) -> int:
        """How many passages the index holds."""
        try:
            return int(self.client.index(self.passages_uid).get_stats().number_of_documents)
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
