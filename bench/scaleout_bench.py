"""The transcribe stage with 1 and with 2 workers on the same backlog: local processes and a Dask LocalCluster.

Not a test: run it by hand, e.g. `.venv/bin/python bench/scaleout_bench.py --model base`.
The backlog is every real speech file in the repository (the demo's three MP3s and the
clips in tests/data/audio: 12 episodes, 212 s; --copies N for more), one episode each,
stored in a fresh archive for every run. Each run is its own process and times the
whole stage: starting the workers and loading the model there (`warm`), then
transcribe_episodes until the last transcript is stored. Runs:

  local  1 worker x 1 thread, 2 workers x 1 thread (PODARCHIVE_TRANSCRIBE_WORKERS=1 or 2,
         PODARCHIVE_THREADS=1 or 2: each worker gets threads / N), and 1 worker x 2 threads
         (the same two cores given to one decoder instead: what the default does);
  dask   a LocalCluster of 1 or 2 single-threaded worker processes on loopback (started
         before the clock; the workers load the model in `warm`), PODARCHIVE_THREADS=1.

Rounds alternate the order of the runs (load from other work on the machine drifts).
Each round first measures the machine's ceiling: how much more a busy loop gets done in
2 processes than in 1 (2.0 on two real cores; a virtual machine whose two CPUs share
one core's time gives 1.0). It prints each run (seconds, x real time, CPU seconds, how
busy the stage kept its workers, the load average before it) and,
for each executor, `speed-up 2 workers / 1 worker: X`: the median over rounds of the
1-worker time over the 2-worker time of the same round.

The backlog is taken longest first (the stage takes the newest episode first; the bench
dates them so): with N workers the stage ends when its last job does, so one long
episode left for the end would keep one worker busy alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CLIPS = [
    "archive/demo/entretien-montagne.mp3",
    "archive/demo/ask-not.mp3",
    "archive/demo/rugissement-du-tigre.mp3",
    *(f"tests/data/audio/fleurs-fr-00{i}.ogg" for i in range(5)),
    *(f"tests/data/audio/fleurs-en-00{i}.ogg" for i in range(3)),
    "tests/data/audio/jfk.flac",
]
# (executor, workers, threads per worker)
RUNS = [("local", 1, 1), ("local", 2, 1), ("local", 1, 2), ("dask", 1, 1), ("dask", 2, 1)]


def duration_of(audio: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(audio)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    """One run, in this process: a fresh archive holding the backlog, the stage with these workers."""
    from archive import store
    from archive.config import load_settings
    from archive.context import Archive
    from archive.ingest import transcribe_episodes
    from archive.ingest.executor import make_executor
    from archive.store.schema import Episode

    backlog: list[dict[str, Any]] = json.loads(Path(args.backlog).read_text())
    data = Path(args.workdir) / "data"
    data.mkdir(parents=True)
    # The joined weights are shared by every run: no join inside the timing.
    (data / "cache").symlink_to(Path(args.cache).resolve())
    common: dict[str, Any] = {
        "environ": {},
        "data_dir": data,
        "model": args.model,
        "device": "cpu",
        "compute_type": "int8",
    }
    cluster = None
    if args.executor == "dask":
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        settings = load_settings(**common, dask_scheduler=cluster.scheduler_address, threads=args.threads)
    else:
        # Each local worker gets threads / N: N x the per-worker threads in all.
        settings = load_settings(**common, transcribe_workers=args.workers, threads=args.threads * args.workers)
    archive = Archive(settings)
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    newest = datetime(2026, 11, 1, tzinfo=UTC)
    with archive.db.session() as s:
        feed = store.add_feed(s, "https://example.org/feed.xml", "fr")
        # Longest first: the stage takes the newest first, so the longest is dated newest.
        for n, item in enumerate(sorted(backlog, key=lambda i: -i["duration"])):
            source = Path(item["path"])
            name = f"{n}{source.suffix}"
            shutil.copyfile(source, settings.audio_dir / name)
            episode = Episode(
                feed_id=feed.id,
                guid=f"bench-{n}",
                title=f"{n} {source.name}",
                language=item["language"],
                published_at=newest - timedelta(hours=n),
            )
            s.add(episode)
            s.flush()
            store.save_audio(
                s,
                episode,
                path=name,
                content_type="audio/mpeg",
                size=source.stat().st_size,
                sha256="-",
                duration=item["duration"],
            )
    load = os.getloadavg()[0]
    started = time.perf_counter()
    executor = make_executor(settings)
    watched = _Watched(executor)
    try:
        executor.warm()
        warmed = time.perf_counter()
        report = transcribe_episodes(archive, executor=watched)
        done = time.perf_counter()
    finally:
        executor.close()
        if cluster is not None:
            cluster.close()
    return {
        "total_s": done - started,
        "warm_s": warmed - started,
        "stage_s": done - warmed,
        "done": report.done,
        "failed": report.failed,
        "load": load,
        # Worker-recorded job time over N x the stage's time: whether the stage kept N busy.
        "busy": sum(r.finished - r.started for r in watched.results) / (args.workers * (done - warmed)),
    }


class _Watched:
    """The real executor; keeps the JobResults it hands to the stage (their times, recorded by the workers)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.results: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def collect(self, wait: float, progress: Any) -> Any:
        finished = self.inner.collect(wait, progress)
        self.results += [f.result for f in finished if f.result is not None]
        return finished


def _spin(n: int = 20_000_000) -> None:
    x = 0
    for i in range(n):
        x += i


