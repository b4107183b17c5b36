"""Audio to transcript: faster-whisper engine, weights resolution and transcript formats."""

from transcribe.errors import (
    EngineUnavailable,
    ModelCacheError,
    ModelNotFound,
    TranscriptFormatError,
    TranscriptionError,
)
from transcribe.result import Segment, Transcript, Word

__all__ = [
    "EngineUnavailable",
    "ModelCacheError",
    "ModelNotFound",
    "Segment",
    "Transcript",
    "TranscriptFormatError",
    "TranscriptionError",
    "Word",
]
