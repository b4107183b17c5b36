"""Cut long segments into short passages at word boundaries, for search hits and the player."""

from __future__ import annotations

from dataclasses import replace

from transcribe.result import Segment, Word

_SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！")
_CLAUSE_ENDS = (",", ";", ":", "，", "、", "；", "：")
# Whisper writes these languages without spaces between words (faster-whisper's tokenizer
# uses the same set when splitting words).
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "yue"})


def split_segments(
    segments: tuple[Segment, ...] | list[Segment],
    max_chars: int = 200,
    max_seconds: float = 12.0,
) -> tuple[Segment, ...]:
    """Split segments longer than the limits at sentence, then clause, then word ends.

    >>> w = [Word(0.0, 0.5, "Oui.", 0.9), Word(0.6, 1.0, "Non", 0.9),
    ...      Word(1.1, 1.5, "merci.", 0.9)]
    >>> [(s.text, s.start, s.end) for s in split_segments([Segment(0, 2, "", tuple(w))], 10)]
    [('Oui.', 0.0, 0.5), ('Non merci.', 0.6, 1.5)]
    """
    out: list[Segment] = []
    for segment in segments:
        if not segment.words or not _too_long(segment.words, segment, max_chars, max_seconds):
            out.append(segment)
            continue
        out.extend(sub_segment(segment, words) for words in _cut(segment, max_chars, max_seconds))
    return tuple(out)


def _cut(segment: Segment, max_chars: int, max_seconds: float) -> list[tuple[Word, ...]]:
    pieces: list[tuple[Word, ...]] = []
    current: list[Word] = []
    for word in segment.words:
        while current and _too_long((*current, word), segment, max_chars, max_seconds):
            at = _best_cut(current, segment, max_chars, max_seconds)
            pieces.append(tuple(current[:at]))
            current = current[at:]
        current.append(word)
    if current:
        pieces.append(tuple(current))
    return pieces


def _best_cut(words: list[Word], segment: Segment, max_chars: int, max_seconds: float) -> int:
    """How many words to keep: after the last sentence end, else clause end, else all."""

    # Ignore boundaries that would leave a scrap shorter than a quarter of the limits.
    def big_enough(n: int) -> bool:
        return len(_join(words[:n], segment)) >= max_chars / 4 or words[n - 1].end - words[0].start >= max_seconds / 4

    for ends in (_SENTENCE_ENDS, _CLAUSE_ENDS):
        for n in range(len(words), 0, -1):
            if words[n - 1].text.endswith(ends) and big_enough(n):
                return n
    return len(words)


def _too_long(words: tuple[Word, ...], segment: Segment, max_chars: int, max_seconds: float) -> bool:
    return len(_join(words, segment)) > max_chars or words[-1].end - words[0].start > max_seconds


def _join(words: tuple[Word, ...] | list[Word], segment: Segment) -> str:
    sep = "" if segment.language in NO_SPACE_LANGUAGES else " "
    return sep.join(w.text for w in words).strip()


def sub_segment(segment: Segment, words: tuple[Word, ...]) -> Segment:
    """The segment cut down to some of its words: their span and text, its other fields kept."""
    return replace(segment, start=words[0].start, end=words[-1].end, text=_join(words, segment), words=words)
