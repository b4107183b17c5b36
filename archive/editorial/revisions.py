"""Transcript snapshots for revisions: JSON form, word re-timing after an edit, diffs. No I/O."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, replace

from archive.store.schema import Transcript

# A word the model was less sure of than this is marked for the editor.
LOW_CONFIDENCE = 0.5


@dataclass(frozen=True, slots=True)
class WordSnap:
    """A timed word; probability 1.0 means a person typed it."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class PassageSnap:
    """One passage of a revision."""

    position: int
    start: float
    end: float
    text: str
    speaker: str | None
    words: tuple[WordSnap, ...] = ()


Snapshot = tuple[PassageSnap, ...]


def from_transcript(transcript: Transcript) -> Snapshot:
    """The machine transcript as a snapshot (revision 0)."""
    return tuple(
        PassageSnap(
            seg.position,
            seg.start,
            seg.end,
            seg.text.strip(),
            seg.speaker,
            tuple(WordSnap(w.start, w.end, w.text.strip(), w.probability) for w in seg.words),
        )
        for seg in transcript.segments
    )


def dumps(snapshot: Snapshot) -> str:
    """A snapshot as compact JSON for the revisions table."""
    return json.dumps(
        [
            {
                "position": p.position,
                "start": p.start,
                "end": p.end,
                "text": p.text,
                "speaker": p.speaker,
                "words": [[w.start, w.end, w.text, w.probability] for w in p.words],
            }
            for p in snapshot
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def loads(data: str) -> Snapshot:
    """A snapshot back from JSON."""
    return tuple(
        PassageSnap(
            int(p["position"]),
            float(p["start"]),
            float(p["end"]),
            p["text"],
            p["speaker"],
            tuple(WordSnap(float(a), float(b), t, float(pr)) for a, b, t, pr in p["words"]),
        )
        for p in json.loads(data)
    )


def clean_text(text: str) -> str:
    """Passage text as stored: one line, single spaces.

    >>> clean_text("  Bonjour\\r\\n  tout   le monde ")
    'Bonjour tout le monde'
    """
    return " ".join(text.split())


def retime(passage: PassageSnap, new_text: str) -> PassageSnap:
    """The passage with new text: unchanged words keep their times, changed words share their span.

    >>> p = PassageSnap(0, 0.0, 3.0, "a b c", None,
    ...                 (WordSnap(0, 1, "a", .9), WordSnap(1, 2, "b", .2), WordSnap(2, 3, "c", .9)))
    >>> [(w.start, w.end, w.text, w.probability) for w in retime(p, "a x y c").words]
    [(0, 1, 'a', 0.9), (1.0, 1.5, 'x', 1.0), (1.5, 2.0, 'y', 1.0), (2, 3, 'c', 0.9)]
    """
    text = clean_text(new_text)
    if text == passage.text:
        return passage
    if not passage.words:
        return replace(passage, text=text)
    old = passage.words
    tokens = text.split()
    matcher = difflib.SequenceMatcher(None, [w.text for w in old], tokens, autojunk=False)
    words: list[WordSnap] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            words.extend(old[i1:i2])
            continue
        if j1 == j2:
            continue  # deleted words leave their time to the neighbours
        # The replaced words' span; for a pure insertion, the gap between the neighbours.
        lo = old[i1].start if i1 < i2 else (words[-1].end if words else passage.start)
        hi = old[i2 - 1].end if i1 < i2 else (old[i2].start if i2 < len(old) else passage.end)
        hi = max(hi, lo)
        step = (hi - lo) / (j2 - j1)
        words.extend(
            WordSnap(round(lo + k * step, 3), round(lo + (k + 1) * step, 3), tokens[j1 + k], 1.0)
            for k in range(j2 - j1)
        )
    return replace(passage, text=text, words=tuple(words))


def with_passage(
    snapshot: Snapshot, position: int, text: str | None = None, speaker: str | None | bool = False
) -> Snapshot:
    """The snapshot with one passage's text and/or speaker changed (speaker False: unchanged)."""
    out = []
    for p in snapshot:
        if p.position == position:
            if text is not None:
                p = retime(p, text)
            if speaker is not False:
                p = replace(p, speaker=(clean_text(str(speaker)) or None) if speaker else None)
        out.append(p)
    return tuple(out)


def rename_speaker(snapshot: Snapshot, old: str | None, new: str | None) -> tuple[Snapshot, int]:
    """Every passage of speaker `old` (None: unnamed) now by `new`; returns how many changed."""
    new = clean_text(new or "") or None
    changed = 0
    out = []
    for p in snapshot:
        if p.speaker == old and p.speaker != new:
            p = replace(p, speaker=new)
            changed += 1
        out.append(p)
    return tuple(out), changed


def speakers(snapshot: Snapshot) -> list[tuple[str | None, int]]:
    """The speakers of a snapshot and their passage counts, in order of first appearance."""
    counts: dict[str | None, int] = {}
    for p in snapshot:
        counts[p.speaker] = counts.get(p.speaker, 0) + 1
    return list(counts.items())


@dataclass(frozen=True)
class PassageChange:
    """How one passage differs between two snapshots; `ops` are (tag, text) for an inline diff."""

    position: int
    start: float
    old_speaker: str | None
    new_speaker: str | None
    ops: tuple[tuple[str, str], ...]

    @property
    def text_changed(self) -> bool:
        """Whether any word differs."""
        return any(tag != "equal" for tag, _ in self.ops)


def word_ops(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """A word-level diff as (equal|delete|insert, text) runs.

    >>> word_ops("le chat noir", "le chien noir")
    (('equal', 'le'), ('delete', 'chat'), ('insert', 'chien'), ('equal', 'noir'))
    """
    a, b = old.split(), new.split()
    ops: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(("equal", " ".join(a[i1:i2])))
            continue
        if i1 < i2:
            ops.append(("delete", " ".join(a[i1:i2])))
        if j1 < j2:
            ops.append(("insert", " ".join(b[j1:j2])))
    return tuple(ops)


def diff(old: Snapshot, new: Snapshot) -> list[PassageChange]:
    """The passages whose text or speaker differ, matched by position."""
    before = {p.position: p for p in old}
    changes = []
    for p in new:
        q = before.get(p.position)
        if q is None or q.text != p.text or q.speaker != p.speaker:
            old_text, old_speaker = (q.text, q.speaker) if q else ("", None)
            changes.append(PassageChange(p.position, p.start, old_speaker, p.speaker, word_ops(old_text, p.text)))
    return changes
