"""Immutable transcript values returned by the engine and the format parsers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transcribe.voiceprints import VoicePrint


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
    # What looked hallucinated ("compression,repeat,silence") and whether the window was re-run.
    flags: str | None = None
    rerun: bool = False


@dataclass(frozen=True)
class SpeakerRun:
    """What the diarize step made of a transcript: the model, each voice found (label, print), or why it failed."""

    model: str
    voices: tuple[tuple[str, VoicePrint], ...] = ()
    # Set when no speakers could be found (model missing, failing): the transcript is still good.
    error: str | None = None


@dataclass(frozen=True)
class Transcript:
    """A whole episode's transcript: language, segments and audio duration."""

    language: str
    segments: tuple[Segment, ...]
    duration: float
    model: str = ""
    origin: str = "asr"
    language_probability: float | None = None
    # Windows re-decoded with safer settings; the vocabulary prompt; a publisher file's URL.
    reruns: int = 0
    prompt: str | None = None
    source_url: str | None = None
    # The diarize step's outcome; None when it did not run (publisher text, speakers off).
    speakers: SpeakerRun | None = None

    @property
    def text(self) -> str:
        """The segments' text joined by single spaces."""
        return " ".join(s.text for s in self.segments if s.text)
