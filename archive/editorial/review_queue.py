"""The editors' review queue: unreviewed transcripts, riskiest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from archive.editorial.revisions import LOW_CONFIDENCE
from archive.store.reviews import IN_REVIEW, MACHINE
from archive.store.schema import Episode, Feed, Review, Segment, Transcript, Word, utcnow

# Decoder statistics Whisper itself treats as suspicious (its own fallback thresholds).
LOW_LOGPROB = -1.0
HIGH_NO_SPEECH = 0.6
# Age stops adding risk after this many days: a year-old transcript is not riskier than a 2-month one.
AGE_CAP_DAYS = 60.0


@dataclass(frozen=True)
class QueueItem:
    """An episode waiting for review and why it is risky."""

    episode_id: int
    title: str
    feed_title: str
    state: str
    transcribed_at: datetime
    passages: int
    risky_passages: int
    words: int
    low_words: int

    @property
    def age_days(self) -> float:
        """Days since the machine transcript was made."""
        return max(0.0, (utcnow() - self.transcribed_at).total_seconds() / 86400)

    @property
    def risk(self) -> float:
        """0-100: half low-confidence words, 30 suspicious passages, 20 waiting time."""
        low = self.low_words / self.words if self.words else 0.0
        risky = self.risky_passages / self.passages if self.passages else 0.0
        return round(50 * min(1.0, low * 4) + 30 * risky + 20 * min(self.age_days, AGE_CAP_DAYS) / AGE_CAP_DAYS, 1)


def queue(session: Session, limit: int = 200) -> list[QueueItem]:
    """Episodes whose transcript is machine text or in review, riskiest first."""
    newest = (
        select(Transcript.episode_id, func.max(Transcript.version).label("v"))
        .group_by(Transcript.episode_id)
        .subquery()
    )
    current = (
        select(Transcript.id, Transcript.episode_id, Transcript.created_at)
        .join(newest, (Transcript.episode_id == newest.c.episode_id) & (Transcript.version == newest.c.v))
        .subquery()
    )
    risky = or_(Segment.flags.is_not(None), Segment.avg_logprob < LOW_LOGPROB, Segment.no_speech_prob > HIGH_NO_SPEECH)
    seg_stats = (
        select(
            Segment.transcript_id.label("tid"),
            func.count(Segment.id).label("n"),
            func.sum(case((risky, 1), else_=0)).label("risky"),
        )
        .group_by(Segment.transcript_id)
        .subquery()
    )
    word_stats = (
        select(
            Segment.transcript_id.label("tid"),
            func.count(Word.id).label("n"),
            func.sum(case((Word.probability < LOW_CONFIDENCE, 1), else_=0)).label("low"),
        )
        .join(Segment, Segment.id == Word.segment_id)
        .group_by(Segment.transcript_id)
        .subquery()
    )
    state = func.coalesce(Review.state, MACHINE)
    rows = session.execute(
        select(
            Episode.id,
            Episode.title,
            Feed.title,
            state,
            current.c.created_at,
            func.coalesce(seg_stats.c.n, 0),
            func.coalesce(seg_stats.c.risky, 0),
            func.coalesce(word_stats.c.n, 0),
            func.coalesce(word_stats.c.low, 0),
        )
        .join(current, current.c.episode_id == Episode.id)
        .join(Feed, Feed.id == Episode.feed_id)
        .outerjoin(Review, Review.episode_id == Episode.id)
        .outerjoin(seg_stats, seg_stats.c.tid == current.c.id)
        .outerjoin(word_stats, word_stats.c.tid == current.c.id)
        .where(state.in_([MACHINE, IN_REVIEW]))
    )
    items = [QueueItem(*row) for row in rows]
    items.sort(key=lambda i: (-i.risk, i.episode_id))
    return items[:limit]
