"""Speech recognition with faster-whisper: one loaded model, audio file in, Transcript out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

from transcribe.errors import ModelNotFound, TranscriptionError
from transcribe.models import packaged_models, resolve_model
from transcribe.passages import NO_SPACE_LANGUAGES, split_segments
from transcribe.result import Segment, Transcript, Word

SAMPLE_RATE = 16000
# Whisper's window; batched decoding without VAD needs clips no longer than this.
_CHUNK_SECONDS = 30

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


class Engine:
    """A loaded Whisper model that transcribes audio files."""

    def __init__(self, options: EngineOptions, cache_dir: Path) -> None:
        """Resolve and load the model once; raise ModelNotFound if it cannot be."""
        self.options = options
        device = options.device
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        compute_type = options.compute_type
        if compute_type == "auto":
            compute_type = "float16" if device == "cuda" else "int8"
        self.device, self.compute_type = device, compute_type
        self.model_path = resolve_model(options.model, cache_dir)
        try:
            self._model = WhisperModel(
                self.model_path,
                device=device,
                compute_type=compute_type,
                cpu_threads=options.threads or os.cpu_count() or 1,
                download_root=str(cache_dir / "hub"),
            )
        except Exception as exc:  # huggingface_hub, ctranslate2 and OS errors all end here
            available = ", ".join(n for n, ok in packaged_models().items() if ok) or "none"
            reason = str(exc).rstrip(".")
            raise ModelNotFound(
                f"cannot load Whisper model {options.model!r} ({self.model_path}) on "
                f"{device}/{compute_type}: {reason}. Packaged models installed: {available}"
            ) from exc
        self.multilingual: bool = self._model.model.is_multilingual
        self._batched = (
            BatchedInferencePipeline(model=self._model) if options.batch_size > 1 else None
        )

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        initial_prompt: str | None = None,
        hotwords: str | None = None,
        progress: Progress | None = None,
    ) -> Transcript:
        """Transcribe one audio file in its own language (forced when `language` is given)."""
        if language and language != "en" and not self.multilingual:
            # faster-whisper would silently decode French as English gibberish.
            raise TranscriptionError(
                f"model {self.options.model!r} is English-only; cannot transcribe {language!r}"
            )
        audio = _decode(audio_path)
        duration = len(audio) / SAMPLE_RATE
        kwargs: dict[str, Any] = dict(
            language=language or None,
            task="transcribe",
            beam_size=self.options.beam_size,
            word_timestamps=True,
            vad_filter=self.options.vad,
            initial_prompt=initial_prompt or None,
            hotwords=hotwords or None,
        )
        try:
            if self._batched is not None:
                if not self.options.vad:
                    # Without VAD the batched pipeline refuses audio over 30 s; give it windows.
                    kwargs["clip_timestamps"] = [
                        {"start": s, "end": min(s + _CHUNK_SECONDS, duration)}
                        for s in range(0, int(np.ceil(duration)), _CHUNK_SECONDS)
                    ]
                # Timestamp tokens keep the decoder going past the first sentence of a
                # VAD chunk: without them, batched base dropped whole utterances of the
                # demo podcast (measured: 3 of 11 clips lost).
                raw, info = self._batched.transcribe(
                    audio, batch_size=self.options.batch_size, without_timestamps=False, **kwargs
                )
            else:
                raw, info = self._model.transcribe(
                    audio, condition_on_previous_text=False, **kwargs
                )
            segments = _collect(raw, info.language, duration, progress)
        except TranscriptionError:
            raise
        except Exception as exc:  # ctranslate2 / numpy failures mid-decode
            raise TranscriptionError(f"transcription of {audio_path} failed: {exc}") from exc
        if progress:
            progress(duration, duration)
        return Transcript(
            language=info.language,
            segments=split_segments(segments),
            duration=duration,
            model=self.options.model,
            origin="asr",
            language_probability=float(info.language_probability),
        )


def _decode(audio_path: Path) -> np.ndarray:
    """Decode to 16 kHz mono float32; corrupt, empty or non-audio files raise."""
    try:
        audio = decode_audio(str(audio_path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises many types (InvalidDataError, EOFError, ...)
        raise TranscriptionError(f"cannot decode audio {audio_path}: {exc}") from exc
    if not isinstance(audio, np.ndarray) or audio.size == 0:
        raise TranscriptionError(f"audio {audio_path} decodes to zero duration")
    return audio


def _collect(
    raw: Iterable[Any], language: str, duration: float, progress: Progress | None
) -> list[Segment]:
    """Consume faster-whisper's lazy segment generator into our Segments."""
    segments: list[Segment] = []
    for seg in raw:
        words = _words(seg.words or (), language)
        text = seg.text.strip()
        if text:
            segments.append(
                Segment(
                    start=float(seg.start),
                    end=float(seg.end),
                    text=text,
                    words=words,
                    avg_logprob=float(seg.avg_logprob),
                    no_speech_prob=float(seg.no_speech_prob),
                    compression_ratio=float(seg.compression_ratio),
                    language=language,
                )
            )
        if progress:
            progress(min(float(seg.end), duration), duration)
    return segments


def _words(raw: Iterable[Any], language: str) -> tuple[Word, ...]:
    """Stripped words; pieces Whisper split inside a written word are joined back."""
    words: list[Word] = []
    for w in raw:
        text = w.word.strip()
        if not text:
            continue
        # Whisper splits French "L'accident" into " L" + "'accident"; a piece without a
        # leading space continues the previous word, so words join back with single spaces.
        if words and not w.word[:1].isspace() and language not in NO_SPACE_LANGUAGES:
            prev = words.pop()
            words.append(Word(prev.start, float(w.end), prev.text + text,
                              min(prev.probability, float(w.probability))))
        else:
            words.append(Word(float(w.start), float(w.end), text, float(w.probability)))
    return tuple(words)
