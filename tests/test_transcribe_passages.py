"""split_segments: long machine segments cut into short passages at word boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transcribe.passages import split_segments
from transcribe.result import Segment, Word

pytestmark = pytest.mark.fast


def segment(text: str, seconds_per_word: float = 0.5, language: str | None = "fr") -> Segment:
    words = tuple(Word(i * seconds_per_word, (i + 0.8) * seconds_per_word, w, 0.9) for i, w in enumerate(text.split()))
    return Segment(
        words[0].start,
        words[-1].end,
        text,
        words,
        avg_logprob=-0.2,
        no_speech_prob=0.01,
        compression_ratio=1.3,
        speaker="A",
        language=language,
    )


def test_short_segments_are_untouched() -> None:
    s = segment("Bonjour tout le monde.")
    assert split_segments((s,)) == (s,)
    no_words = Segment(0, 60, "x" * 500)
    assert split_segments([no_words]) == (no_words,)


def test_cuts_at_sentence_end_before_comma() -> None:
    s = segment("Il fait beau, très beau. Nous partons demain matin, tôt, vers la montagne.")
    parts = split_segments((s,), max_chars=60)
    assert [p.text for p in parts] == [
        "Il fait beau, très beau.",
        "Nous partons demain matin, tôt, vers la montagne.",
    ]
    first, second = parts
    assert (first.start, first.end) == (s.words[0].start, s.words[4].end)
    assert second.start == s.words[5].start and second.end == s.end
    assert first.speaker == "A" and first.avg_logprob == -0.2 and first.language == "fr"


def test_cuts_at_comma_without_sentence_end() -> None:
    s = segment("un deux trois quatre cinq, six sept huit neuf dix onze douze")
    assert [p.text for p in split_segments((s,), max_chars=40)] == [
        "un deux trois quatre cinq,",
        "six sept huit neuf dix onze douze",
    ]


def test_cuts_on_time_limit() -> None:
    s = segment(" ".join(["mot"] * 40), seconds_per_word=1.0)
    parts = split_segments((s,), max_chars=10_000, max_seconds=12.0)
    assert all(p.end - p.start <= 12.0 for p in parts)
    assert " ".join(p.text for p in parts) == s.text


def test_no_space_languages_join_without_spaces() -> None:
    text = "今日は良い天気です。明日も晴れ"
    words = tuple(Word(i, i + 0.5, c, 0.9) for i, c in enumerate(text))
    s = Segment(0, 15, text, words, language="ja")
    parts = split_segments((s,), max_chars=10)
    assert [p.text for p in parts] == ["今日は良い天気です。", "明日も晴れ"]


@given(
    st.lists(st.text("abcdefghij.,?!", min_size=1, max_size=30), min_size=1, max_size=80),
    st.integers(min_value=20, max_value=200),
    st.floats(min_value=2.0, max_value=30.0),
)
def test_split_keeps_every_word_in_order_within_limits(tokens: list[str], max_chars: int, max_seconds: float) -> None:
    s = segment(" ".join(tokens))
    parts = split_segments((s,), max_chars=max_chars, max_seconds=max_seconds)
    assert tuple(w for p in parts for w in p.words) == s.words
    assert " ".join(p.text for p in parts) == s.text
    for p in parts:
        assert p.start == p.words[0].start and p.end == p.words[-1].end
        # A single word longer than the limit is the only allowed overrun.
        assert len(p.words) == 1 or (len(p.text) <= max_chars and p.end - p.start <= max_seconds)
