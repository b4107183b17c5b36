"""Speech recognition with faster-whisper: one loaded model, audio file in, Transcript out."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel, decode_audio

from transcribe.errors import ModelNotFound, TranscriptionError
from transcribe.languages import ChunkLanguage, SwitchingPipeline
from transcribe.models import packaged_models, resolve_model
from transcribe.options import EngineOptions, Progress
from transcribe.passages import NO_SPACE_LANGUAGES, split_segments
from transcribe.quality import suspicions
from transcribe.result import Segment, Transcript, Word

SAMPLE_RATE = 16000
# Whisper's window; batched decoding without VAD needs clips no longer than this.
_CHUNK_SECONDS = 30
# Speech runs about 3-5 tokens a second; twice that bounds a re-run window's text.
_TOKENS_PER_SECOND = 10
# Batched VAD: split speech at pauses this long (faster-whisper's sequential default; its
# batched default of 160 ms cut and re-merged chunks so that base lost utterances).
_SPLIT_SILENCE_MS = 2000
# Safer decoding for a suspect window: every temperature Whisper's fallback knows.
_FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


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
        # Sequential mode (batch_size <= 1) keeps one language per episode: faster-whisper
        # decodes 30 s windows there, without a per-chunk encoder output to detect on.
        self._batched = (
            SwitchingPipeline(self._model, options.switch_languages if self.multilingual else ())
            if options.batch_size > 1
            else None
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
            raise TranscriptionError(f"model {self.options.model!r} is English-only; cannot transcribe {language!r}")
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
        switches: Mapping[int, ChunkLanguage] = {}
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
                if self.options.vad:
                    kwargs["vad_parameters"] = {
                        "min_silence_duration_ms": _SPLIT_SILENCE_MS,
                        "max_speech_duration_s": self.options.chunk_seconds,
                    }
                raw, info = self._batched.transcribe(
                    audio,
                    batch_size=self.options.batch_size,
                    without_timestamps=False,
                    chunk_length=self.options.chunk_seconds,
                    **kwargs,
                )
                # Filled batch by batch as _collect consumes the lazy segments.
                switches = self._batched.switches
            else:
                raw, info = self._model.transcribe(audio, condition_on_previous_text=False, **kwargs)
            segments = _collect(raw, info.language, duration, progress, switches)
            reruns = 0
            if self.options.rerun_suspect:
                segments, reruns = self.repair(audio, segments, info.language)
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
            reruns=reruns,
            prompt=initial_prompt or hotwords or None,
        )

    def repair(self, audio: np.ndarray, segments: list[Segment], language: str) -> tuple[list[Segment], int]:
        """Re-decode the windows of suspect segments without conditioning, with temperature fallback.

        Each window is decoded in its segment's language (the episode's `language` when it
        has none). The new text replaces the window's; what was suspected stays in each
        segment's flags and rerun=True. Text still judged to be over silence is dropped.
        """
        out: list[Segment] = []
        reruns = 0
        for seg in segments:
            flags = suspicions(seg)
            if not flags:
                out.append(seg)
                continue
            reruns += 1
            seg_language = seg.language or language
            start = max(int(seg.start * SAMPLE_RATE), 0)
            end = min(int(np.ceil(seg.end * SAMPLE_RATE)), len(audio))
            seconds = (end - start) / SAMPLE_RATE
            raw, _ = self._model.transcribe(
                audio[start:end],
                language=seg_language,
                task="transcribe",
                beam_size=self.options.beam_size,
                word_timestamps=True,
                condition_on_previous_text=False,
                temperature=_FALLBACK_TEMPERATURES,
                vad_filter=False,
                # A looping attempt runs to Whisper's 448-token cap at every temperature;
                # real speech needs far fewer (measured on a 16 s loop window: 15.4 s -> 7.4 s).
                max_new_tokens=min(int(_TOKENS_PER_SECOND * seconds) + 16, 440),
            )
            offset = start / SAMPLE_RATE
            for new in _collect(raw, seg_language, (end - start) / SAMPLE_RATE, None):
                if "silence" in suspicions(new):
                    continue
                out.append(_shifted(new, offset, ",".join(flags)))
        return out, reruns


def _shifted(seg: Segment, offset: float, flags: str) -> Segment:
    """A re-run window's segment moved back to episode time and marked as re-run."""
    words = tuple(Word(w.start + offset, w.end + offset, w.text, w.probability) for w in seg.words)
    return Segment(
        start=seg.start + offset,
        end=seg.end + offset,
        text=seg.text,
        words=words,
        avg_logprob=seg.avg_logprob,
        no_speech_prob=seg.no_speech_prob,
        compression_ratio=seg.compression_ratio,
        language=seg.language,
        flags=flags,
        rerun=True,
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
    raw: Iterable[Any],
    language: str,
    duration: float,
    progress: Progress | None,
    switches: Mapping[int, ChunkLanguage] | None = None,
) -> list[Segment]:
    """Consume faster-whisper's lazy segment generator into our Segments.

    A segment takes the language of its chunk when the chunk was switched (`switches`,
    keyed by the seek faster-whisper gives every segment of a chunk), else `language`.
    """
    segments: list[Segment] = []
    for seg in raw:
        switched = switches.get(seg.seek) if switches else None
        seg_language = switched.language if switched else language
        words = _words(seg.words or (), seg_language)
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
                    language=seg_language,
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
            words.append(Word(prev.start, float(w.end), prev.text + text, min(prev.probability, float(w.probability))))
        else:
            words.append(Word(float(w.start), float(w.end), text, float(w.probability)))
    return tuple(words)
