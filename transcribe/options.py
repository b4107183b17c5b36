"""How to load and run the Whisper model: plain options, importable without loading faster-whisper."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class EngineOptions:
    """How to load and run the Whisper model."""

    model: str = "base"
    device: str = "auto"
    compute_type: str = "auto"
    threads: int = 0
    batch_size: int = 8
    beam_size: int = 5
    vad: bool = True
    # Batched mode merges VAD speech into chunks up to this long. At 30 s (with the
    # batched pipeline's 160 ms silence split) base skipped whole utterances, e.g. the
    # first 10 s of the demo entretien-montagne.mp3; 15 s chunks split at 2 s pauses keep
    # them: long-form WER fr 35 -> 28 %, en 31 -> 17 %, same speed (docs/transcription.md).
    chunk_seconds: int = 15
    # Decode windows that look hallucinated (transcribe.quality) again, with loops barred
    # (transcribe.repair); in batched mode inside each batch, from its encoder output.
    rerun_suspect: bool = True
    # Batched mode: a chunk detected (transcribe.languages) as one of these, other than
    # the episode's language, is decoded and labelled in it; () keeps the episode's.
    switch_languages: tuple[str, ...] = ("en", "fr")
