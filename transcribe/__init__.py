"""Audio to transcript: faster-whisper engine, weights resolution, transcript formats and speaker turns."""

from transcribe.errors import (
    DiarizationError,
    ModelNotFound,
    SpeakerModelError,
    TranscriptFormatError,
    TranscriptionError,
)
from transcribe.result import Segment, Transcript, Word

__all__ = [
    "DiarizationError",
    "ModelNotFound",
    "Segment",
    "SpeakerModelError",
    "Transcript",
    "TranscriptFormatError",
    "TranscriptionError",
    "Word",
]
