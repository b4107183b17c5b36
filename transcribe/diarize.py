"""Who spoke when: speech windows, voice embeddings, clustering, turns "Speaker 1", "Speaker 2", ...

Speech is found with the Silero VAD that faster-whisper ships (and, when a transcript
is given, kept only where words were recognised, so a jingle is no speaker); each speech
region is cut into 2 s windows (the last one ends with the region), each window gets a
CAM++ embedding (transcribe.voice_model), the windows are clustered
(transcribe.clustering), and each stretch of a region goes to the window centred nearest
to it. Labels are numbered by first appearance. transcribe.speakers puts the turns on a
Transcript's words and segments; docs/speakers.md has the measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from transcribe.clustering import cluster
from transcribe.errors import DiarizationError
from transcribe.labels import MAX_SPEAKERS, label
from transcribe.result import Transcript
from transcribe.voice_model import Span, VoiceEmbedder
from transcribe.voiceprints import VoicePrint

SAMPLE_RATE = 16000
_QUANTUM = 0.25


@dataclass(frozen=True)
class DiarizeOptions:
    """How speech is windowed and when two groups of windows count as one voice."""

    # Seconds of audio per embedding, and between window starts. Overlapping windows (hop
    # 1.0) scored the same on the test interviews at twice the cost (docs/speakers.md).
    window: float = 2.0
    hop: float = 2.0
    # Speech shorter than this is not embedded; its words take the nearest turn's voice.
    min_window: float = 0.5
    # Average cosine similarity (CAM++) under which two clusters stay apart (docs/speakers.md).
    threshold: float = 0.6
    max_speakers: int = MAX_SPEAKERS
    # A cluster with less speech than this many seconds is folded into the nearest voice.
    min_speaker_seconds: float = 2.0
    # Silero VAD: speech probability, and the pause (ms) that ends a region.
    vad_threshold: float = 0.4
    min_silence_ms: int = 300
    speech_pad_ms: int = 100
    # With a transcript: speech is kept within this many seconds of a recognised word.
    word_margin: float = 0.3


@dataclass(frozen=True)
class Turn:
    """A stretch of speech by one voice (seconds)."""

    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Voice:
    """One voice found in an episode: its label, how much it speaks, and its print."""

    label: str
    seconds: float
    print: VoicePrint


@dataclass(frozen=True)
class Diarization:
    """An episode's speaker turns, in time order, and its voices numbered by first appearance."""

    turns: tuple[Turn, ...]
    voices: tuple[Voice, ...]
    model: str

    @property
    def speakers(self) -> tuple[str, ...]:
        """The labels, "Speaker 1" first."""
        return tuple(v.label for v in self.voices)


class Diarizer:
    """Finds speaker turns in audio with one loaded voice embedder."""

    def __init__(self, embedder: VoiceEmbedder | None = None, options: DiarizeOptions | None = None) -> None:
        self.embedder = embedder or VoiceEmbedder()
        self.options = options or DiarizeOptions()

    def diarize(
        self,
        audio: Path | NDArray[np.float32],
        *,
        transcript: Transcript | None = None,
        num_speakers: int | None = None,
    ) -> Diarization:
        """Turns and voices of `audio` (a file, or 16 kHz mono samples).

        `num_speakers` fixes the count (a show's hint); otherwise it is estimated, 1 to
        `max_speakers`. With `transcript`, only speech near its words counts. No speech
        gives no turns. Raises SpeakerModelError (model missing) or DiarizationError.
        """
        if num_speakers is not None and not 1 <= num_speakers <= self.options.max_speakers:
            raise ValueError(f"num_speakers must be 1 to {self.options.max_speakers}, not {num_speakers}")
        samples = decode(audio) if isinstance(audio, Path) else np.asarray(audio, dtype=np.float32)
        self.embedder.load()  # a missing model fails before any work
        regions = speech_regions(samples, self.options)
        if transcript is not None:
            regions = _near_words(regions, transcript, self.options.word_margin)
        windows = speech_windows(regions, self.options)
        if not windows:
            return Diarization((), (), self.embedder.model_id)
        vectors = self.embedder.embed(samples, windows)
        numbers = cluster(
            vectors,
            threshold=self.options.threshold,
            num_speakers=num_speakers,
            max_speakers=self.options.max_speakers,
            weights=np.array([e - s for s, e in windows]),
            min_weight=self.options.min_speaker_seconds,
        )
        turns = turns_from_windows(regions, windows, numbers.tolist())
        return Diarization(turns, self._voices(turns, vectors, numbers), self.embedder.model_id)

    def voice_print(self, audio: Path | NDArray[np.float32], spans: Sequence[Span]) -> VoicePrint:
        """The print of one voice from (start, end) spans where only it speaks (e.g. a named speaker's).

        Raises DiarizationError when the spans hold no speech window.
        """
        samples = decode(audio) if isinstance(audio, Path) else np.asarray(audio, dtype=np.float32)
        regions = [(max(s, 0.0), min(e, len(samples) / SAMPLE_RATE)) for s, e in sorted(spans) if e > s]
        windows = speech_windows(regions, self.options)
        if not windows:
            raise DiarizationError("no speech long enough for a voice print in the given spans")
        vectors = self.embedder.embed(samples, windows)
        mean = vectors.mean(axis=0)
        seconds = sum(e - s for s, e in regions)
        return VoicePrint(tuple(float(x) for x in mean), self.embedder.model_id, round(seconds, 2))

    def _voices(
        self, turns: tuple[Turn, ...], vectors: NDArray[np.float32], numbers: NDArray[np.int64]
    ) -> tuple[Voice, ...]:
        voices = []
        for n in range(int(np.max(numbers)) + 1):
            mean = vectors[numbers == n].mean(axis=0)
            seconds = round(sum(t.end - t.start for t in turns if t.speaker == label(n)), 2)
            voices.append(
                Voice(label(n), seconds, VoicePrint(tuple(float(x) for x in mean), self.embedder.model_id, seconds))
            )
        return tuple(voices)


