"""Audio to transcript: faster-whisper engine, weights resolution, transcript formats and speaker turns."""

from transcribe.errors import (
    DiarizationError,
    EngineUnavailable,
    ModelCacheError,
    ModelNotFound,
    SpeakerModelError,
    TranscriptFormatError,
    TranscriptionError,
)
from transcribe.result import Segment, Transcript, Word

__all__ = [
    "DiarizationError",
    "EngineUnavailable",
    "ModelCacheError",
    "ModelNotFound",
    "Segment",
    "SpeakerModelError",
    "Transcript",
    "TranscriptFormatError",
    "TranscriptionError",
    "Word",
]
