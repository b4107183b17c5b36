"""Exceptions raised at the edge of the transcribe package."""


class TranscriptionError(Exception):
    """Audio could not be turned into a transcript."""


class ModelNotFound(TranscriptionError):
    """The configured Whisper weights cannot be found or loaded."""


class TranscriptFormatError(TranscriptionError):
    """A VTT, SRT or Podcast Index JSON transcript could not be parsed."""
