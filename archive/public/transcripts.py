"""Transcripts as readers see them: the chosen text's passages and words, and the download formats."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.editorial import revisions
from archive.editorial.voices import VoiceName, names
from archive.public.visibility import public_text
from archive.store.schema import Revision, Segment, Transcript, Word
from transcribe import Segment as SegmentResult
from transcribe import Transcript as TranscriptResult
from transcribe import Word as WordResult
from transcribe import formats

# Origins that mean a person checked the text ("publisher": the show's own file).
REVIEWED_ORIGINS = frozenset({"reviewed", "editor"})


@dataclass(frozen=True, slots=True)
class WordView:
    """A timed word of a passage."""

    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class PassageView:
    """A transcript passage as the episode page shows it."""

    position: int
    start: float
    end: float
    text: str
    speaker: str | None
    words: tuple[WordView, ...]
    language: str | None = None
    # The speaker is a person recognised by voice whom no editor has reviewed yet.
    recognised: bool = False


@dataclass(frozen=True)
class TranscriptView:
    """An episode's current transcript; passages are loaded only when asked for."""

    id: int
    version: int
    language: str
    model: str
    origin: str
    created_at: datetime
    duration: float
    # The editor's published revision shown instead of the machine text, if any.
    revision_id: int | None = None
    passages: tuple[PassageView, ...] = ()
    # Who stands in for each machine label (known voices), by label: part of what readers see.
    voices: tuple[VoiceName, ...] = ()

    @property
    def kind(self) -> str:
        """ "reviewed", "publisher" or "machine": what the reader is told about the text."""
        if self.origin in REVIEWED_ORIGINS:
            return "reviewed"
        return "publisher" if self.origin == "publisher" else "machine"


def transcript_view(session: Session, episode_id: int) -> TranscriptView | None:
    """What readers may see of an episode's transcript, without its passages (small queries)."""
    chosen = public_text(session, episode_id)
    if chosen is None:
        return None
    t = session.execute(
        select(
            Transcript.id,
            Transcript.version,
            Transcript.language,
            Transcript.model,
            Transcript.origin,
            Transcript.created_at,
            Transcript.duration,
        ).where(Transcript.id == chosen.transcript_id)
    ).one()
    view = TranscriptView(*t)
    if chosen.revision_id is None:
        return replace(view, voices=_voices(session, view.id))
    revision = session.get(Revision, chosen.revision_id)
    created = revision.created_at if revision is not None else view.created_at
    # A revision's labels are those of the machine version it was made over.
    voices = _voices(session, revision.transcript_id) if revision is not None else ()
    return replace(view, origin="reviewed", revision_id=chosen.revision_id, created_at=created, voices=voices)


def _voices(session: Session, transcript_id: int) -> tuple[VoiceName, ...]:
    return tuple(sorted(names(session, transcript_id).values(), key=lambda v: v.label))


def _named(passages: tuple[PassageView, ...], voices: tuple[VoiceName, ...]) -> tuple[PassageView, ...]:
    """Each machine label with a known voice shows the person's name (editors' names stay as they wrote them)."""
    shown = {v.label: v for v in voices}
    if not shown:
        return passages
    return tuple(
        replace(p, speaker=shown[p.speaker].name, recognised=shown[p.speaker].recognised) if p.speaker in shown else p
        for p in passages
    )


def transcript_passages(session: Session, view: TranscriptView) -> tuple[PassageView, ...]:
    """The passages of what transcript_view chose, in order, with their word timings and languages."""
    segments = session.execute(
        select(
            Segment.id, Segment.position, Segment.start, Segment.end, Segment.text, Segment.speaker, Segment.language
        )
        .where(Segment.transcript_id == view.id)
        .order_by(Segment.position)
    ).all()
    if view.revision_id is not None:
        revision = session.get(Revision, view.revision_id)
        snapshot = revisions.loads(revision.segments_json) if revision is not None else ()
        # A revision keeps positions; each passage's language is the machine segment's.
        languages = {pos: lang for _, pos, _, _, _, _, lang in segments}
        return _named(
            tuple(
                PassageView(
                    p.position,
                    p.start,
                    p.end,
                    p.text,
                    p.speaker,
                    tuple(WordView(w.start, w.end, w.text) for w in p.words),
                    languages.get(p.position) or view.language,
                )
                for p in snapshot
            ),
            view.voices,
        )
    words: dict[int, list[WordView]] = {}
    # One query for every word of the transcript: a 2-hour interview has ~20k words.
    for seg_id, start, end, text in session.execute(
        select(Word.segment_id, Word.start, Word.end, Word.text)
        .join(Segment, Segment.id == Word.segment_id)
        .where(Segment.transcript_id == view.id)
        .order_by(Word.segment_id, Word.position)
    ):
        words.setdefault(seg_id, []).append(WordView(start, end, text))
    return _named(
        tuple(
            PassageView(pos, start, end, text, speaker, tuple(words.get(sid, ())), lang or view.language)
            for sid, pos, start, end, text, speaker, lang in segments
        ),
        view.voices,
    )


def episode_transcript(session: Session, episode_id: int) -> TranscriptView | None:
    """The current transcript of an episode with its passages and word timings."""
    meta = transcript_view(session, episode_id)
    if meta is None:
        return None
    return replace(meta, passages=transcript_passages(session, meta))


def transcript_result(session: Session, episode_id: int) -> TranscriptResult | None:
    """The current transcript as a transcribe.Transcript, for the export formats."""
    view = episode_transcript(session, episode_id)
    if view is None:
        return None
    return TranscriptResult(
        language=view.language,
        segments=tuple(
            SegmentResult(
                start=p.start,
                end=p.end,
                text=p.text,
                speaker=p.speaker,
                words=tuple(WordResult(w.start, w.end, w.text, 1.0) for w in p.words),
            )
            for p in view.passages
        ),
        duration=float(view.duration),
        model=view.model,
        origin=view.origin,
    )


# Download formats: name -> (render, content type).
FORMATS = {
    "vtt": (formats.to_vtt, "text/vtt; charset=utf-8"),
    "srt": (formats.to_srt, "application/x-subrip; charset=utf-8"),
    "json": (formats.to_podcast_json, "application/json; charset=utf-8"),
    "txt": (formats.to_text, "text/plain; charset=utf-8"),
}


def export(session: Session, episode_id: int, fmt: str) -> tuple[str, str] | None:
    """(body, content type) of what readers may see of the transcript in one of FORMATS; None when nothing."""
    if fmt not in FORMATS:
        return None
    transcript = transcript_result(session, episode_id)
    if transcript is None:
        return None
    render, mimetype = FORMATS[fmt]
    return render(transcript), mimetype