def parallel_capacity() -> float:
    """How much more CPU work 2 processes get done at once than 1 on this machine now (2.0: two real cores).

    A busy loop in 1, then 2 processes, then 1, then 2: twice the median 1-process time
    over the median 2-process time. The ceiling of any 2-worker speed-up measured now.
    """
    import multiprocessing

    times: dict[int, list[float]] = {1: [], 2: []}
    for k in (1, 2, 1, 2):
        procs = [multiprocessing.Process(target=_spin) for _ in range(k)]
        started = time.perf_counter()
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        times[k].append(time.perf_counter() - started)
    return 2 * statistics.median(times[1]) / statistics.median(times[2])


def _run(
    spec: tuple[str, int, int], backlog: Path, cache: Path, workdir: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """One run in its own process; adds the CPU seconds of it and its children (workers included)."""
    executor, workers, threads = spec
    cmd = [
        sys.executable,
        __file__,
        "--mode=run",
        f"--executor={executor}",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--backlog={backlog}",
        f"--cache={cache}",
        f"--workdir={workdir}",
        f"--model={args.model}",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"run {spec} failed:\n{out.stderr[-4000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of all runs, alternating their order")
    parser.add_argument("--copies", type=int, default=1, help="episodes per speech file in the backlog")
    parser.add_argument(
        "--executors", default="local,dask", help="which executors to run (comma-separated: local, dask)"
    )
    parser.add_argument("--mode", choices=["run"], help=argparse.SUPPRESS)
    parser.add_argument("--executor", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--backlog", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_one(args)))
        return

    wanted = set(args.executors.split(","))
    runs = [spec for spec in RUNS if spec[0] in wanted]
    with tempfile.TemporaryDirectory(prefix="podarchive-scaleout-") as tmp:
        work = Path(tmp)
        items = [
            {"path": str(ROOT / clip), "duration": duration_of(ROOT / clip), "language": _language(clip, args.model)}
            for clip in CLIPS
            for _ in range(args.copies)
        ]
        audio = sum(i["duration"] for i in items)
        backlog = work / "backlog.json"
        backlog.write_text(json.dumps(items))
        cache = work / "cache"
        cache.mkdir()
        from transcribe.models import resolve_model

        resolve_model(args.model, cache)  # join packaged weights once, outside every timing
        print(
            f"backlog: {len(items)} episodes, {audio:.0f} s of real speech, model {args.model}; "
            f"{os.cpu_count()} CPUs; load average now {os.getloadavg()[0]:.2f}"
        )
        results: dict[tuple[str, int, int], list[dict[str, Any]]] = {spec: [] for spec in runs}
        capacity: list[float] = []
        for n in range(args.rounds):
            capacity.append(parallel_capacity())
            print(
                f"round {n + 1}: 2 busy processes do {capacity[-1]:.2f}x the work of 1 on this machine now "
                f"(load average {os.getloadavg()[0]:.2f})",
                flush=True,
            )
            for spec in runs if n % 2 == 0 else list(reversed(runs)):
                r = _run(spec, backlog, cache, work / f"run-{n}-{'-'.join(map(str, spec))}", args)
                results[spec].append(r)
                executor, workers, threads = spec
                print(
                    f"round {n + 1} {executor:5s} {workers} worker(s) x {threads} thread(s): "
                    f"total {r['total_s']:6.1f} s ({audio / r['total_s']:4.1f}x real time), "
                    f"warm {r['warm_s']:4.1f} s, stage {r['stage_s']:6.1f} s, CPU {r['cpu_s']:6.1f} s, "
                    f"workers busy {r['busy']:.0%}, {r['done']} done {r['failed']} failed, "
                    f"load average before {r['load']:.2f}",
                    flush=True,
                )
        for executor in ("local", "dask"):
            _speed_up(
                "speed-up 2 workers / 1 worker", executor, results.get((executor, 1, 1)), results.get((executor, 2, 1))
            )
        one_by_two = results.get(("local", 1, 2))
        _speed_up("1 worker x 2 threads / 1 worker x 1 thread", "local", results.get(("local", 1, 1)), one_by_two)
        _speed_up("2 workers x 1 thread / 1 worker x 2 threads", "local", one_by_two, results.get(("local", 2, 1)))
        print(
            f"ceiling: 2 busy processes did {statistics.median(capacity):.2f}x the work of 1 "
            f"(median of rounds {' '.join(f'{c:.2f}' for c in capacity)}); load average after: {os.getloadavg()[0]:.2f}"
        )


def _speed_up(label: str, executor: str, slow: list[dict[str, Any]] | None, fast: list[dict[str, Any]] | None) -> None:
    """Median over rounds of the ratio of the same round's times (whole run, and the stage after warm-up)."""
    if not slow or not fast:
        return
    whole = sorted(a["total_s"] / b["total_s"] for a, b in zip(slow, fast, strict=True))
    stage = sorted(a["stage_s"] / b["stage_s"] for a, b in zip(slow, fast, strict=True))
    print(
        f"{label}: {statistics.median(whole):.2f} ({executor}; rounds {' '.join(f'{x:.2f}' for x in whole)}; "
        f"the stage after warm-up alone {statistics.median(stage):.2f})"
    )


def _language(clip: str, model: str) -> str:
    """The clip's language; English throughout for an English-only model (tiny.en), which refuses French."""
    english = model.endswith(".en") or "-en-" in clip or "jfk" in clip or "ask-not" in clip
    return "en" if english else "fr"


if __name__ == "__main__":
    main()
