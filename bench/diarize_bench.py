"""Cost of speaker turns: diarization time as a share of transcription time on the same audio, and memory.

Not a test: run it by hand, e.g. `.venv/bin/python bench/diarize_bench.py --threads 2 --repeat 3`.
The audio is bench/transcribe_bench.py's long file (its real speech clips joined, ~4 min
MP3). In one process, like the transcription worker: the Whisper engine (transcribe.engine,
base, the project's default options) transcribes it, then the diarizer (the CAM++ model
from `./dev setup`) finds its turns with that transcript and the labels go on its words;
repeated --repeat times, the first run also loading both models. It prints each phase
(decode, VAD, embeddings, clustering, labels), the share diarization / transcription
(wall and CPU seconds; goal <= 15 %), and peak resident memory: of this process after
transcribing and after diarizing, and of a fresh process that only diarizes.
"""

from __future__ import annotations

import argparse
import json
import os
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
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def peak_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Clock:
    """Wall and CPU seconds (all threads of the process) of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def phases(diarizer: Any, audio: Path, transcript: Any) -> dict[str, float]:
    """The diarizer's steps one by one (the same calls diarize() makes), CPU seconds each."""
    import numpy as np

    from transcribe.clustering import cluster
    from transcribe.diarize import _near_words, decode, speech_regions, speech_windows

    out: dict[str, float] = {}
    with Clock() as c:
        samples = decode(audio)
    out["decode"] = c.cpu
    with Clock() as c:
        regions = _near_words(speech_regions(samples, diarizer.options), transcript, diarizer.options.word_margin)
    out["vad"] = c.cpu
    windows = speech_windows(regions, diarizer.options)
    with Clock() as c:
        vectors = diarizer.embedder.embed(samples, windows)
    out["embed"] = c.cpu
    with Clock() as c:
        cluster(vectors, threshold=diarizer.options.threshold, weights=np.array([e - s for s, e in windows]))
    out["cluster"] = c.cpu
    out["windows"] = len(windows)
    out["speech_s"] = sum(e - s for s, e in regions)
    return out


def run_worker(audio: Path, args: argparse.Namespace) -> None:
    """Transcribe then diarize, --repeat times, in this process; prints one JSON line per run."""
    from transcribe.diarize import Diarizer
    from transcribe.engine import Engine, EngineOptions
    from transcribe.speakers import assign_speakers
    from transcribe.voice_model import VoiceEmbedder

    with Clock() as load:
        engine = Engine(EngineOptions(model=args.model, threads=args.threads), Path(args.cache))
        diarizer = Diarizer(VoiceEmbedder(threads=args.threads))
        diarizer.embedder.load()
    for n in range(args.repeat):
        with Clock() as tr:
            transcript = engine.transcribe(audio, language=args.language)
        after_transcription = peak_mb()
        with Clock() as di:
            found = diarizer.diarize(audio, transcript=transcript)
        with Clock() as la:
            labelled = assign_speakers(transcript, found.turns)
        result = {
            "run": n,
            "load_s": load.wall if n == 0 else 0.0,
            "duration_s": transcript.duration,
            "transcribe_s": tr.wall,
            "transcribe_cpu_s": tr.cpu,
            "diarize_s": di.wall,
            "diarize_cpu_s": di.cpu,
            "label_s": la.wall,
            "voices": len(found.voices),
            "segments": [len(transcript.segments), len(labelled.segments)],
            "peak_after_transcription_mb": after_transcription,
            "peak_after_diarization_mb": peak_mb(),
            **phases(diarizer, audio, transcript),
        }
        print(json.dumps(result), flush=True)


def run_diarize_only(audio: Path, args: argparse.Namespace) -> None:
    """A fresh process that only diarizes (no transcript): its own peak memory."""
    from transcribe.diarize import Diarizer
    from transcribe.voice_model import VoiceEmbedder

    with Clock() as c:
        found = Diarizer(VoiceEmbedder(threads=args.threads)).diarize(audio)
    print(json.dumps({"diarize_s": c.wall, "voices": len(found.voices), "peak_mb": peak_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--language", default="fr")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--mode", choices=["worker", "diarize"], help=argparse.SUPPRESS)
    parser.add_argument("--audio", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        (run_worker if args.mode == "worker" else run_diarize_only)(Path(args.audio), args)
        return

    from transcribe_bench import _duration, make_long_file

    from transcribe.models import resolve_model

    with tempfile.TemporaryDirectory(prefix="podarchive-diarize-bench-") as tmp:
        work = Path(tmp)
        audio = make_long_file(work)
        cache = work / "cache"
        cache.mkdir()
        resolve_model(args.model, cache)  # join packaged weights once, outside the timings
        print(
            f"audio: {_duration(audio):.1f} s of real speech, Whisper {args.model} (project defaults), "
            f"threads {args.threads or os.cpu_count()}, language {args.language}"
        )
        common = ["--audio", str(audio), "--cache", str(cache), "--model", args.model]
        common += ["--threads", str(args.threads), "--language", args.language, "--repeat", str(args.repeat)]
        worker = subprocess.run(
            [sys.executable, __file__, "--mode", "worker", *common], capture_output=True, text=True, check=True
        )
        runs = [json.loads(line) for line in worker.stdout.splitlines() if line.startswith("{")]
        only = subprocess.run(
            [sys.executable, __file__, "--mode", "diarize", *common], capture_output=True, text=True, check=True
        )
        alone = json.loads(only.stdout.strip().splitlines()[-1])
    for r in runs:
        share = r["diarize_s"] / r["transcribe_s"]
        print(
            f"run {r['run']}: transcribe {r['transcribe_s']:.1f} s ({r['transcribe_cpu_s']:.1f} CPU s), "
            f"diarize {r['diarize_s']:.2f} s ({r['diarize_cpu_s']:.1f} CPU s) = {share:.1%} "
            f"(CPU {r['diarize_cpu_s'] / r['transcribe_cpu_s']:.1%}); labels {r['label_s'] * 1000:.0f} ms; "
            f"{r['voices']} voices, segments {r['segments'][0]} -> {r['segments'][1]}"
        )
        print(
            f"       phases, CPU s: decode {r['decode']:.2f}, VAD {r['vad']:.2f}, embeddings {r['embed']:.2f} "
            f"({r['windows']} windows over {r['speech_s']:.0f} s of speech), clustering {r['cluster']:.2f}"
        )
    shares = [r["diarize_s"] / r["transcribe_s"] for r in runs]
    cpu_shares = [r["diarize_cpu_s"] / r["transcribe_cpu_s"] for r in runs]
    print(
        f"diarization / transcription: median {statistics.median(shares):.1%} wall, "
        f"{statistics.median(cpu_shares):.1%} CPU (goal <= 15 %)"
    )
    last = runs[-1]
    print(
        f"peak RSS of the worker: {last['peak_after_transcription_mb']:.0f} MB after transcribing, "
        f"{last['peak_after_diarization_mb']:.0f} MB after diarizing; a process that only diarizes: "
        f"{alone['peak_mb']:.0f} MB ({alone['diarize_s']:.1f} s, {alone['voices']} voices); models loaded in "
        f"{runs[0]['load_s']:.1f} s"
    )


if __name__ == "__main__":
    main()