def decode(path: Path) -> NDArray[np.float32]:
    """16 kHz mono samples of an audio file; DiarizationError if it cannot be decoded."""
    from faster_whisper import decode_audio

    try:
        samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises many types
        raise DiarizationError(f"cannot decode audio {path}: {exc}") from exc
    return np.asarray(samples, dtype=np.float32)


def speech_regions(samples: NDArray[np.float32], options: DiarizeOptions) -> list[Span]:
    """(start, end) seconds of speech found by Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(samples) < SAMPLE_RATE // 10:
        return []
    vad = VadOptions(
        threshold=options.vad_threshold,
        min_silence_duration_ms=options.min_silence_ms,
        speech_pad_ms=options.speech_pad_ms,
    )
    try:
        found = get_speech_timestamps(samples, vad, sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # onnxruntime errors in the VAD model
        raise DiarizationError(f"voice activity detection failed: {exc}") from exc
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in found]


def speech_windows(regions: Sequence[Span], options: DiarizeOptions) -> list[Span]:
    """Windows of `window` seconds every `hop` within each region; the last one ends with the region.

    A region shorter than a window is one window, in whole quarter seconds from its
    start; shorter than `min_window`, none.

    >>> speech_windows([(0.0, 3.5), (4.0, 4.8), (5.0, 5.2)], DiarizeOptions())
    [(0.0, 2.0), (1.5, 3.5), (4.0, 4.75)]
    """
    windows: list[Span] = []
    for start, end in regions:
        length = end - start
        if length < options.min_window:
            continue
        if length <= options.window:
            # Whole quarter seconds: a handful of window lengths, so that they batch together.
            windows.append((start, start + float(np.floor(length / _QUANTUM + 1e-9)) * _QUANTUM))
            continue
        count = int(np.ceil((length - options.window) / options.hop - 1e-9)) + 1
        for k in range(count):
            first = min(start + k * options.hop, end - options.window)
            windows.append((round(first, 3), round(first + options.window, 3)))
    return windows


def turns_from_windows(regions: Sequence[Span], windows: Sequence[Span], numbers: Sequence[int]) -> tuple[Turn, ...]:
    """Each region cut between neighbouring window centres, pieces labelled, touching ones of a voice joined.

    A region without a window of its own (too short) takes the voice of the nearest window.

    >>> turns = turns_from_windows([(0, 3), (3.2, 3.4)], [(0, 1.5), (0.75, 2.25), (1.5, 3)], [0, 1, 1])
    >>> [(t.start, t.end, t.speaker) for t in turns]
    [(0.0, 1.125, 'Speaker 1'), (1.125, 3.0, 'Speaker 2'), (3.2, 3.4, 'Speaker 2')]
    """
    if not windows:
        return ()
    centres = np.array([(s + e) / 2 for s, e in windows])
    pieces: list[Turn] = []
    for start, end in regions:
        inside = [i for i, c in enumerate(centres) if start <= c <= end]
        if not inside:
            nearest = int(np.argmin(np.abs(centres - (start + end) / 2)))
            pieces.append(Turn(start, end, label(numbers[nearest])))
            continue
        cuts = [start] + [(centres[a] + centres[b]) / 2 for a, b in zip(inside, inside[1:], strict=False)] + [end]
        for k, i in enumerate(inside):
            pieces.append(Turn(float(cuts[k]), float(cuts[k + 1]), label(numbers[i])))
    return _joined(pieces)


def _joined(pieces: list[Turn], gap: float = 0.01) -> tuple[Turn, ...]:
    """Consecutive pieces of one voice that touch (less than `gap` apart) as one turn."""
    turns: list[Turn] = []
    for piece in sorted(pieces, key=lambda t: t.start):
        if turns and turns[-1].speaker == piece.speaker and piece.start - turns[-1].end < gap:
            turns[-1] = Turn(turns[-1].start, max(turns[-1].end, piece.end), piece.speaker)
        elif piece.end > piece.start:
            turns.append(piece)
    return tuple(turns)


def _near_words(regions: list[Span], transcript: Transcript, margin: float) -> list[Span]:
    """The parts of regions within `margin` of a recognised word (or a segment, without word timings)."""
    spans = sorted(
        (w.start - margin, w.end + margin)
        for seg in transcript.segments
        for w in (seg.words or (seg,))
        if w.end > w.start
    )
    out: list[Span] = []
    for start, end in regions:
        for s, e in spans:
            lo, hi = max(start, s), min(end, e)
            if hi <= lo:
                continue
            if out and lo <= out[-1][1] and out[-1][0] >= start:
                out[-1] = (out[-1][0], max(out[-1][1], hi))
            else:
                out.append((lo, hi))
    return out
