"""Suspect windows decoded again inside the batch, from the encoder output it already computed.

Whisper's remedy for a loop or for text invented over silence is to decode the window
again at rising temperatures (openai/whisper's fallback; faster-whisper's sequential mode
has it, its batched mode has not). podarchive first re-ran each suspect segment from its
audio after the whole file: a fresh 30 s encoder pass, a beam-5 decode at temperature 0
that looped again, then each temperature with 5 samples, down to Whisper's log-probability
floor. On the benchmark file three windows cost as much as the other 218 s
(docs/transcription.md). Here, per batch:

- a chunk with no suspect segment is never decoded again;
- only the suspect window is: the chunk's segments before it go to the decoder as a
  forced prefix (one forward pass, no search), the ones after it are kept as they are;
- from the batch's encoder output (no second encoder pass);
- all the suspect windows of a batch in one decoder call per rung;
- rungs: a greedy decode that may not repeat any 6-token sequence (the loop cannot
  come back; deterministic), then sampled temperatures 0.2 ... 1.0, one sample each; the
  first attempt without a loop (transcribe.quality) is kept. Whisper's log-probability
  floor is not a reason to climb: on the benchmark's windows every higher temperature
  only lowered it further.

`RepairingPipeline.redecode_all` serves a re-run after decoding (Engine.repair): every
chunk (clip_timestamps = the suspect windows) goes straight to the rungs.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel

from transcribe.quality import suspicions
from transcribe.result import Segment

# The rungs, in order: 0 is a greedy decode, the others one sample at that temperature.
# Measured on the benchmark's three looping windows (docs/transcription.md), the greedy
# rung passed on all three; sampled rungs alone needed 1-3 calls, best-of-3 twice the time.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
# No token n-gram this long may come twice in a repair: a loop is cut after one and a
# half turns. On clean speech (every window of the clips forced through a repair) 6 and
# 10 gave the same text as no limit.
NO_REPEAT_NGRAM = 6
# Speech runs about 3-5 tokens a second; twice that bounds a window's text, and a
# looping attempt stops there instead of at Whisper's 448-token cap.
TOKENS_PER_SECOND = 10
# ctranslate2 seeds each worker thread's sampler once, at its first sample: a process
# that sets this seed before it transcribes repeats its transcripts (Engine sets it).
SEED = 0
_LOOP_FLAGS = frozenset({"compression", "repeat"})


@dataclass(frozen=True)
class Repair:
    """What happened to one chunk's suspect window; the chunk's segments are in order.

    `kept` segments before the window were decoded once; the next `count` are the new
    decode (0 when it was judged silence and dropped); the rest were decoded once.
    """

    kept: int
    count: int
    flags: str
    temperature: float


@dataclass(frozen=True)
class Attempt:
    """One sampled decode of a window."""

    tokens: list[int]  # prefix included
    text: str  # the new part only
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    temperature: float

    @property
    def flags(self) -> tuple[str, ...]:
        """transcribe.quality's judgement of the new text."""
        return suspicions(self.segment())

    @property
    def silence(self) -> bool:
        """Judged to be text over silence: kept as the result, then dropped."""
        return "silence" in self.flags

    @property
    def passes(self) -> bool:
        """No loop (silence passes, to be dropped): no further rung needed."""
        return not (_LOOP_FLAGS & set(self.flags))

    def segment(self) -> Segment:
        """The attempt's statistics as a Segment, for transcribe.quality."""
        return Segment(
            0.0,
            0.0,
            self.text,
            avg_logprob=self.avg_logprob,
            no_speech_prob=self.no_speech_prob,
            compression_ratio=self.compression_ratio,
        )


def best_attempt(attempts: Sequence[Attempt]) -> Attempt:
    """The first attempt that passes; when every one looped, the most probable (as Whisper's fallback).

    >>> loop = Attempt([], "de l'Est " * 8, -0.2, 0.1, 5.0, 0.0)
    >>> fine = Attempt([], "Les styles de l'Ouest.", -1.3, 0.1, 1.1, 0.2)
    >>> best_attempt([loop, fine]).temperature, best_attempt([loop]).temperature
    (0.2, 0.0)
    """
    for attempt in attempts:
        if attempt.passes:
            return attempt
    return max(attempts, key=lambda a: a.avg_logprob)


