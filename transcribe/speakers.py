"""Speaker turns onto a transcript: every word and segment labelled, segments split where the voice changes.

Pure: a Transcript and turns in, a new Transcript out. A transcript that already
carries voices (a publisher's `<v>` tags, an earlier run) is returned as it is.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

from transcribe.diarize import Turn
from transcribe.passages import sub_segment
from transcribe.result import Segment, Transcript, Word
from transcribe.voice_model import Span


def needs_speakers(transcript: Transcript) -> bool:
    """True when the transcript has segments and none carries a speaker: diarize only then.

    >>> needs_speakers(Transcript("fr", (Segment(0, 1, "Oui"),), 1.0))
    True
    >>> needs_speakers(Transcript("fr", (Segment(0, 1, "Oui", speaker="Marie"),), 1.0))
    False
    """
    return bool(transcript.segments) and all(s.speaker is None for s in transcript.segments)


def assign_speakers(transcript: Transcript, turns: Sequence[Turn]) -> Transcript:
    """The transcript with each segment cut into runs of words of one voice, each run labelled.

    A word takes the turn it overlaps most, or the nearest turn; a segment without word
    timings takes the turn it overlaps most, whole. Word timings are kept. Without turns,
    or when the transcript already has speakers (needs_speakers), it comes back unchanged.
    """
    if not turns or not needs_speakers(transcript):
        return transcript
    ordered = sorted(turns, key=lambda t: t.start)
    starts = [t.start for t in ordered]
    segments: list[Segment] = []
    for segment in transcript.segments:
        if not segment.words:
            segments.append(replace(segment, speaker=_speaker_at(segment.start, segment.end, ordered, starts)))
            continue
        run: list[Word] = []
        run_speaker = ""
        for word in segment.words:
            speaker = _speaker_at(word.start, word.end, ordered, starts)
            if run and speaker != run_speaker:
                segments.append(replace(sub_segment(segment, tuple(run)), speaker=run_speaker))
                run = []
            run.append(word)
            run_speaker = speaker
        piece = sub_segment(segment, tuple(run)) if len(run) < len(segment.words) else segment
        segments.append(replace(piece, speaker=run_speaker))
    return replace(transcript, segments=tuple(segments))


def _speaker_at(start: float, end: float, turns: list[Turn], starts: list[float]) -> str:
    """The speaker of the turn overlapping [start, end] most, else of the nearest turn.

    >>> turns = [Turn(0, 2, "Speaker 1"), Turn(2, 5, "Speaker 2"), Turn(7, 8, "Speaker 1")]
    >>> starts = [t.start for t in turns]
    >>> [_speaker_at(s, e, turns, starts) for s, e in [(1.5, 2.2), (1.8, 3), (5.5, 5.9), (6.2, 6.5), (9, 9)]]
    ['Speaker 1', 'Speaker 2', 'Speaker 2', 'Speaker 1', 'Speaker 1']
    """
    first = max(bisect.bisect_right(starts, start) - 1, 0)
    best, best_overlap = None, 0.0
    k = first
    while k < len(turns) and turns[k].start < end:
        overlap = min(end, turns[k].end) - max(start, turns[k].start)
        if overlap > best_overlap:
            best, best_overlap = turns[k], overlap
        k += 1
    if best is not None:
        return best.speaker
    # No overlap: the turn ending just before or starting just after, whichever is closer.
    after = bisect.bisect_left(starts, end)
    candidates = [turns[i] for i in (after - 1, after) if 0 <= i < len(turns)]
    return min(candidates, key=lambda t: max(t.start - end, start - t.end, 0.0)).speaker


def speaker_spans(transcript: Transcript, speaker: str, join_gap: float = 0.3) -> list[Span]:
    """(start, end) seconds where `speaker` talks: its words (segments without words), joined across short gaps.

    The speech to make a voice print from once an editor has named a label.

    >>> seg = Segment(0, 3, "a b c", (Word(0, .5, "a", 1), Word(.6, 1, "b", 1), Word(2, 3, "c", 1)), speaker="S")
    >>> speaker_spans(Transcript("fr", (seg, Segment(3, 4, "d", speaker="T")), 4.0), "S")
    [(0, 1), (2, 3)]
    """
    spans: list[Span] = []
    for segment in transcript.segments:
        if segment.speaker != speaker:
            continue
        for start, end in [(w.start, w.end) for w in segment.words] or [(segment.start, segment.end)]:
            if spans and start - spans[-1][1] <= join_gap:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            elif end > start:
                spans.append((start, end))
    return spans
