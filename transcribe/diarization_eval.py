"""Diarization accuracy: interviews built from real recordings with known turns, and their score.

The score is time-based on a 10 ms grid. Under the one-to-one mapping of found labels to
true voices that gives the most agreement, `accuracy` is the share of reference speech
given to the right voice, and `der` the diarization error rate (missed speech, false
alarm and confusion over reference speech, no collar). The count is right when as many
labels as voices were found.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from transcribe.diarize import SAMPLE_RATE, DiarizeOptions, Diarizer, Turn, decode, speech_regions
from transcribe.result import Transcript

_STEP = 0.01
# Speech of the true turns: Silero VAD on each recording alone, at its usual threshold.
REFERENCE_VAD = DiarizeOptions(vad_threshold=0.5, min_silence_ms=300, speech_pad_ms=100)


@dataclass(frozen=True)
class Score:
    """Seconds of reference speech by outcome, and the voice counts."""

    speech: float
    correct: float
    missed: float
    false_alarm: float
    confusion: float
    voices: int
    found: int

    @property
    def accuracy(self) -> float:
        """Share of reference speech on the right voice (best label mapping)."""
        return self.correct / self.speech if self.speech else float("nan")

    @property
    def der(self) -> float:
        """Diarization error rate: (missed + false alarm + confusion) / reference speech."""
        return (self.missed + self.false_alarm + self.confusion) / self.speech if self.speech else float("nan")

    @property
    def right_count(self) -> bool:
        """As many labels found as there are voices."""
        return self.voices == self.found


def score(reference: Sequence[Turn], hypothesis: Sequence[Turn]) -> Score:
    """Compare found turns with the true ones (speaker = voice name); overlapping true speech is not supported.

    >>> ref = [Turn(0, 4, "anne"), Turn(5, 9, "paul")]
    >>> s = score(ref, [Turn(0, 5, "Speaker 1"), Turn(5, 8, "Speaker 2")])
    >>> round(s.accuracy, 3), round(s.der, 3), s.right_count
    (0.875, 0.25, True)
    """
    end = max([t.end for t in [*reference, *hypothesis]], default=0.0)
    frames = int(np.ceil(end / _STEP)) + 1
    ref_names = sorted({t.speaker for t in reference})
    hyp_names = sorted({t.speaker for t in hypothesis})
    ref = _grid(reference, ref_names, frames)
    hyp = _grid(hypothesis, hyp_names, frames)
    speech = ref >= 0
    overlap = np.zeros((len(ref_names), len(hyp_names)))
    both = speech & (hyp >= 0)
    np.add.at(overlap, (ref[both], hyp[both]), 1)
    correct = _best_mapping(overlap)
    total = int(speech.sum())
    missed = int((speech & (hyp < 0)).sum())
    false_alarm = int((~speech & (hyp >= 0)).sum())
    confusion = total - missed - correct
    return Score(
        speech=total * _STEP,
        correct=correct * _STEP,
        missed=missed * _STEP,
        false_alarm=false_alarm * _STEP,
        confusion=confusion * _STEP,
        voices=len(ref_names),
        found=len(hyp_names),
    )


def _grid(turns: Sequence[Turn], names: list[str], frames: int) -> NDArray[np.int64]:
    """Index of the speaker at each 10 ms frame, -1 where nobody speaks (later turns win overlaps)."""
    grid = np.full(frames, -1, dtype=np.int64)
    for t in turns:
        grid[int(round(t.start / _STEP)) : int(round(t.end / _STEP))] = names.index(t.speaker)
    return grid


def _best_mapping(overlap: NDArray[np.float64]) -> int:
    """Frames agreeing under the best one-to-one mapping (exhaustive; at most 6 voices a side here)."""
    rows, cols = overlap.shape
    if not rows or not cols:
        return 0
    if rows <= cols:
        return int(max(sum(overlap[r, c] for r, c in enumerate(p)) for p in itertools.permutations(range(cols), rows)))
    return int(max(sum(overlap[r, c] for c, r in enumerate(p)) for p in itertools.permutations(range(rows), cols)))


def transcript_turns(transcript: Transcript) -> tuple[Turn, ...]:
    """The speaker turns a labelled transcript carries: its words' spans (its segments' without words)."""
    turns: list[Turn] = []
    for seg in transcript.segments:
        if seg.speaker is None:
            continue
        spans = [(w.start, w.end) for w in seg.words] or [(seg.start, seg.end)]
        turns.extend(Turn(s, e, seg.speaker) for s, e in spans if e > s)
    return tuple(turns)


# --- Test interviews from the repository's real recordings -----------------------------


@dataclass(frozen=True)
class Interview:
    """Audio made by joining recordings of known people, and who speaks when (speech only)."""

    name: str
    samples: NDArray[np.float32]
    turns: tuple[Turn, ...]

    @property
    def voices(self) -> int:
        """How many different people speak."""
        return len({t.speaker for t in self.turns})

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return len(self.samples) / SAMPLE_RATE


def compose(name: str, pieces: Sequence[tuple[str, NDArray[np.float32]]], pauses: Sequence[float]) -> Interview:
    """Join (voice, samples) pieces with the given pauses between them (cycled).

    The true turns are each piece's speech as Silero VAD finds it in that piece alone
    (REFERENCE_VAD): who speaks is known from the recording, where the
    speech starts and pauses is the detector's, so the score measures attribution.
    """
    out: list[NDArray[np.float32]] = []
    turns: list[Turn] = []
    at = 0
    vad = REFERENCE_VAD
    for k, (voice, samples) in enumerate(pieces):
        if k:
            gap = np.zeros(int(pauses[(k - 1) % len(pauses)] * SAMPLE_RATE), dtype=np.float32)
            out.append(gap)
            at += len(gap)
        offset = at / SAMPLE_RATE
        turns.extend(Turn(round(offset + s, 3), round(offset + e, 3), voice) for s, e in speech_regions(samples, vad))
        out.append(samples.astype(np.float32))
        at += len(samples)
    return Interview(name, np.concatenate(out), tuple(turns))


def levelled(samples: NDArray[np.float32], target_db: float = -26.0) -> NDArray[np.float32]:
    """The recording scaled so that its speech (25 ms frames within 30 dB of the loudest) has RMS `target_db` dBFS.

    FLEURS clips differ by 35 dB (fr-000 peaks near -45 dBFS, jfk near -9); a produced
    interview is levelled, and Silero VAD misses a voice 35 dB below the previous one.
    """
    frame = SAMPLE_RATE // 40
    count = len(samples) // frame
    if not count:
        return samples
    energy = (samples[: count * frame].reshape(count, frame).astype(np.float64) ** 2).mean(axis=1)
    db = 10 * np.log10(energy + 1e-20)
    speech = energy[db > db.max() - 30]
    gain = float(10 ** ((target_db - 10 * np.log10(speech.mean())) / 20))
    out: NDArray[np.float32] = np.clip(samples * gain, -1.0, 1.0).astype(np.float32)
    return out


def split_at_pauses(samples: NDArray[np.float32], parts: int) -> list[NDArray[np.float32]]:
    """Cut a recording into `parts` pieces of about equal length, each cut in the quietest 100 ms nearby.

    The quietest 100 ms within a second of each equal-length cut point: between words,
    so each piece is whole words of the same person.
    """
    cuts = [0]
    window = SAMPLE_RATE // 10
    for k in range(1, parts):
        target = len(samples) * k // parts
        lo, hi = max(target - SAMPLE_RATE, cuts[-1] + window), min(target + SAMPLE_RATE, len(samples) - window)
        starts = np.arange(lo, hi, SAMPLE_RATE // 100)
        energy = [float(np.square(samples[s : s + window]).sum()) for s in starts]
        cuts.append(int(starts[int(np.argmin(energy))]) + window // 2)
    cuts.append(len(samples))
    return [samples[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


# Who is who: FLEURS clips are read by different people, but not always. Whole-clip
# CAM++ cosines (docs/speakers.md) put fr-003 and fr-004 at 0.84, as high as two halves
# of one clip (0.76-0.89), against 0.14-0.62 for every other pair; the voice-filter
# d-vectors agree (0.83). They are treated as one person and fr-004 is not used.
VOICES = {
    "fr-000": "fleurs-fr-000.ogg",
    "fr-001": "fleurs-fr-001.ogg",
    "fr-002": "fleurs-fr-002.ogg",
    "fr-003": "fleurs-fr-003.ogg",
    "en-000": "fleurs-en-000.ogg",
    "en-001": "fleurs-en-001.ogg",
    "en-002": "fleurs-en-002.ogg",
    "jfk": "jfk.flac",
}
# name: ((voice, how many pieces its recording is cut into), ...), then the turn order.
SCENARIOS: dict[str, tuple[tuple[tuple[str, int], ...], str]] = {
    "1 voice (fr-001)": ((("fr-001", 4),), "AAAA"),
    "2 voices fr (fr-001, fr-002)": ((("fr-001", 3), ("fr-002", 2)), "ABABA"),
    "2 voices fr, both women (fr-000, fr-003)": ((("fr-000", 2), ("fr-003", 2)), "ABAB"),
    "2 voices en (en-001, jfk)": ((("en-001", 2), ("jfk", 3)), "BABAB"),
    "3 voices fr/en (fr-001, fr-002, jfk)": ((("fr-001", 3), ("fr-002", 2), ("jfk", 2)), "ABACBCA"),
    "3 voices en (en-000, en-001, en-002)": ((("en-000", 2), ("en-001", 2), ("en-002", 2)), "ABCABC"),
}
PAUSES = (0.6, 0.9, 0.5, 1.2)


def interviews(audio_dir: Path, level: bool = True) -> list[Interview]:
    """The SCENARIOS built from the clips in `audio_dir` (tests/data/audio), levelled unless `level` is false."""
    decoded = {voice: decode(audio_dir / file) for voice, file in VOICES.items()}
    if level:
        decoded = {voice: levelled(samples) for voice, samples in decoded.items()}
    built = []
    for name, (cast, order) in SCENARIOS.items():
        letters = "ABCDEF"
        queues = {letters[i]: (voice, split_at_pauses(decoded[voice], parts)) for i, (voice, parts) in enumerate(cast)}
        pieces = []
        for letter in order:
            voice, remaining = queues[letter]
            pieces.append((voice, remaining.pop(0)))
        built.append(compose(name, pieces, PAUSES))
    return built


@dataclass(frozen=True)
class Result:
    """One interview diarized: the score and the seconds it took."""

    interview: Interview
    score: Score
    seconds: float


def evaluate(diarizer: Diarizer, built: Sequence[Interview]) -> list[Result]:
    """Diarize each interview (count estimated) and score it."""
    import time

    results = []
    for interview in built:
        started = time.perf_counter()
        found = diarizer.diarize(interview.samples)
        results.append(Result(interview, score(interview.turns, found.turns), time.perf_counter() - started))
    return results


def report(results: Sequence[Result]) -> list[str]:
    """One line per interview and a total: right-voice share, DER, voices found, time."""
    lines = []
    for r in results:
        s = r.score
        lines.append(
            f"{r.interview.name}: {s.accuracy:.1%} of speech on the right voice, DER {s.der:.1%}, "
            f"{s.found} of {s.voices} voices{'' if s.right_count else ' (WRONG COUNT)'}, "
            f"{r.interview.duration:.0f} s of audio in {r.seconds:.1f} s"
        )
    multi = [r for r in results if r.interview.voices > 1]
    if multi:
        speech = sum(r.score.speech for r in multi)
        correct = sum(r.score.correct for r in multi)
        counts = sum(r.score.right_count for r in multi)
        lines.append(
            f"2 and 3 voices: {correct / speech:.1%} of speech on the right voice (worst "
            f"{min(r.score.accuracy for r in multi):.1%}), right count {counts} of {len(multi)} (goal: >= 90 %, all)"
        )
    return lines
