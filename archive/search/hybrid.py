"""Search by words and by meaning in Meilisearch 1.21: settings, documents, queries, merge. Pure.

No I/O here: these functions build the JSON that the index sends and read the JSON it gets
back, so the benchmark (bench/hybrid_relevance.py) and the site run the same code.

How a search runs (measured in docs/search.md):

1. two queries on the passage index with the same filters and window: the reader's
   keyword query as today (`keyword_query`), sent from a background thread as the search
   begins, and a query by meaning alone (`meaning_query`: the query's vector and
   `semanticRatio` 1.0), sent once the query is embedded (SearchIndex.search);
2. `merge` drops the hits by meaning under MEANING_FLOOR, interleaves the two lists
   Meilisearch's own way (keyword score x (1 - ratio) against meaning score x ratio) and
   marks each hit `words`, `meaning` or `both`.

The floor is applied here, not sent as `rankingScoreThreshold`: when the threshold drops
the nearest hits, Meilisearch 1.21 goes on through the whole vector store looking for
others (measured: 5 ms without it, 337 ms with it at 5,000 passages, 1.5 s at 10,000), and
what it could return is the same prefix of the nearest hits that `merge` keeps.

Why not Meilisearch's single hybrid query: its `rankingScoreThreshold` applies to the
keyword hits too (a one-word exact match scores 0.92 and was dropped by a floor of 0.925),
so it cannot keep unrelated passages out by meaning without losing keyword hits; and it
says per hit which list a hit came from, never that both found it. A hybrid query sent
without `vector` returns keyword hits only, with no error (measured): `meaning_query`
always carries one.

Meilisearch's similarity for a `userProvided` embedder is (1 + cosine) / 2; MEANING_FLOOR
is in those units (`similarity_from_cosine`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from archive.search.embedder import json_vector

EMBEDDER = "meaning"
# Chosen on tests/data/relevance with bench/hybrid_relevance.py (docs/search.md): none of
# the 30 unrelated queries reaches it (their best was 0.9243), 23 of 43 paraphrase queries
# do; cosine 0.852. Re-measure on a real archive: more passages, higher chance similarity.
MEANING_FLOOR = 0.926
# Keyword top hits stay first (keyword found@1 49/50, as keyword-only) while hits by
# meaning fill the page; at 0.5 keyword found@1 fell to 47/50, at 0.75 to 46/50.
SEMANTIC_RATIO = 0.25

Found = Literal["words", "meaning", "both"]


def similarity_from_cosine(cosine: float) -> float:
    """Meilisearch's vector score for a cosine similarity.

    >>> similarity_from_cosine(0.852)
    0.926
    """
    return round((1.0 + cosine) / 2.0, 6)


# Related interviews: an episode's entry holds the mean of its passage vectors less the
# archive's mean (archive.public.index_documents), so what is compared is what sets an
# episode apart. On the relevance set with its distractors (43 episodes) those cosines had
# a median of -0.04 and a 90th percentile of 0.44, and each episode's nearest neighbours
# on its theme lay at 0.42-0.66: 0.25 keeps them and drops the less-alike-than-most.
RELATED_FLOOR = similarity_from_cosine(0.25)
# "More like this" compares raw passage vectors (both with e5's "passage: " prefix), on
# another scale than queries: passages on one theme in different episodes lay at cosine
# 0.88-0.90, other topics at 0.84-0.88 (docs/search.md). A thin margin, like the floor's.
SIMILAR_FLOOR = similarity_from_cosine(0.88)


def embedder_settings(dimensions: int) -> dict[str, Any]:
    """The `embedders` entry of the passage index settings (vectors come from podarchive)."""
    return {EMBEDDER: {"source": "userProvided", "dimensions": int(dimensions)}}


def vectors_field(vector: npt.NDArray[np.float32] | None) -> dict[str, Any]:
    """The `_vectors` member of a passage document; None: no vector yet (keyword search only).

    >>> vectors_field(np.array([0.5, -0.25], dtype=np.float32))
    {'_vectors': {'meaning': {'embeddings': [0.5, -0.25], 'regenerate': False}}}
    >>> vectors_field(None)
    {'_vectors': {'meaning': None}}
    """
    if vector is None:
        return {"_vectors": {EMBEDDER: None}}
    return {"_vectors": {EMBEDDER: {"embeddings": json_vector(vector), "regenerate": False}}}


def keyword_query(index_uid: str, q: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword half: the index's usual parameters, with ranking scores for the merge."""
    return {"indexUid": index_uid, "q": q, **params, "showRankingScore": True}


