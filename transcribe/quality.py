"""Spot machine text that is probably not what was said: loops, over-compression, text over silence."""

from __future__ import annotations

import re

from transcribe.result import Segment

# Whisper's own fallback thresholds (openai/whisper transcribe.py defaults): text that
# gzip-compresses over 2.4x is a loop; no_speech_prob > 0.6 with avg_logprob < -1 is
# words invented over silence.
MAX_COMPRESSION = 2.4
SILENCE_NO_SPEECH = 0.6
SILENCE_LOGPROB = -1.0
# An n-gram said this many times in a row is a decoder loop, not rhetoric.
LOOP_REPEATS = 4
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def longest_repeat(text: str, max_n: int = 8) -> int:
    """Most consecutive repetitions of any word n-gram (n <= max_n) in the text.

    >>> longest_repeat("Thank you. Thank you. Thank you. Thank you.")
    4
    >>> longest_repeat("ask not what your country can do for you, ask what you can do")
    1
    """
    words = [w.lower() for w in _WORD.findall(text)]
    best = 1 if words else 0
    for n in range(1, max_n + 1):
        for start in range(n):
            run, prev = 1, None
            for i in range(start, len(words) - n + 1, n):
                gram = tuple(words[i : i + n])
                run = run + 1 if gram == prev else 1
                prev = gram
                best = max(best, run)
    return best


def suspicions(segment: Segment) -> tuple[str, ...]:
    """Why this machine segment looks hallucinated: ("compression", "repeat", "silence") or ()."""
    found = []
    if segment.compression_ratio is not None and segment.compression_ratio > MAX_COMPRESSION:
        found.append("compression")
    if longest_repeat(segment.text) >= LOOP_REPEATS:
        found.append("repeat")
    if (
        segment.no_speech_prob is not None
        and segment.avg_logprob is not None
        and segment.no_speech_prob > SILENCE_NO_SPEECH
        and segment.avg_logprob < SILENCE_LOGPROB
    ):
        found.append("silence")
    return tuple(found)
