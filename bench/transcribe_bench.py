"""Bare faster-whisper vs the podarchive transcribe stage on the same long real-speech file.

Not a test: run it by hand, e.g. `.venv/bin/python bench/transcribe_bench.py --model base`.
It joins the repository's real speech clips (~4 min) into one MP3 with ffmpeg in a temp
directory, then runs, each in its own process (once, or --repeat N rounds):

  bare       WhisperModel + BatchedInferencePipeline (or .transcribe when --batch-size 0),
             the same options the engine uses, segments consumed;
  pipeline   an archive in a temp data dir: the episode's stored audio through
             transcribe_episodes (child-process executor, model load, store, outbox),
             with the default settings: suspect windows repaired (transcribe.repair),
             then speaker turns found in the worker (transcribe.speaker_step);
  whisper    the same without speaker turns (PODARCHIVE_SPEAKERS=false): transcription
             alone, what the bare call does plus the repair;
  no-repair  transcription alone without the repair (PODARCHIVE_RERUN_SUSPECT=false too).

Whole-run times start before the faster-whisper import: the pipeline's child is a
fresh interpreter that imports it too. The pipeline's time is split into starting the
child and loading the model there (`warm`) and the stage itself; the stage's stored
seconds_taken is then transcription alone. The pipeline runs without per-chunk language
switching unless --switch-languages is given: the bare call has none, and on this file
(English clips decoded as French) switching changes the decoding itself; without it
base loops on three English windows, which the pipeline repairs.

It prints seconds (with and without model loading), x real time, CPU seconds, the ratio
bare / pipeline with and without the repair (with --repeat N, the median of N rounds,
alternating the order), the windows repaired and peak resident memory of each process.
Goals (transcription alone): CPU seconds >= 0.9 with the repair, >= 0.95 without. The
speaker turns have their own budget, measured by bench/diarize_bench.py (<= 15 %).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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
# The three runs of a round (module docstring).
SIDES = ("bare", "pipeline", "whisper", "no-repair")


def make_long_file(dest: Path) -> Path:
    """Join the clips (with 0.8 s of silence between) into one 64 kb/s mono MP3."""
    inputs: list[str] = []
    parts = []
    for n, clip in enumerate(CLIPS):
        inputs += ["-i", str(ROOT / clip)]
        parts.append(f"[{n}:a]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur=0.8[a{n}]")
    chain = (
        ";".join(parts) + ";" + "".join(f"[a{n}]" for n in range(len(CLIPS))) + f"concat=n={len(CLIPS)}:v=0:a=1[out]"
    )
    out = dest / "long-speech.mp3"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            *inputs,
            "-filter_complex",
            chain,
            "-map",
            "[out]",
            "-ac",
            "1",
            "-b:a",
            "64k",
            str(out),
        ],
        check=True,
    )
    return out


def peak_mb() -> dict[str, float]:
    """Peak RSS of this process and of its waited-for children, MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(own, 1), "children_mb": round(kids, 1)}


def run_bare(audio: Path, args: argparse.Namespace) -> dict[str, object]:
    """The bare library call, with the options transcribe.engine passes."""
    started = time.perf_counter()
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    from transcribe.engine import _SPLIT_SILENCE_MS, EngineOptions
    from transcribe.models import resolve_model

    model = WhisperModel(
        resolve_model(args.model, Path(args.cache)),
        device="cpu",
        compute_type="int8",
        cpu_threads=args.threads or os.cpu_count() or 1,
    )
    loaded = time.perf_counter()
    samples = decode_audio(str(audio), sampling_rate=16000)
    common = dict(
        language=args.language, task="transcribe", beam_size=args.beam_size, word_timestamps=True, vad_filter=True
    )
    if args.batch_size > 1:
        chunk = EngineOptions().chunk_seconds
        segments, _ = BatchedInferencePipeline(model=model).transcribe(
            samples,
            batch_size=args.batch_size,
            without_timestamps=False,
            chunk_length=chunk,
            vad_parameters={"min_silence_duration_ms": _SPLIT_SILENCE_MS, "max_speech_duration_s": chunk},
            **common,
        )
    else:
        segments, _ = model.transcribe(samples, condition_on_previous_text=False, **common)
    text = " ".join(s.text.strip() for s in segments)
    done = time.perf_counter()
    return {
        "total_s": done - started,
        "load_s": loaded - started,
        "transcribe_s": done - loaded,
        "chars": len(text),
        **peak_mb(),
    }


