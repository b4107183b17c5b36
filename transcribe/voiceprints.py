"""Voice prints: what a named voice sounds like, kept per show, and finding known voices in a new episode.

A print is the mean of the unit-length window embeddings of a voice's speech, not
re-normalised: the dot product of two prints is then the average cosine between their
windows, the same measure (average linkage) that decides whether two clusters of one
episode are one voice, so one threshold serves both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Average window cosine from which a cluster is taken for a known voice: the diarizer's
# own merge threshold (DiarizeOptions.threshold). Measured in docs/speakers.md: halves
# of one recording 0.56-0.76, different people at most 0.54.
RECOGNITION_THRESHOLD = 0.6


@dataclass(frozen=True)
class VoicePrint:
    """Mean of a voice's unit window embeddings, the model that made them, and seconds of speech behind it."""

    vector: tuple[float, ...]
    model: str
    seconds: float

    def array(self) -> NDArray[np.float64]:
        """The vector as a numpy array."""
        return np.asarray(self.vector, dtype=np.float64)

    def similarity(self, other: VoicePrint) -> float:
        """Average cosine between the two voices' windows; ValueError across models.

        >>> a = VoicePrint((0.8, 0.0), "m", 10.0)
        >>> round(a.similarity(VoicePrint((0.6, 0.6), "m", 5.0)), 2)
        0.48
        """
        if other.model != self.model:
            raise ValueError(f"voice prints of different models: {self.model} and {other.model}")
        return float(self.array() @ other.array())

    def to_bytes(self) -> bytes:
        """The vector as little-endian float32 (768 bytes for CAM++), for a database column."""
        return np.asarray(self.vector, dtype="<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, model: str, seconds: float) -> VoicePrint:
        """The print stored by to_bytes.

        >>> p = VoicePrint((0.5, -0.25), "m", 3.0)
        >>> VoicePrint.from_bytes(p.to_bytes(), "m", 3.0) == p
        True
        """
        return cls(tuple(float(x) for x in np.frombuffer(data, dtype="<f4")), model, seconds)


def combine(prints: Sequence[VoicePrint]) -> VoicePrint:
    """One print from several of the same voice and model (e.g. confirmed episodes), weighted by seconds.

    >>> combine([VoicePrint((1.0, 0.0), "m", 30.0), VoicePrint((0.0, 1.0), "m", 10.0)])
    VoicePrint(vector=(0.75, 0.25), model='m', seconds=40.0)
    """
    if not prints:
        raise ValueError("no voice prints to combine")
    models = {p.model for p in prints}
    if len(models) > 1:
        raise ValueError(f"voice prints of different models: {sorted(models)}")
    seconds = sum(p.seconds for p in prints)
    weights = np.array([p.seconds for p in prints]) if seconds > 0 else np.ones(len(prints))
    mean = (np.array([p.array() for p in prints]) * weights[:, None]).sum(axis=0) / weights.sum()
    return VoicePrint(tuple(float(x) for x in mean), prints[0].model, seconds)


@dataclass(frozen=True)
class VoiceMatch:
    """An episode's voice label recognised as a known person."""

    label: str
    name: str
    similarity: float


def match_voices(
    voices: Mapping[str, VoicePrint],
    known: Mapping[str, VoicePrint],
    threshold: float = RECOGNITION_THRESHOLD,
) -> tuple[VoiceMatch, ...]:
    """Which labels of an episode (label -> print) are known voices of the show (name -> print).

    The most similar pairs are taken first; each label and each name is used at most
    once; pairs under `threshold`, and prints of another model, never match. In
    label order.

    >>> ep = {"Speaker 1": VoicePrint((0.8, 0.1), "m", 60), "Speaker 2": VoicePrint((0.1, 0.8), "m", 40)}
    >>> show = {"Marie": VoicePrint((0.1, 0.75), "m", 300), "Paul": VoicePrint((0.2, 0.7), "m", 200)}
    >>> [(m.label, m.name) for m in match_voices(ep, show)]
    [('Speaker 2', 'Marie')]
    """
    pairs = sorted(
        (
            (voice.similarity(print_), label, name)
            for label, voice in voices.items()
            for name, print_ in known.items()
            if print_.model == voice.model
        ),
        key=lambda p: -p[0],
    )
    used_labels: set[str] = set()
    used_names: set[str] = set()
    matches = []
    for similarity, label, name in pairs:
        if similarity < threshold:
            break
        if label in used_labels or name in used_names:
            continue
        used_labels.add(label)
        used_names.add(name)
        matches.append(VoiceMatch(label, name, round(similarity, 4)))
    order = list(voices)
    return tuple(sorted(matches, key=lambda m: order.index(m.label)))
