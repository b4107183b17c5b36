"""Bare faster-whisper vs the podarchive transcribe stage on the same long real-speech file.

Not a test: run it by hand, e.g. `.venv/bin/python bench/transcribe_bench.py --model base`.
It joins the repository's real speech clips (~4 min) into one MP3 with ffmpeg in a temp
directory, then runs, each in its own process and once:

  bare      WhisperModel + BatchedInferencePipeline (or .transcribe when --batch-size 0),
            the same options the engine uses, segments consumed;
  pipeline  an archive in a temp data dir: the episode's stored audio through
            transcribe_episodes (child-process executor, model load, store, outbox).

It prints seconds (with and without model loading), x real time, the ratio
bare / pipeline (goal >= 0.95) and peak resident memory of each process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CLIPS = [
    "archive/demo/entretien-montagne.mp3", "archive/demo/ask-not.mp3", "archive/demo/rugissement-du-tigre.mp3",
    *(f"tests/data/audio/fleurs-fr-00{i}.ogg" for i in range(5)),
    *(f"tests/data/audio/fleurs-en-00{i}.ogg" for i in range(3)),
    "tests/data/audio/jfk.flac",
]


def make_long_file(dest: Path) -> Path:
    """Join the clips (with 0.8 s of silence between) into one 64 kb/s mono MP3."""
    inputs: list[str] = []
    parts = []
    for n, clip in enumerate(CLIPS):
        inputs += ["-i", str(ROOT / clip)]
        parts.append(f"[{n}:a]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur=0.8[a{n}]")
    chain = ";".join(parts) + ";" + "".join(f"[a{n}]" for n in range(len(CLIPS))) + \
        f"concat=n={len(CLIPS)}:v=0:a=1[out]"
    out = dest / "long-speech.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", chain, "-map", "[out]",
                    "-ac", "1", "-b:a", "64k", str(out)], check=True)
    return out


def peak_mb() -> dict[str, float]:
    """Peak RSS of this process and of its waited-for children, MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(own, 1), "children_mb": round(kids, 1)}


def run_bare(audio: Path, args: argparse.Namespace) -> dict[str, object]:
    """The bare library call, with the options transcribe.engine passes."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    from transcribe.engine import _SPLIT_SILENCE_MS, EngineOptions
    from transcribe.models import resolve_model

    started = time.perf_counter()
    model = WhisperModel(resolve_model(args.model, Path(args.cache)), device="cpu", compute_type="int8",
                         cpu_threads=args.threads or os.cpu_count() or 1)
    loaded = time.perf_counter()
    samples = decode_audio(str(audio), sampling_rate=16000)
    common = dict(language=args.language, task="transcribe", beam_size=args.beam_size,
                  word_timestamps=True, vad_filter=True)
    if args.batch_size > 1:
        chunk = EngineOptions().chunk_seconds
        segments, _ = BatchedInferencePipeline(model=model).transcribe(
            samples, batch_size=args.batch_size, without_timestamps=False, chunk_length=chunk,
            vad_parameters={"min_silence_duration_ms": _SPLIT_SILENCE_MS, "max_speech_duration_s": chunk},
            **common)
    else:
        segments, _ = model.transcribe(samples, condition_on_previous_text=False, **common)
    text = " ".join(s.text.strip() for s in segments)
    done = time.perf_counter()
    return {"total_s": done - started, "transcribe_s": done - loaded, "chars": len(text), **peak_mb()}


def run_pipeline(audio: Path, args: argparse.Namespace) -> dict[str, object]:
    """The same file as a stored episode through the transcribe stage (executor + store)."""
    from archive import feed_store, store
    from archive.config import load_settings
    from archive.context import Archive
    from archive.pipeline import transcribe_episodes
    from archive.schema import Episode

    data = Path(args.workdir) / "data"
    settings = load_settings(environ={}, data_dir=data, model=args.model, threads=args.threads,
                             batch_size=args.batch_size, beam_size=args.beam_size,
                             device="cpu", compute_type="int8", rerun_suspect=not args.no_rerun)
    archive = Archive(settings)
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(audio, settings.audio_dir / "1.mp3")
    with archive.db.session() as s:
        feed = feed_store.add_feed(s, "https://example.org/feed.xml", args.language)
        episode = Episode(feed_id=feed.id, guid="bench", title="bench")
        s.add(episode)
        s.flush()
        store.save_audio(s, episode, path="1.mp3", content_type="audio/mpeg", size=audio.stat().st_size,
                         sha256="-", duration=_duration(audio))
    # The model cache (joined packaged weights) is shared with the bare run: no join in the timing.
    (data / "cache").parent.mkdir(parents=True, exist_ok=True)
    if not (data / "cache").exists():
        (data / "cache").symlink_to(Path(args.cache).resolve())
    started = time.perf_counter()
    report = transcribe_episodes(archive)
    done = time.perf_counter()
    with archive.db.session() as s:
        transcript = store.current_transcript(s, 1)
        taken = transcript.seconds_taken if transcript else None
        chars = sum(len(x.text) for x in transcript.segments) if transcript else 0
        reruns = transcript.reruns if transcript else 0
    return {"total_s": done - started, "transcribe_s": taken, "done": report.done, "chars": chars,
            "reruns": reruns, **peak_mb()}


def _duration(audio: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                          str(audio)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--language", default="fr")
    parser.add_argument("--no-rerun", action="store_true",
                        help="pipeline without re-decoding suspect windows (the bare call has none)")
    parser.add_argument("--mode", choices=["bare", "pipeline"], help=argparse.SUPPRESS)
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
        results = {}
        for mode in ("bare", "pipeline"):
            cmd = [sys.executable, __file__, "--mode", mode, "--audio", str(audio), "--cache", str(cache),
                   "--workdir", str(work / mode), "--model", args.model, "--batch-size", str(args.batch_size),
                   "--beam-size", str(args.beam_size), "--threads", str(args.threads),
                   "--language", args.language, *(["--no-rerun"] if args.no_rerun else [])]
            (work / mode).mkdir()
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        bare, pipe = results["bare"], results["pipeline"]
        print(f"audio: {duration:.1f} s ({len(CLIPS)} real speech clips), model {args.model}, "
              f"batch {args.batch_size}, beam {args.beam_size}, threads {args.threads or os.cpu_count()}")
        for mode, r in results.items():
            print(f"{mode:9s} total {r['total_s']:.1f} s ({duration / r['total_s']:.1f}x real time), "
                  f"transcribe {r['transcribe_s']:.1f} s, chars {r['chars']}, reruns {r.get('reruns', '-')}, "
                  f"peak RSS self {r['self_mb']:.0f} MB, children {r['children_mb']:.0f} MB")
        print(f"ratio bare/pipeline, whole run:          {bare['total_s'] / pipe['total_s']:.3f}  (goal >= 0.95)")
        print(f"ratio bare/pipeline, transcription only: {bare['transcribe_s'] / pipe['transcribe_s']:.3f}")


if __name__ == "__main__":
    main()
