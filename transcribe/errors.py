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


# Not TranscriptionError subclasses on purpose: a transcript whose speakers cannot be
# found is still a good transcript. The caller stores it without speakers and tries the
# speakers again on a later run (issue 16, "bad input").
class DiarizationError(Exception):
    """Speaker turns could not be computed for this audio (the transcript itself is fine)."""


class SpeakerModelError(DiarizationError):
    """The speaker-embedding model is missing or cannot be loaded (`./dev setup` installs it)."""