def suspect_span(segments: Sequence[Mapping[str, Any]]) -> tuple[int, int, tuple[str, ...]] | None:
    """(first, last, flags) of the suspect segments of one chunk's decode, or None if it is clean.

    Segments are faster-whisper's segment dicts (text, avg_logprob, no_speech_prob,
    compression_ratio). The window runs from the first suspect segment to the last;
    flags are those of every suspect segment, in transcribe.quality's order.

    >>> loop = {"text": "de l'Est " * 8, "compression_ratio": 5.0, "avg_logprob": -0.2, "no_speech_prob": 0.1}
    >>> fine = {"text": "Bonjour.", "compression_ratio": 0.8, "avg_logprob": -0.2, "no_speech_prob": 0.1}
    >>> suspect_span([fine, loop, fine])
    (1, 1, ('compression', 'repeat'))
    >>> suspect_span([fine, fine]) is None
    True
    """
    found: list[int] = []
    flags: set[str] = set()
    for i, seg in enumerate(segments):
        these = suspicions(
            Segment(
                0.0,
                0.0,
                str(seg["text"]).strip(),
                avg_logprob=seg.get("avg_logprob"),
                no_speech_prob=seg.get("no_speech_prob"),
                compression_ratio=seg.get("compression_ratio"),
            )
        )
        if these:
            found.append(i)
            flags.update(these)
    if not found:
        return None
    order = ("compression", "repeat", "silence")
    return found[0], found[-1], tuple(f for f in order if f in flags)


@dataclass
class _Window:
    chunk: int  # index in the batch
    kept: int  # segments before the window, given as the prefix
    tail: list[dict[str, Any]]  # segments after it, kept
    prompt: list[int]  # start of transcript, language and task tokens, then the prefix
    prefix: int  # tokens of the prefix at the end of `prompt`
    end: float  # the window's end: the next kept segment's start, or the chunk's end
    max_length: int
    flags: str


