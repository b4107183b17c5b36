"""The diarize step after transcription: a Transcript in, the same with speaker labels and its SpeakerRun out.

Runs where the transcription ran (the worker process). A failing or missing speaker
model never costs the transcript: it comes back unlabelled, its SpeakerRun carrying the
error, and the archive stores it marked "failed" and tries the speakers again later.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from transcribe.diarize import Diarizer
from transcribe.errors import DiarizationError
from transcribe.result import SpeakerRun, Transcript
from transcribe.speakers import assign_speakers, needs_speakers


def add_speakers(
    transcript: Transcript, audio: Path, diarizer: Diarizer, num_speakers: int | None = None
) -> Transcript:
    """`transcript` with every segment labelled "Speaker N" (split where the voice changes) and its SpeakerRun.

    A transcript that already carries voices (a publisher's) comes back unchanged, with
    no SpeakerRun. No speech found: unlabelled, a SpeakerRun without voices.
    """
    if not needs_speakers(transcript):
        return transcript
    model = diarizer.embedder.model_id
    try:
        found = diarizer.diarize(audio, transcript=transcript, num_speakers=num_speakers)
    except DiarizationError as exc:
        return replace(transcript, speakers=SpeakerRun(model, error=f"{type(exc).__name__}: {exc}"))
    labelled = assign_speakers(transcript, found.turns)
    return replace(labelled, speakers=SpeakerRun(found.model, tuple((v.label, v.print) for v in found.voices)))
