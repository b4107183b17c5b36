"""Exceptions raised at the edge of the transcribe package."""


class TranscriptionError(Exception):
    """Audio could not be turned into a transcript."""


class EngineUnavailable(TranscriptionError):
    """The engine cannot run on this machine now (no weights, no room for them): no audio's fault."""


class ModelNotFound(EngineUnavailable):
    """The configured Whisper weights cannot be found or loaded."""


class ModelCacheError(EngineUnavailable):
    """The model cache cannot be written (disk full, a file size limit, permissions)."""


class TranscriptFormatError(TranscriptionError):
    """A VTT, SRT or Podcast Index JSON transcript could not be parsed."""