class RepairingPipeline(BatchedInferencePipeline):  # type: ignore[misc]  # faster-whisper is untyped
    """faster-whisper's batched pipeline that decodes suspect windows again before word alignment.

    With `repair_suspect`, each batch's suspect windows (module docstring) are decoded
    again; `repairs` then holds, by the segments' `seek`, what was done per chunk, for
    the current transcription. With `redecode_all`, every chunk is decoded at the sampled
    temperatures without a first decode at 0.
    One transcription at a time per instance (faster-whisper's pipeline keeps state too).
    """

    def __init__(self, model: WhisperModel, *, repair_suspect: bool = True, redecode_all: bool = False) -> None:
        super().__init__(model=model)
        self.last_speech_timestamp: float = 0.0
        self.repair_suspect = repair_suspect
        self.redecode_all = redecode_all
        self.repairs: dict[int, Repair] = {}

    def transcribe(self, *args: Any, **kwargs: Any) -> Any:
        """faster-whisper's batched transcribe; forgets the previous file's repairs."""
        self.repairs = {}
        return super().transcribe(*args, **kwargs)

    def forward(self, features: Any, tokenizer: Any, chunks_metadata: Any, options: Any) -> Any:
        """faster-whisper 1.2.1's forward, with suspect windows decoded again before alignment."""
        if self.redecode_all:
            encoder_output = self.model.encode(features)
            outputs: list[dict[str, Any] | None] = [None] * len(chunks_metadata)
        else:
            encoder_output, outputs = self.generate_segment_batched(features, tokenizer, options)
        segmented_outputs: list[list[dict[str, Any]]] = []
        segment_sizes = []
        for chunk_metadata, output in zip(chunks_metadata, outputs, strict=True):
            segment_size = int(math.ceil(chunk_metadata["duration"]) * self.model.frames_per_second)
            segment_sizes.append(segment_size)
            segmented_outputs.append(
                [] if output is None else self._segments(tokenizer, output, chunk_metadata, segment_size)
            )
        dropped: list[tuple[int, int]] = []
        if self.repair_suspect or self.redecode_all:
            dropped = self._repair(encoder_output, outputs, segmented_outputs, chunks_metadata, tokenizer, options)
        if options.word_timestamps:
            self.last_speech_timestamp = self.model.add_word_timestamps(
                segmented_outputs,
                tokenizer,
                encoder_output,
                segment_sizes,
                options.prepend_punctuations,
                options.append_punctuations,
                self.last_speech_timestamp,
            )
        # Silence is dropped after alignment, which needs a segment per chunk.
        for chunk, start in reversed(dropped):
            del segmented_outputs[chunk][start]
        return segmented_outputs

    def _segments(
        self, tokenizer: Any, output: Mapping[str, Any], chunk_metadata: Mapping[str, Any], segment_size: int
    ) -> list[dict[str, Any]]:
        """One decode's tokens split at timestamps into faster-whisper's segment dicts."""
        subsegments, _, _ = self.model._split_segments_by_timestamps(
            tokenizer=tokenizer,
            tokens=output["tokens"],
            time_offset=chunk_metadata["offset"],
            segment_size=segment_size,
            segment_duration=chunk_metadata["duration"],
            seek=0,
        )
        seek = int(chunk_metadata["offset"] * self.model.frames_per_second)
        out = []
        for subsegment in subsegments:
            text = tokenizer.decode(subsegment["tokens"])
            out.append(
                dict(
                    text=text,
                    avg_logprob=output["avg_logprob"],
                    no_speech_prob=output["no_speech_prob"],
                    tokens=subsegment["tokens"],
                    start=subsegment["start"],
                    end=subsegment["end"],
                    compression_ratio=compression_ratio(text),
                    seek=seek,
                )
            )
        return out

    def _repair(
        self,
        encoder_output: Any,
        outputs: Sequence[Mapping[str, Any] | None],
        segmented_outputs: list[list[dict[str, Any]]],
        chunks_metadata: Sequence[Mapping[str, Any]],
        tokenizer: Any,
        options: Any,
    ) -> list[tuple[int, int]]:
        """Decode each chunk's suspect window again, in place; (chunk, index) of segments to drop."""
        windows = []
        for i, (segments, output, meta) in enumerate(zip(segmented_outputs, outputs, chunks_metadata, strict=True)):
            if output is None:  # redecode_all: the whole chunk
                span: tuple[int, int, tuple[str, ...]] | None = (0, -1, ())
            else:
                span = suspect_span(segments)
            if span is None:
                continue
            first, last, flags = span
            kept = segments[:first]
            tail = segments[last + 1 :] if last >= 0 else []
            start = segments[first]["start"] if segments else meta["offset"]
            end = tail[0]["start"] if tail else meta["offset"] + meta["duration"]
            prefix = [t for seg in kept for t in seg["tokens"]]
            prompt = self._prompt(tokenizer, output, options) + prefix
            budget = int(TOKENS_PER_SECOND * max(end - start, 0.0)) + 16
            max_length = min(len(prompt) + budget, self.model.max_length)
            windows.append(_Window(i, len(kept), tail, prompt, len(prefix), end, max_length, ",".join(flags)))
        if not windows:
            return []

        attempts: list[list[Attempt]] = [[] for _ in windows]
        pending = list(range(len(windows)))
        for temperature in TEMPERATURES:
            results = self.sample(
                _rows(encoder_output, [windows[j].chunk for j in pending]),
                [windows[j].prompt for j in pending],
                max(windows[j].max_length for j in pending),
                temperature,
                options,
                after_prefix=any(windows[j].prefix for j in pending),
            )
            still = []
            for j, result in zip(pending, results, strict=True):
                attempt = _attempt(result, windows[j], tokenizer, temperature, options)
                attempts[j].append(attempt)
                if not attempt.passes:
                    still.append(j)
            pending = still
            if not pending:
                break

        dropped = []
        for window, tried in zip(windows, attempts, strict=True):
            best = best_attempt(tried)
            meta = chunks_metadata[window.chunk]
            segment_size = int(math.ceil(meta["duration"]) * self.model.frames_per_second)
            decoded = self._segments(
                tokenizer,
                {"tokens": best.tokens, "avg_logprob": best.avg_logprob, "no_speech_prob": best.no_speech_prob},
                meta,
                segment_size,
            )
            new = decoded[window.kept :]
            if window.tail:
                new = [seg for seg in new if seg["start"] < window.end]
            segments = segmented_outputs[window.chunk]
            segments[window.kept :] = new + window.tail
            if best.silence:
                dropped += [(window.chunk, window.kept + n) for n in range(len(new))]
            seek = int(meta["offset"] * self.model.frames_per_second)
            self.repairs[seek] = Repair(window.kept, 0 if best.silence else len(new), window.flags, best.temperature)
        return sorted(dropped)

    def _prompt(self, tokenizer: Any, output: Mapping[str, Any] | None, options: Any) -> list[int]:
        """The chunk's start of transcript, language and task tokens, without the show's prompt.

        A vocabulary prompt conditions the decoder, and conditioning is what makes loops;
        the language is the chunk's (transcribe.languages puts its prompt in the output).
        """
        prompt: list[int] | None = output.get("prompt") if output else None
        if prompt is None:
            prompt = self.model.get_prompt(tokenizer, [], without_timestamps=options.without_timestamps)
        return list(prompt[prompt.index(tokenizer.sot) :])

    def sample(
        self,
        encoder_output: Any,
        prompts: list[list[int]],
        max_length: int,
        temperature: float,
        options: Any,
        *,
        after_prefix: bool = False,
    ) -> list[Any]:
        """One decoder call, beam 1: greedy at temperature 0, else one sample per prompt."""
        sampling = dict(sampling_topk=0, sampling_temperature=temperature) if temperature > 0 else {}
        return list(
            self.model.model.generate(
                encoder_output,
                prompts,
                beam_size=1,
                **sampling,
                length_penalty=options.length_penalty,
                repetition_penalty=options.repetition_penalty,
                no_repeat_ngram_size=NO_REPEAT_NGRAM,
                max_length=max_length,
                suppress_blank=options.suppress_blank,
                suppress_tokens=options.suppress_tokens,
                return_scores=True,
                return_no_speech_prob=True,
                # Whisper's 1 s limit on the first timestamp; after a prefix, the new
                # text starts wherever the prefix ended.
                max_initial_timestamp_index=1500 if after_prefix else 50,
            )
        )