def meaning_query(index_uid: str, vector: npt.NDArray[np.float32], params: Mapping[str, Any]) -> dict[str, Any]:
    """The meaning half: the passages nearest to the query's vector (`merge` applies the floor).

    No `q`: with one, Meilisearch also runs the keyword search and appends its hits with
    a weight of 0. No `rankingScoreThreshold`: see above. Highlighting, facets and the
    total stay with the keyword half.
    """
    kept = {k: v for k, v in params.items() if k in ("filter", "limit", "offset", "distinct", "attributesToRetrieve")}
    return {
        "indexUid": index_uid,
        "vector": json_vector(vector),
        "hybrid": {"embedder": EMBEDDER, "semanticRatio": 1.0},
        "showRankingScore": True,
        **kept,
    }


@dataclass(frozen=True)
class MergedHit:
    """A hit of the merged list: the Meilisearch document (keyword one when both found it)."""

    hit: dict[str, Any]
    found: Found
    score: float
    meaning_score: float | None


def merge(
    keyword_hits: Sequence[Mapping[str, Any]],
    meaning_hits: Sequence[Mapping[str, Any]],
    *,
    ratio: float = SEMANTIC_RATIO,
    floor: float = MEANING_FLOOR,
    limit: int = 20,
    key: str = "id",
) -> list[MergedHit]:
    """Both lists as one, best weighted score first, each hit marked words / meaning / both.

    A hit below the floor counts as not found by meaning, whatever the server returned.
    The keyword hit's fields are kept when both found it (it has the highlights).

    >>> kw = [{"id": "a", "_rankingScore": 0.9}, {"id": "b", "_rankingScore": 0.5}]
    >>> mn = [{"id": "c", "_rankingScore": 0.95}, {"id": "b", "_rankingScore": 0.93},
    ...       {"id": "d", "_rankingScore": 0.80}]
    >>> [(m.hit["id"], m.found) for m in merge(kw, mn, ratio=0.5, floor=0.926)]
    [('c', 'meaning'), ('b', 'both'), ('a', 'words')]
    """
    meaning = {
        str(h[key]): (h, float(h.get("_rankingScore", 0.0)))
        for h in meaning_hits
        if float(h.get("_rankingScore", 0.0)) >= floor
    }
    merged: dict[str, MergedHit] = {}
    for h in keyword_hits:
        doc_id = str(h[key])
        words_score = float(h.get("_rankingScore", 0.0)) * (1.0 - ratio)
        found_by_meaning = meaning.get(doc_id)
        if found_by_meaning is None:
            merged[doc_id] = MergedHit(dict(h), "words", words_score, None)
        else:
            sim = found_by_meaning[1]
            merged[doc_id] = MergedHit(dict(h), "both", max(words_score, sim * ratio), sim)
    for doc_id, (h, sim) in meaning.items():
        if doc_id not in merged:
            merged[doc_id] = MergedHit(dict(h), "meaning", sim * ratio, sim)
    ordered = sorted(merged.values(), key=lambda m: m.score, reverse=True)
    return ordered[:limit]


def found_by(hit: Mapping[str, Any]) -> Found:
    """For a hit of Meilisearch's own hybrid query (showRankingScoreDetails): which list it
    came from. It never says `both`: a hit found by both appears once, from either list.

    >>> found_by({"_rankingScoreDetails": {"vectorSort": {"order": 0, "similarity": 0.93}}})
    'meaning'
    >>> found_by({"_rankingScoreDetails": {"words": {"order": 0, "score": 1.0}}})
    'words'
    """
    details = hit.get("_rankingScoreDetails") or {}
    return "meaning" if "vectorSort" in details else "words"
