"""Benchmark the search index against bare Meilisearch (not a test).

    .venv/bin/python bench/search_bench.py [--n 100000] [--queries 200]

Indexes N synthetic passages built from the real French and English test texts,
once through SearchIndex.rebuild (what `podarchive reindex` runs) and once as a
bare bulk add of the same documents with the same settings, then times searches
through SearchIndex.search against the bare client query with the same parameters,
with and without filters.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import meilisearch  # noqa: E402

from archive.config import load_settings  # noqa: E402
from archive.search import BATCH, HL_POST, HL_PRE, Filters, Passage, SearchIndex, passage_document  # noqa: E402
from archive.search.index_settings import PASSAGE_SETTINGS  # noqa: E402
from archive.search.server import LocalMeili  # noqa: E402
from tests.search_corpus import english_corpus, french_corpus  # noqa: E402

QUERIES = [
    "etats unis",
    "l'accident",
    "rugissment du tigre",
    "17 personnes",
    "reconfigurateur moleculaire",
    "milliardaire",
    "s’évader",
    "software architects",
    "resilient systms",
    "seront ils",
]
SHOWS = ["Le Magazine", "Entrevues", "InfoQ", "La Matinale", "Tech Talk"]


def synthetic_passages(n: int, per_episode: int = 100, seed: int = 7) -> list[Passage]:
    """N passages of 25-60 words, cut from a shuffled stream of the real sentences."""
    rng = random.Random(seed)
    fr, en = french_corpus(), english_corpus()
    out = []
    for i in range(n):
        episode, position = divmod(i, per_episode)
        pool = fr if episode % 3 else en
        words: list[str] = []
        target = rng.randint(25, 60)
        while len(words) < target:
            words.extend(rng.choice(pool).split())
        published = datetime(2015 + episode % 11, 1 + episode % 12, 1, tzinfo=UTC)
        out.append(
            Passage(
                episode_id=episode + 1,
                feed_id=episode % 5 + 1,
                position=position,
                start=position * 12.0,
                end=position * 12.0 + 11.5,
                text=" ".join(words[:target]),
                speaker=rng.choice(["Host", "Guest", None]),
                language="fr" if episode % 3 else "en",
                published=published,
                episode_title=f"Episode {episode + 1}",
                feed_title=SHOWS[episode % 5],
            )
        )
    return out


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="searches per measured case")
    args = parser.parse_args()

    passages = synthetic_passages(args.n)
    by_episode: dict[int, list[Passage]] = {}
    for p in passages:
        by_episode.setdefault(p.episode_id, []).append(p)
    docs = [passage_document(p) for p in passages]

    with tempfile.TemporaryDirectory() as tmp:
        local = LocalMeili(load_settings(environ={}, data_dir=Path(tmp)))
        endpoint = local.ensure_running()
        try:
            client = meilisearch.Client(endpoint.url, endpoint.key, timeout=60)

            # Bare bulk add: same settings applied first, same batch size, wait for all.
            t0 = time.perf_counter()
            client.wait_for_task(client.create_index("bare", {"primaryKey": "id"}).task_uid)
            client.wait_for_task(client.index("bare").update_settings(PASSAGE_SETTINGS).task_uid)
            tasks = [
                client.index("bare").add_documents(docs[i : i + BATCH], primary_key="id")
                for i in range(0, len(docs), BATCH)
            ]
            for t in tasks:
                done = client.wait_for_task(t.task_uid, timeout_in_ms=3_600_000, interval_in_ms=50)
                assert done.status == "succeeded", done.error
            bare_s = time.perf_counter() - t0

            index = SearchIndex(endpoint, "bench")
            t0 = time.perf_counter()
            added = index.rebuild((ps, None) for ps in by_episode.values())
            ours_s = time.perf_counter() - t0
            assert added == len(docs) == index.document_count()

            print(f"passages: {len(docs)}")
            print(f"index  bare bulk add      {len(docs) / bare_s:9.0f} docs/s  ({bare_s:.1f} s)")
            print(
                f"index  SearchIndex.rebuild {len(docs) / ours_s:9.0f} docs/s  ({ours_s:.1f} s)"
                f"  ratio {bare_s / ours_s:.2f}x of bare"
            )

            bare_params = {
                "limit": 20,
                "attributesToHighlight": ["text"],
                "attributesToCrop": ["text"],
                "cropLength": 40,
                "highlightPreTag": HL_PRE,
                "highlightPostTag": HL_POST,
            }
            filters = Filters(show="Le Magazine", year=2019, language="fr")
            cases = {
                "no filter": (None, None),
                "filters": (filters, filters.expressions()),
            }
            for name, (ours_filter, bare_filter) in cases.items():
                ours_ms, bare_ms = [], []
                for i in range(args.queries):
                    q = QUERIES[i % len(QUERIES)]
                    t0 = time.perf_counter()
                    index.search(q, limit=20, filters=ours_filter)
                    ours_ms.append((time.perf_counter() - t0) * 1000)
                    params = dict(bare_params, **({"filter": bare_filter} if bare_filter else {}))
                    t0 = time.perf_counter()
                    client.index(index.passages_uid).search(q, params)
                    bare_ms.append((time.perf_counter() - t0) * 1000)
                print(
                    f"search {name:9}  SearchIndex p50 {statistics.median(ours_ms):6.2f} ms"
                    f"  p95 {percentile(ours_ms, 95):6.2f} ms"
                    f" | bare p50 {statistics.median(bare_ms):6.2f} ms  p95 {percentile(bare_ms, 95):6.2f} ms"
                    f" | p95 ratio {percentile(ours_ms, 95) / percentile(bare_ms, 95):.2f}x"
                )
        finally:
            local.stop()


if __name__ == "__main__":
    main()