def run_pipeline(audio: Path, args: argparse.Namespace) -> dict[str, object]:
    """The same file as a stored episode through the transcribe stage (executor + store)."""
    from archive import store
    from archive.config import load_settings
    from archive.context import Archive
    from archive.ingest import transcribe_episodes
    from archive.ingest.executor import LocalProcessExecutor, make_executor
    from archive.store.schema import Episode

    data = Path(args.workdir) / "data"
    settings = load_settings(
        environ={},
        data_dir=data,
        model=args.model,
        threads=args.threads,
        batch_size=args.batch_size,
        beam_size=args.beam_size,
        device="cpu",
        compute_type="int8",
        rerun_suspect=not args.no_rerun,
        speakers=not args.no_speakers,
        switch_languages=args.switch_languages,
    )
    archive = Archive(settings)
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(audio, settings.audio_dir / "1.mp3")
    with archive.db.session() as s:
        feed = store.add_feed(s, "https://example.org/feed.xml", args.language)
        episode = Episode(feed_id=feed.id, guid="bench", title="bench")
        s.add(episode)
        s.flush()
        store.save_audio(
            s,
            episode,
            path="1.mp3",
            content_type="audio/mpeg",
            size=audio.stat().st_size,
            sha256="-",
            duration=_duration(audio),
        )
    # The model cache (joined packaged weights) is shared with the bare run: no join in the timing.
    (data / "cache").parent.mkdir(parents=True, exist_ok=True)
    if not (data / "cache").exists():
        (data / "cache").symlink_to(Path(args.cache).resolve())
    started = time.perf_counter()
    executor = make_executor(settings)
    assert isinstance(executor, LocalProcessExecutor)  # no Dask scheduler in these settings
    executor.warm()  # spawn the child, import faster-whisper there, load the model
    warmed = time.perf_counter()
    try:
        report = transcribe_episodes(archive, executor=executor)
    finally:
        executor.close()
    done = time.perf_counter()
    with archive.db.session() as s:
        transcript = store.newest_transcript(s, 1)
        taken = transcript.seconds_taken if transcript else None
        chars = sum(len(x.text) for x in transcript.segments) if transcript else 0
        reruns = transcript.reruns if transcript else 0
    return {
        "total_s": done - started,
        "load_s": warmed - started,
        "stage_s": done - warmed,
        "transcribe_s": taken,
        "done": report.done,
        "chars": chars,
        "reruns": reruns,
        **peak_mb(),
    }


def _duration(audio: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(audio)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--language", default="fr")
    parser.add_argument(
        "--switch-languages",
        default="",
        help="pipeline's PODARCHIVE_SWITCH_LANGUAGES (default none, like the bare call)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of the three runs, alternating the order; ratios are medians"
    )
    parser.add_argument("--mode", choices=["bare", "pipeline"], help=argparse.SUPPRESS)
    parser.add_argument("--no-rerun", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-speakers", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--audio", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        runner = run_bare if args.mode == "bare" else run_pipeline
        print(json.dumps(runner(Path(args.audio), args)))
        return

    with tempfile.TemporaryDirectory(prefix="podarchive-bench-") as tmp:
        work = Path(tmp)
        audio = make_long_file(work)
        duration = _duration(audio)
        cache = work / "cache"
        cache.mkdir()
        from transcribe.models import resolve_model

        resolve_model(args.model, cache)  # join packaged weights once, outside both timings
        print(
            f"audio: {duration:.1f} s ({len(CLIPS)} real speech clips), model {args.model}, "
            f"batch {args.batch_size}, beam {args.beam_size}, threads {args.threads or os.cpu_count()}, "
            f"pipeline switch languages {args.switch_languages or 'none'}"
        )
        rounds = []
        for n in range(args.repeat):
            results = {}
            # Alternate the order: load from other work on the machine drifts.
            for side in SIDES if n % 2 == 0 else SIDES[::-1]:
                results[side] = _run_mode(side, audio, cache, work / f"{side}-{n}", args)
            rounds.append(results)
            for side in SIDES:
                r = results[side]
                stage = f" (store and stage {r['stage_s'] - r['transcribe_s']:.1f} s)" if "stage_s" in r else ""
                print(
                    f"{side:9s} total {r['total_s']:.1f} s ({duration / r['total_s']:.1f}x real time), "
                    f"imports + model load {r['load_s']:.1f} s, transcribe {r['transcribe_s']:.1f} s{stage}, "
                    f"CPU {r['cpu_s']:.1f} s, chars {r['chars']}, windows repaired {r.get('reruns', '-')}, "
                    f"peak RSS self {r['self_mb']:.0f} MB, children {r['children_mb']:.0f} MB"
                )
        for side, label, goal in (
            ("pipeline", "defaults (repair, speakers)", None),
            ("whisper", "transcription with repair", 0.9),
            ("no-repair", "transcription without repair", 0.95),
        ):
            for what, key in (
                ("whole run", "total_s"),
                ("transcription only", "transcribe_s"),
                ("CPU seconds", "cpu_s"),
            ):
                ratios = sorted(r["bare"][key] / r[side][key] for r in rounds)
                print(
                    f"ratio bare/pipeline, {label + ', ' + what + ':':42s} median {statistics.median(ratios):.3f} "
                    f"of {' '.join(f'{x:.3f}' for x in ratios)}"
                    + (f"  (goal >= {goal})" if key == "cpu_s" and goal else "")
                )
        for side in ("pipeline", "whisper"):
            repaired = [int(r[side]["reruns"]) for r in rounds]
            print(f"windows repaired ({side}): {' '.join(map(str, repaired))}")


def _run_mode(side: str, audio: Path, cache: Path, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One side in its own process; adds the CPU seconds of that process and its children."""
    cmd = [
        sys.executable,
        __file__,
        "--mode",
        "bare" if side == "bare" else "pipeline",
        "--audio",
        str(audio),
        "--cache",
        str(cache),
        "--workdir",
        str(workdir),
        "--model",
        args.model,
        "--batch-size",
        str(args.batch_size),
        "--beam-size",
        str(args.beam_size),
        "--threads",
        str(args.threads),
        "--language",
        args.language,
        "--switch-languages",
        args.switch_languages,
        *(["--no-rerun"] if side == "no-repair" else []),
        *(["--no-speakers"] if side in ("whisper", "no-repair") else []),
    ]
    workdir.mkdir()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"the {side} run failed:\n{out.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    # CPU time hardly moves with other load on the machine; wall time does (±30 % here).
    result["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


if __name__ == "__main__":
    main()
