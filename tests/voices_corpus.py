"""Stored episodes whose voices have real prints (CAM++ on the repository's recordings), for known-voices tests.

fr-001 is "Marie" (A1, A2: the halves of its recording), fr-002 "Paul" (B1, B2), jfk nobody known (C).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.web_corpus import transcript
from transcribe import Transcript as TranscriptResult
from transcribe.diarization_eval import VOICES, levelled
from transcribe.diarize import Diarizer, decode
from transcribe.result import SpeakerRun
from transcribe.voice_model import VoiceEmbedder, default_model_path
from transcribe.voiceprints import VoicePrint

AUDIO = Path(__file__).parent / "data" / "audio"
ITEMS = [
    {"title": "Premier épisode", "guid": "ep-1", "date": "Mon, 09 Nov 2026 09:00:00 -0500"},
    {"title": "Deuxième épisode", "guid": "ep-2", "date": "Tue, 10 Nov 2026 09:00:00 -0500"},
    {"title": "Troisième épisode", "guid": "ep-3", "date": "Wed, 11 Nov 2026 09:00:00 -0500"},
]
TEXTS = [
    ("Speaker 1", "Bonjour et bienvenue à l'émission."),
    ("Speaker 2", "Merci de me recevoir."),
    ("Speaker 1", "Parlons de la forêt boréale."),
    ("Speaker 2", "Elle couvre une grande partie du Québec."),
]


def real_prints() -> dict[str, VoicePrint]:
    """A1/A2 (halves of fr-001), B1/B2 (halves of fr-002), C (jfk), from the real speaker model."""
    path = default_model_path()
    assert path.is_file(), f"speaker model {path} missing: run ./dev setup"
    diarizer = Diarizer(VoiceEmbedder(path))
    out = {}
    for key, voice in (("A", "fr-001"), ("B", "fr-002")):
        samples = levelled(decode(AUDIO / VOICES[voice]))
        middle = len(samples) / 32000
        out[key + "1"] = diarizer.voice_print(samples, [(0.0, middle)])
        out[key + "2"] = diarizer.voice_print(samples, [(middle, 2 * middle)])
    jfk = levelled(decode(AUDIO / VOICES["jfk"]))
    out["C"] = diarizer.voice_print(jfk, [(0.0, len(jfk) / 16000)])
    return out


def voiced(one: VoicePrint, two: VoicePrint) -> TranscriptResult:
    """TEXTS as a machine transcript whose "Speaker 1" and "Speaker 2" have these prints."""
    run = SpeakerRun(one.model, (("Speaker 1", one), ("Speaker 2", two)))
    return replace(transcript(TEXTS), speakers=run)
