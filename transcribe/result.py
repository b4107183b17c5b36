"""Immutable transcript values returned by the engine and the format parsers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    """One recognised word with its timing (seconds) and confidence."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """A timed passage of text, with decoder statistics when machine-made."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    speaker: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Transcript:
    """A whole episode's transcript: language, segments and audio duration."""

    language: str
    segments: tuple[Segment, ...]
    duration: float
    model: str = ""
    origin: str = "asr"
    language_probability: float | None = None

    @property
    def text(self) -> str:
        """The segments' text joined by single spaces."""
        return " ".join(s.text for s in self.segments if s.text)
