"""The search index in Meilisearch: documents, settings, queries by words and meaning, the local server. Derived.

`SearchIndex` (and `BATCH`) load the Meilisearch client on first use: a command that only
reads the database (`status`) starts without it and its pydantic models (about 0.1 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archive.search.documents import (
    HL_POST,
    HL_PRE,
    MAX_OFFSET,
    EpisodeEntry,
    EpisodeHit,
    Filters,
    Hit,
    Passage,
    SearchPage,
    episode_document,
    normalise_query,
    passage_document,
    quote_filter,
    safe_highlight,
    strip_sentinels,
)
from archive.search.embedder import Embedder, EmbedderUnavailable, load_embedder, passage_contexts, text_hash
from archive.search.errors import SearchUnavailable

if TYPE_CHECKING:
    from archive.search.index import BATCH, SearchIndex

_LAZY = frozenset({"BATCH", "SearchIndex"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from archive.search import index

        return getattr(index, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BATCH",
    "Embedder",
    "EmbedderUnavailable",
    "HL_POST",
    "HL_PRE",
    "MAX_OFFSET",
    "EpisodeEntry",
    "EpisodeHit",
    "Filters",
    "Hit",
    "Passage",
    "SearchIndex",
    "SearchPage",
    "SearchUnavailable",
    "episode_document",
    "load_embedder",
    "normalise_query",
    "passage_contexts",
    "passage_document",
    "quote_filter",
    "safe_highlight",
    "strip_sentinels",
    "text_hash",
]
