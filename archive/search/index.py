"""The search index: the only module that talks to Meilisearch. Derived from the database."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

import meilisearch
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchError

from archive.search import hybrid
from archive.search.documents import (
    HL_POST,
    HL_PRE,
    MAX_LIMIT,
    MAX_OFFSET,
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
from archive.search.embedder import Embedder, EmbedderUnavailable, Vector
from archive.search.errors import SearchUnavailable
from archive.search.index_settings import EPISODE_SETTINGS, PASSAGE_SETTINGS
from archive.search.server import Endpoint

log = logging.getLogger("podarchive.search")

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

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

TASK_TIMEOUT_MS = 120_000
# A rebuild enqueues everything, and Meilisearch folds the queue into one batch: at 1M
# passages on one indexing thread that batch runs for many minutes, not seconds.
REBUILD_TIMEOUT_MS = 6 * 3600 * 1000
FACETS = ["show", "year", "language"]
BATCH = 10_000
# Keyword halves in flight at once per process (each search has one, for a few milliseconds).
KEYWORD_THREADS = 4
# A hit found by meaning alone has no highlight to crop around: its first words.
MEANING_CROP_WORDS = 40


def _hit(h: dict[str, Any], found: hybrid.Found = "words") -> Hit:
    formatted = h.get("_formatted") or {}
    text = formatted.get("text")
    if text is None:
        words = str(h.get("text", "")).split()
        text = " ".join(words[:MEANING_CROP_WORDS]) + (" …" if len(words) > MEANING_CROP_WORDS else "")
    following = formatted.get("next_text") or ""
    return Hit(
        episode_id=int(h["episode_id"]),
        position=int(h["position"]),
        start=float(h["start"]),
        end=float(h["end"]),
        html=safe_highlight(text),
        episode_title=h.get("episode_title", ""),
        feed_title=h.get("feed_title", ""),
        published=h.get("published"),
        speaker=h.get("speaker"),
        language=h.get("language"),
        found=found,
        # Shown only when the match runs on into the next passage's words.
        next_html=safe_highlight(following) if HL_PRE in following else "",
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


def _reconnecting(method: Callable[Concatenate[SearchIndex, P], T]) -> Callable[Concatenate[SearchIndex, P], T]:
    """Once more on a new connection when the server could not be reached and has moved since."""

    @wraps(method)
    def wrapper(self: SearchIndex, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except SearchUnavailable as exc:
            if not self.reconnect(exc):
                raise
        return method(self, *args, **kwargs)

    return wrapper


class SearchIndex:
    """Passage and episode indexes; every write waits for its task and checks it succeeded.

    `find` says where the server answers now: the local server restarts on a new random
    port (its state file says which), and a long-lived site must follow it there.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        prefix: str,
        find: Callable[[], Endpoint | None] | None = None,
        *,
        embedder: Embedder | None = None,
        floor: float = hybrid.MEANING_FLOOR,
        timeout: int = 15,
    ) -> None:
        self.passages_uid = f"{prefix}-passages"
        self.episodes_uid = f"{prefix}-episodes"
        self._find = find
        # Search by meaning: the query's embedder (None: words only) and the relevance floor.
        self.embedder = embedder
        self.floor = floor
        self._pool: tuple[int, ThreadPoolExecutor] | None = None
        self.timeout = timeout
        self._connect(endpoint)

    def _connect(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.client = meilisearch.Client(endpoint.url, endpoint.key, timeout=self.timeout)
        # A restarted server may have lost its indexes: create them again before the next use.
        self._settings_applied = False

    def _settings(self, base: dict[str, Any]) -> dict[str, Any]:
        """An index's settings, with the userProvided embedder when the archive has a model.

        Without one the `embedders` key is left out, so the settings update keeps whatever
        the index had: a model that fails to load never drops the stored vectors.
        """
        if self.embedder is None:
            return base
        try:
            dimensions = self.embedder.dimensions
        except EmbedderUnavailable as exc:
            log.warning("index settings without the embedder: %s", exc)
            return base
        return base | {"embedders": hybrid.embedder_settings(dimensions)}

    def reconnect(self, failure: SearchUnavailable) -> bool:
        """After a connection failure: connect to where the server answers now; False if nowhere new."""
        if self._find is None or not isinstance(failure.__cause__, MeilisearchCommunicationError):
            return False
        found = self._find()
        if found is None or (found.url, found.key) == (self.endpoint.url, self.endpoint.key):
            return False
        log.info("meilisearch moved from %s to %s: reconnected", self.endpoint.url, found.url)
        self._connect(found)
        return True

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
        """Create both indexes and apply the settings kept in index_settings (once per instance)."""
        if self._settings_applied:
            return
        self._create(self.passages_uid, self._settings(PASSAGE_SETTINGS))
        self._create(self.episodes_uid, self._settings(EPISODE_SETTINGS))
        self._settings_applied = True

    @_reconnecting
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
        self._create(next_p, self._settings(PASSAGE_SETTINGS))
        self._create(next_e, self._settings(EPISODE_SETTINGS))
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

    @_reconnecting
    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        filters: Filters | None = None,
        distinct: bool = False,
        facets: bool = False,
        meaning: bool = True,
        words: bool = True,
    ) -> SearchPage:
        """Passages matching the query by their words and, unless `meaning` is False, by their meaning.

        Highlights, facets and the total come from the keyword search; `distinct` keeps the
        best passage per episode. SearchPage.meaning says whether meaning took part, and why not.
        `words=False` (with meaning on) keeps only the hits found by meaning (alone or with their
        words), nearest first; their total is what the meaning half found in the window asked for.
        When meaning cannot take part, the page is the search by words, and SearchPage.meaning says so.
        """
        if not any(ch.isalnum() for ch in query):
            # "?!" or blanks: Meilisearch would run a placeholder search and list every passage.
            return SearchPage(query, [], 0, 0, {}, "skipped", nothing_to_search=True)
        self.ensure_settings()
        limit = max(1, min(limit, MAX_LIMIT))
        offset = max(0, min(offset, MAX_OFFSET))
        params: dict[str, Any] = {
            "attributesToHighlight": ["text", "next_text"],
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
        if self.embedder is None or not meaning:
            raw = self._query(self.passages_uid, query, params | {"limit": limit, "offset": offset})
            hits = [_hit(h) for h in raw["hits"]]
            took = int(raw.get("processingTimeMs", 0))
            state = "disabled" if self.embedder is None else "off"
            return SearchPage(query, hits, _total(raw, len(hits)), took, _facets(raw), state)
        return self._hybrid(query, params, limit, offset, distinct, words)

    def _query_vector(self, query: str) -> tuple[str, Vector | None]:
        """(meaning state, the query's vector or None): the model loads here, on the first search by meaning."""
        assert self.embedder is not None
        try:
            vector = self.embedder.embed_query(query)
        except EmbedderUnavailable as exc:
            log.warning("search by words only: %s", exc)
            return "unavailable", None
        return ("skipped", None) if vector is None else ("on", vector)

    def _background(self) -> ThreadPoolExecutor:
        """The threads that run the keyword half while the query is embedded (one pool per process:
        a pool inherited through fork has no threads behind it)."""
        if self._pool is None or self._pool[0] != os.getpid():
            self._pool = (os.getpid(), ThreadPoolExecutor(max_workers=KEYWORD_THREADS, thread_name_prefix="keyword"))
        return self._pool[1]

    def _one_search(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.client.multi_search([body])["results"][0])

    def _keyword_half(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._one_search(body)
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc

    def _hybrid(
        self, query: str, params: dict[str, Any], limit: int, offset: int, distinct: bool, words: bool
    ) -> SearchPage:
        """Words and meaning, merged (archive.search.hybrid).

        The keyword half runs in a background thread while the query is embedded here, then
        the meaning half goes out: a search takes about the longer of the keyword search and
        the embedding plus the search by meaning, not their sum (bench/meaning_bench.py).
        When meaning cannot take part (no model, a query with nothing to embed, an index
        that refuses the meaning half), the page is the keyword half's.
        """
        # Both lists from the top: the merged order of a later page depends on every hit above it.
        window = params | {"limit": offset + limit, "offset": 0}
        pending = self._background().submit(
            self._keyword_half, hybrid.keyword_query(self.passages_uid, normalise_query(query), window)
        )
        by_meaning: dict[str, Any] | None = None
        try:
            state, vector = self._query_vector(query)
            if vector is not None:
                try:
                    by_meaning = self._one_search(hybrid.meaning_query(self.passages_uid, vector, window))
                except MeilisearchApiError as exc:
                    log.warning("search by words only: the index refused the query by meaning: %s", exc)
                    state = "unavailable"
                except (MeilisearchError, OSError) as exc:
                    raise SearchUnavailable(str(exc)) from exc
        finally:
            # Wait for the keyword half whatever happened here: no request outlives its search.
            keyword = pending.result()
        if by_meaning is None:
            hits = [_hit(h) for h in keyword["hits"][offset : offset + limit]]
            took = int(keyword.get("processingTimeMs", 0))
            return SearchPage(query, hits, _total(keyword, len(hits)), took, _facets(keyword), state)
        merged = hybrid.merge(
            keyword["hits"],
            by_meaning["hits"],
            floor=self.floor,
            limit=len(keyword["hits"]) + len(by_meaning["hits"]),
        )
        if distinct:
            # Each list is distinct by episode, but one episode may be in both with two passages.
            firsts: dict[int, hybrid.MergedHit] = {}
            for m in merged:
                firsts.setdefault(int(m.hit["episode_id"]), m)
            merged = list(firsts.values())
        only_meaning = sum(1 for m in merged if m.found == "meaning")
        total = _total(keyword, len(keyword["hits"])) + only_meaning
        if not words:
            # By meaning alone: what the meaning half found above the floor, nearest first.
            merged = sorted(
                (m for m in merged if m.found != "words"), key=lambda m: m.meaning_score or 0.0, reverse=True
            )
            total = len(merged)
        hits = [_hit(m.hit, m.found) for m in merged[offset : offset + limit]]
        took = int(keyword.get("processingTimeMs", 0)) + int(by_meaning.get("processingTimeMs", 0))
        return SearchPage(query, hits, total, took, _facets(keyword), "on")

    @_reconnecting
    def related_episodes(self, episode_id: int, *, limit: int = 5) -> list[EpisodeHit]:
        """Episodes whose passages lie closest in meaning to this one's (the nearest mean vectors).

        Only what the index holds (what readers may see); [] without a model or a vector yet.
        """
        hits = self._similar(self.episodes_uid, f"e{int(episode_id)}", None, limit, hybrid.RELATED_FLOOR)
        return [episode_hit(h) for h in hits]

    @_reconnecting
    def similar_passages(self, episode_id: int, position: int, *, limit: int = 10) -> tuple[Hit | None, list[Hit]]:
        """A passage as the index holds it and the passages of other episodes closest to it in meaning.

        (None, []) when the index holds no such passage (not public, or gone).
        """
        self.ensure_settings()
        doc_id = f"e{int(episode_id)}-{int(position)}"
        try:
            source = dict(self.client.http.get(f"indexes/{self.passages_uid}/documents/{doc_id}"))
        except MeilisearchApiError:
            return None, []
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
        others = f"episode_id != {int(episode_id)}"
        hits = self._similar(self.passages_uid, doc_id, others, limit, hybrid.SIMILAR_FLOOR)
        return _hit(source), [_hit(h, "meaning") for h in hits]

    def _similar(self, uid: str, doc_id: str, filter_: str | None, limit: int, floor: float) -> list[dict[str, Any]]:
        """Meilisearch's /similar for a document by the meaning embedder, above a floor."""
        if self.embedder is None:
            return []
        self.ensure_settings()
        body: dict[str, Any] = {
            "id": doc_id,
            "embedder": hybrid.EMBEDDER,
            "limit": max(1, min(limit, MAX_LIMIT)),
            # The floor is applied below, not as rankingScoreThreshold: with one, Meilisearch
            # scans the whole vector store when the nearest hits fall under it (hybrid.py).
            "showRankingScore": True,
        }
        if filter_:
            body["filter"] = filter_
        try:
            hits = self.client.index(uid).get_similar_documents(body)["hits"]
        except MeilisearchApiError as exc:
            # An unknown document, or an index without the embedder yet: nothing is similar.
            log.info("no similar documents for %s: %s", doc_id, exc.code)
            return []
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
        # Documents without a vector come back too, scored 0 (measured).
        return [h for h in hits if float(h.get("_rankingScore", 0.0)) >= floor]

    @_reconnecting
    def search_episodes(self, query: str, *, limit: int = 10, filters: Filters | None = None) -> list[EpisodeHit]:
        """Episodes whose title, guests, show or description hold every word of the query, highlighted safely."""
        if not any(ch.isalnum() for ch in query):
            return []
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

    @_reconnecting
    def vector_count(self) -> int:
        """How many passages of the index hold a vector for search by meaning."""
        try:
            raw = self.client.http.get(f"indexes/{self.passages_uid}/stats")
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
        return int(raw.get("numberOfEmbeddedDocuments", 0))

    @_reconnecting
    def document_count(self) -> int:
        """How many passages the index holds."""
        try:
            return int(self.client.index(self.passages_uid).get_stats().number_of_documents)
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc

    @_reconnecting
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

    @_reconnecting
    def ping(self) -> None:
        """Raise SearchUnavailable unless Meilisearch answers its health check."""
        try:
            self.client.health()
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc


def _total(raw: dict[str, Any], fallback: int) -> int:
    return int(raw.get("estimatedTotalHits", raw.get("totalHits", fallback)))


def _facets(raw: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {
        name: {str(k): int(v) for k, v in values.items()}
        for name, values in (raw.get("facetDistribution") or {}).items()
    }
