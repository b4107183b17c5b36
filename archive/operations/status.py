"""`podarchive status`: counts per state, failing feeds and chapters, backlog, last run of each stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import store
from archive.public import visible_texts
from archive.store.schema import AudioFile, Episode, Feed, IndexOutbox, StageRun, Transcript


@dataclass(frozen=True)
class FailingFeed:
    id: int
    url: str
    error_count: int
    last_error: str | None
    next_poll_at: datetime | None


@dataclass(frozen=True)
class LastRun:
    stage: str
    started_at: datetime
    finished_at: datetime | None
    done: int
    failed: int


@dataclass
class Status:
    """What `podarchive status` prints."""

    feeds: int = 0
    episodes: int = 0
    awaiting_download: int = 0
    awaiting_transcript: int = 0
    transcribed: int = 0
    episodes_failing: int = 0
    index_ops_queued: int = 0
    backlog_audio_seconds: float = 0.0
    speed_x_realtime: float | None = None
    failing_feeds: list[FailingFeed] = field(default_factory=list)
    # (episode id, error) of chapters files that could not be fetched or read, newest first.
    failing_chapters: list[tuple[int, str]] = field(default_factory=list)
    last_runs: list[LastRun] = field(default_factory=list)
    # Search by meaning: the model in use (None: turned off) and what waits for its vectors.
    embedder_model: str | None = None
    vectors: store.VectorBacklog | None = None

    @property
    def eta_seconds(self) -> float | None:
        """Time to transcribe the backlog at the measured speed."""
        if not self.speed_x_realtime:
            return None
        return self.backlog_audio_seconds / self.speed_x_realtime


MAX_LISTED = 10


def status(session: Session, embedder_model: str | None = None) -> Status:
    """Counts per state, failing feeds, backlog, passages waiting for vectors of `embedder_model`, last runs."""
    has_transcript = select(Transcript.id).where(Transcript.episode_id == Episode.id).exists()
    st = Status()
    st.feeds = session.scalar(select(func.count(Feed.id))) or 0
    st.episodes = session.scalar(select(func.count(Episode.id))) or 0
    st.awaiting_download = (
        session.scalar(
            select(func.count(Episode.id))
            .outerjoin(AudioFile)
            .where(AudioFile.id.is_(None), Episode.enclosure_url.is_not(None))
        )
        or 0
    )
    st.awaiting_transcript = session.scalar(select(func.count(Episode.id)).join(AudioFile).where(~has_transcript)) or 0
    st.backlog_audio_seconds = float(
        session.scalar(select(func.coalesce(func.sum(AudioFile.duration), 0.0)).join(Episode).where(~has_transcript))
        or 0.0
    )
    st.transcribed = session.scalar(select(func.count(Episode.id)).where(has_transcript)) or 0
    st.episodes_failing = session.scalar(select(func.count(Episode.id)).where(Episode.last_error.is_not(None))) or 0
    st.index_ops_queued = session.scalar(select(func.count(IndexOutbox.id))) or 0
    audio, taken = session.execute(
        select(func.sum(Transcript.duration), func.sum(Transcript.seconds_taken)).where(Transcript.seconds_taken > 0)
    ).one()
    st.speed_x_realtime = float(audio) / float(taken) if audio and taken else None
    st.failing_feeds = [
        FailingFeed(f.id, f.url, f.error_count, f.last_error, f.next_poll_at)
        for f in session.scalars(select(Feed).where(Feed.error_count > 0).order_by(Feed.id))
    ]
    st.failing_chapters = [
        (eid, error or "")
        for eid, error in session.execute(
            select(Episode.id, Episode.chapters_error)
            .where(Episode.chapters_error.is_not(None))
            .order_by(Episode.id.desc())
            .limit(MAX_LISTED)
        )
    ]
    if embedder_model is not None:
        st.embedder_model = embedder_model
        st.vectors = store.vector_backlog(session, visible_texts(), embedder_model)
    latest = select(StageRun.stage, func.max(StageRun.id).label("id")).group_by(StageRun.stage).subquery()
    st.last_runs = [
        LastRun(r.stage, r.started_at, r.finished_at, r.done, r.failed)
        for r in session.scalars(select(StageRun).join(latest, StageRun.id == latest.c.id).order_by(StageRun.stage))
    ]
    return st