def _attempt(result: Any, window: _Window, tokenizer: Any, temperature: float, options: Any) -> Attempt:
    tokens = list(result.sequences_ids[0])
    # faster-whisper's average log-probability of a sequence.
    seq_len = len(tokens)
    avg_logprob = result.scores[0] * (seq_len**options.length_penalty) / (seq_len + 1)
    text = tokenizer.decode([t for t in tokens[window.prefix :] if t < tokenizer.eot]).strip()
    return Attempt(
        tokens=tokens,
        text=text,
        avg_logprob=float(avg_logprob),
        no_speech_prob=float(result.no_speech_prob),
        compression_ratio=compression_ratio(text),
        temperature=temperature,
    )


def _rows(encoder_output: Any, rows: list[int]) -> Any:
    """These batch rows of an encoder output (itself when it is all of them)."""
    if rows == list(range(encoder_output.shape[0])):
        return encoder_output
    if encoder_output.device != "cpu":
        encoder_output = encoder_output.to_device(ctranslate2.Device.cpu)
    return ctranslate2.StorageView.from_array(np.ascontiguousarray(np.asarray(encoder_output)[rows]))


def compression_ratio(text: str) -> float:
    """Whisper's gzip compression ratio of a text (faster-whisper's get_compression_ratio).

    >>> compression_ratio("de l'Est " * 20) > 2.4
    True
    """
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data))
