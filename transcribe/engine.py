"""Speech recognition with faster-whisper: one loaded model, audio file in, Transcript out."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
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
from transcribe.repair import SEED, Repair, RepairingPipeline
from transcribe.result import Segment, Transcript, Word

SAMPLE_RATE = 16000
# Whisper's window; batched decoding without VAD needs clips no longer than this.
_CHUNK_SECONDS = 30
# Re-runs after decoding: windows decoded together, and the shortest worth decoding.
_RERUN_BATCH = 8
_MIN_WINDOW_SECONDS = 0.1
# Batched VAD: split speech at pauses this long (faster-whisper's sequential default; its
# batched default of 160 ms cut and re-merged chunks so that base lost utterances).
_SPLIT_SILENCE_MS = 2000


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
        # Before the first sampled repair: a fresh process repeats its transcripts.
        ctranslate2.set_random_seed(SEED)
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
            SwitchingPipeline(
                self._model,
                options.switch_languages if self.multilingual else (),
                repair_suspect=options.rerun_suspect,
            )
            if options.batch_size > 1
            else None
        )
        # Re-runs after decoding (sequential mode, Engine.repair): suspect windows as clips.
        self._rerun = RepairingPipeline(self._model, redecode_all=True)

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
        repairs: Mapping[int, Repair] = {}
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
                # Filled batch by batch as _collect consumes the lazy segments; suspect
                # windows are decoded again inside each batch (transcribe.repair).
                switches, repairs = self._batched.switches, self._batched.repairs
            else:
                raw, info = self._model.transcribe(audio, condition_on_previous_text=False, **kwargs)
            segments = _collect(raw, info.language, duration, progress, switches, repairs)
            reruns = len(repairs)
            if self.options.rerun_suspect and self._batched is None:
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
        """Decode the windows of suspect segments again, with loops barred (transcribe.repair).

        For segments already decoded (sequential mode; batched decoding repairs inside each
        batch, transcribe.repair). Each window is decoded in its segment's language (the
        episode's `language` when it has none), without the show's prompt, the windows of
        one language in one batch. The new text replaces the window's; what was suspected
        stays in each segment's flags and rerun=True. Text judged to be over silence is
        dropped. Returns the segments and the number of windows decoded again.
        """
        suspect = {i: ",".join(flags) for i, seg in enumerate(segments) if (flags := suspicions(seg))}
        if not suspect:
            return segments, 0
        total = len(audio) / SAMPLE_RATE
        redone: dict[int, list[Segment]] = {i: [] for i in suspect}
        by_language: dict[str, list[int]] = {}
        for i in suspect:
            by_language.setdefault(segments[i].language or language, []).append(i)
        frames_per_second = self._model.frames_per_second
        for seg_language, indices in by_language.items():
            clips: list[dict[str, float]] = []
            owner: dict[int, int] = {}
            for i in indices:
                start, end = max(segments[i].start, 0.0), min(segments[i].end, total)
                while end - start >= _MIN_WINDOW_SECONDS:  # Whisper hears 30 s at a time
                    # The seek faster-whisper gives the clip's segments; a second suspect
                    # segment starting at the same 10 ms is covered by the first's window.
                    seek = int(int(start * SAMPLE_RATE) / SAMPLE_RATE * frames_per_second)
                    if seek not in owner:
                        clips.append({"start": start, "end": min(start + _CHUNK_SECONDS, end)})
                        owner[seek] = i
                    start += _CHUNK_SECONDS
            if not clips:
                continue
            raw, _ = self._rerun.transcribe(
                audio,
                language=seg_language,
                task="transcribe",
                clip_timestamps=clips,
                batch_size=_RERUN_BATCH,
                without_timestamps=False,
                word_timestamps=True,
                vad_filter=False,
            )
            for seg in raw:
                if seg.seek in owner:
                    redone[owner[seg.seek]].extend(_collect([seg], seg_language, total, None))
        out: list[Segment] = []
        for i, seg in enumerate(segments):
            if i in suspect:
                out.extend(replace(new, flags=suspect[i], rerun=True) for new in redone[i])
            else:
                out.append(seg)
        return out, len(suspect)


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
    repairs: Mapping[int, Repair] | None = None,
) -> list[Segment]:
    """Consume faster-whisper's lazy segment generator into our Segments.

    A segment takes the language of its chunk when the chunk was switched (`switches`,
    keyed by the seek faster-whisper gives every segment of a chunk), else `language`;
    the segments of a chunk's repaired window (`repairs`, same keys) carry its flags.
    """
    segments: list[Segment] = []
    seen: dict[int, int] = {}  # segments of each chunk so far
    for seg in raw:
        index = seen.get(seg.seek, 0)
        seen[seg.seek] = index + 1
        repair = repairs.get(seg.seek) if repairs else None
        redone = repair is not None and repair.kept <= index < repair.kept + repair.count
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
                    flags=repair.flags if redone and repair else None,
                    rerun=redone,
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
