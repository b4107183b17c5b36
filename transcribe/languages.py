"""Language per chunk in batched decoding: a chunk clearly in another allowed language is decoded in it.

Quebec interviews switch between French and English inside one episode. Decoding an
English answer with the episode's <|fr|> token makes Whisper translate it into French
(seen on the benchmark file: "Les styles de l'Ouest s'arrêtent à l'âge de l'âge …"
for an English clip). Whisper's language detection runs on the encoder output the batch
computes anyway, so it costs one decoder step per chunk, not a second encoder pass.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from faster_whisper import WhisperModel

from transcribe.repair import RepairingPipeline

log = logging.getLogger("podarchive.transcribe")

# A chunk switches language only when Whisper is at least this sure of the other one.
# Measured with base on 36 chunks of the benchmark file, the clips and the demo episodes
# (docs/transcription.md): English chunks gave "en" 0.82-0.99, French chunks "fr"
# 0.89-0.99 and never more than 0.03 to any other language. 0.5 (faster-whisper's own
# detection threshold) leaves a wide margin on both sides.
SWITCH_PROBABILITY = 0.5


@dataclass(frozen=True)
class ChunkLanguage:
    """A chunk decoded in another language than the episode's: where it is and how sure."""

    offset: float  # seconds of speech before it (VAD-joined time, as faster-whisper counts)
    duration: float
    language: str
    probability: float


class SwitchingPipeline(RepairingPipeline):
    """faster-whisper's batched pipeline that decodes each chunk in its own language.

    faster-whisper's `multilingual=True` also detects per chunk, but it overrides a forced
    language whatever the probability and does not say what it chose. Here a chunk keeps
    the episode language unless detection names one of `switch_languages` with at least
    `threshold`; the switches are in `switches`, keyed by the segments' `seek`.
    Word timestamps of a switched chunk are still aligned with the episode's language
    token (faster-whisper aligns a batch at once): against a decode with the right token,
    the English words of tests' code-switched file moved by at most 0.16 s.
    Suspect windows are decoded again in their chunk's language (transcribe.repair).
    One transcription at a time per instance (faster-whisper's pipeline keeps state too).
    """

    def __init__(
        self,
        model: WhisperModel,
        switch_languages: Collection[str],
        threshold: float = SWITCH_PROBABILITY,
        *,
        repair_suspect: bool = True,
    ) -> None:
        super().__init__(model, repair_suspect=repair_suspect)
        self.switch_languages = frozenset(switch_languages)
        self.threshold = threshold
        self.switches: dict[int, ChunkLanguage] = {}
        self._batch: list[tuple[str, float] | None] = []

    def transcribe(self, *args: Any, **kwargs: Any) -> Any:
        """faster-whisper's batched transcribe; forgets the previous file's switches."""
        self.switches = {}
        return super().transcribe(*args, **kwargs)

    def forward(self, features: Any, tokenizer: Any, chunks_metadata: Any, options: Any) -> Any:
        """Decode one batch and file the batch's switches under each chunk's seek."""
        results = super().forward(features, tokenizer, chunks_metadata, options)
        for meta, chosen in zip(chunks_metadata, self._batch, strict=False):
            if chosen is None:
                continue
            # The same expression faster-whisper's forward uses for its segments' seek.
            seek = int(meta["offset"] * self.model.frames_per_second)
            self.switches[seek] = ChunkLanguage(meta["offset"], meta["duration"], *chosen)
            log.info(
                "chunk at %.1f s (%.1f s) decoded in %s (p=%.2f), episode %s",
                meta["offset"],
                meta["duration"],
                chosen[0],
                chosen[1],
                tokenizer.language_code,
            )
        return results

    def generate_segment_batched(self, features: Any, tokenizer: Any, options: Any) -> Any:
        """faster-whisper 1.2.1's body, with the per-chunk language choice added.

        Each output also carries the chunk's prompt, for a repair in the same language.
        """
        batch_size = features.shape[0]

        prompt = self.model.get_prompt(
            tokenizer,
            previous_tokens=(tokenizer.encode(options.initial_prompt) if options.initial_prompt is not None else []),
            without_timestamps=options.without_timestamps,
            hotwords=options.hotwords,
        )

        if options.max_new_tokens is not None:
            max_length = len(prompt) + options.max_new_tokens
        else:
            max_length = self.model.max_length

        if max_length > self.model.max_length:
            raise ValueError(
                f"The length of the prompt is {len(prompt)}, and the `max_new_tokens` "
                f"{max_length - len(prompt)}. Thus, the combined length of the prompt "
                f"and `max_new_tokens` is: {max_length}. This exceeds the "
                f"`max_length` of the Whisper model: {self.model.max_length}. "
                "You should either reduce the length of your prompt, or "
                "reduce the value of `max_new_tokens`, "
                f"so that their combined length is less that {self.model.max_length}."
            )

        encoder_output = self.model.encode(features)
        prompts = [prompt.copy() for _ in range(batch_size)]
        self._batch = [None] * batch_size

        if options.multilingual:
            language_tokens = [
                tokenizer.tokenizer.token_to_id(segment_langs[0][0])
                for segment_langs in self.model.model.detect_language(encoder_output)
            ]
            language_token_index = prompt.index(tokenizer.language)

            for i, language_token in enumerate(language_tokens):
                prompts[i][language_token_index] = language_token
        elif self.switch_languages and self.model.model.is_multilingual:
            # get_prompt ends with sot_sequence = [sot, language, task], then
            # no_timestamps if asked (no prefix here). Counted from the end rather than
            # prompt.index(): a show's vocabulary prompt is publisher text.
            index = len(prompt) - (3 if options.without_timestamps else 2)
            ranked = self.model.model.detect_language(encoder_output) if prompt[index] == tokenizer.language else []
            for i, langs in enumerate(ranked):
                token, probability = langs[0]
                code = token[2:-2]  # "<|en|>"
                if code != tokenizer.language_code and code in self.switch_languages and probability >= self.threshold:
                    prompts[i][index] = tokenizer.tokenizer.token_to_id(token)
                    self._batch[i] = (code, float(probability))

        results = self.model.model.generate(
            encoder_output,
            prompts,
            beam_size=options.beam_size,
            patience=options.patience,
            length_penalty=options.length_penalty,
            max_length=max_length,
            suppress_blank=options.suppress_blank,
            suppress_tokens=options.suppress_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            sampling_temperature=options.temperatures[0],
            repetition_penalty=options.repetition_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
        )

        output = []
        for result, chunk_prompt in zip(results, prompts, strict=True):
            # return scores
            seq_len = len(result.sequences_ids[0])
            cum_logprob = result.scores[0] * (seq_len**options.length_penalty)

            output.append(
                dict(
                    avg_logprob=cum_logprob / (seq_len + 1),
                    no_speech_prob=result.no_speech_prob,
                    tokens=result.sequences_ids[0],
                    prompt=chunk_prompt,
                )
            )

        return encoder_output, output
